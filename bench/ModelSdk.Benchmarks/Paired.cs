using System.Diagnostics;
using System.Globalization;

namespace ModelSdk.Benchmarks;

/// <summary>
/// <c>--paired</c>: both sides of each model timed in alternating blocks in one process, so that a change in
/// the machine's speed while the program runs (a shared virtual machine's other tenants) reaches both sides alike.
/// BenchmarkDotNet measures one case after the other; on a machine whose speed drifts by 10–40% within minutes,
/// a ratio of two such medians moves with the drift. Here each round times a block of ONNX Runtime runs and a
/// block of ModelSdk runs back to back (the order alternating between rounds), and the report gives the median
/// of the per-round ratios beside the medians of each side.
/// </summary>
internal static class Paired
{
    /// <summary>Usage: <c>--paired [--filter text] [--rounds n] [--block ms]</c>; the filter matches the model's class name (case-insensitive substring).</summary>
    public static int Run(string[] args)
    {
        string filter = "";
        int rounds = 15;
        double blockMs = 25;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--filter" when i + 1 < args.Length:
                    filter = args[++i].Trim('*');
                    break;
                case "--rounds" when i + 1 < args.Length:
                    rounds = Math.Max(3, int.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                case "--block" when i + 1 < args.Length:
                    blockMs = Math.Max(1, double.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                default:
                    Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: --paired [--filter text] [--rounds n] [--block ms]");
                    return 2;
            }
        }

        Type[] types = typeof(ModelBenchmark).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(ModelBenchmark)) && !t.IsAbstract && t.Name.Contains(filter, StringComparison.OrdinalIgnoreCase))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToArray();
        Console.WriteLine($"Paired runs: {rounds} rounds of {blockMs} ms blocks per side; load average before: {Format.LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| Model | Threads | ONNX Runtime median | ModelSdk median | ModelSdk/ORT (median of rounds) | range over rounds |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (Type type in types)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                using var benchmark = (ModelBenchmark)Activator.CreateInstance(type)!;
                benchmark.Threads = threads;
                benchmark.SetupOnnxRuntime();
                benchmark.SetupModelSdk();
                Action ort = benchmark.OnnxRuntime, sdk = benchmark.ModelSdk;

                // Warm both (tiered compilation, caches), then size a block to about blockMs on each side.
                RunsFor(ort, 300);
                RunsFor(sdk, 300);
                int ortRuns = RunsFor(ort, blockMs), sdkRuns = RunsFor(sdk, blockMs);
                var ortTimes = new double[rounds];
                var sdkTimes = new double[rounds];
                var ratios = new double[rounds];
                for (int r = 0; r < rounds; r++)
                {
                    // A pause before each block lets the other side's threads finish spinning and go to sleep
                    // (ModelSdk's workers spin for about 20 ms after a run, ONNX Runtime's for a while too).
                    int pause = threads > 1 ? 60 : 5;
                    if (r % 2 == 0)
                    {
                        ortTimes[r] = Block(ort, ortRuns, pause);
                        sdkTimes[r] = Block(sdk, sdkRuns, pause);
                    }
                    else
                    {
                        sdkTimes[r] = Block(sdk, sdkRuns, pause);
                        ortTimes[r] = Block(ort, ortRuns, pause);
                    }

                    ratios[r] = sdkTimes[r] / ortTimes[r];
                }

                Array.Sort(ratios);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {type.Name.Replace("Benchmark", "", StringComparison.Ordinal)} | {threads} | {Format.Time(Median(ortTimes) * 1e9)} | {Format.Time(Median(sdkTimes) * 1e9)} | {Median(ratios):F2} | {ratios[0]:F2}–{ratios[^1]:F2} |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Load average after: {Format.LoadAverage()}");
        return 0;
    }

    private static int RunsFor(Action run, double milliseconds)
    {
        var clock = Stopwatch.StartNew();
        int runs = 0;
        while (clock.Elapsed.TotalMilliseconds < milliseconds)
        {
            run();
            runs++;
        }

        return Math.Max(runs, 1);
    }

    /// <summary>Seconds per run over <paramref name="runs"/> runs, after a pause of <paramref name="pauseMs"/>.</summary>
    private static double Block(Action run, int runs, int pauseMs)
    {
        Thread.Sleep(pauseMs);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < runs; i++)
        {
            run();
        }

        return Stopwatch.GetElapsedTime(start).TotalSeconds / runs;
    }

    private static double Median(double[] values)
    {
        double[] sorted = [.. values];
        Array.Sort(sorted);
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
