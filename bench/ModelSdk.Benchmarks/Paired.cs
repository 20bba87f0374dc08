using System.Diagnostics;
using System.Globalization;

namespace ModelSdk.Benchmarks;

/// <summary>
/// <c>--paired</c>: both sides of each model timed in alternating blocks in one process, so that a change in
/// the machine's speed while the program runs (a shared virtual machine's other tenants) reaches both sides alike.
/// BenchmarkDotNet measures one case after the other; on a machine whose speed drifts by 10–40% within minutes,
/// a ratio of two such medians moves with the drift. Here each round times, for every model and thread count in
/// turn, a block of ONNX Runtime runs and a block of ModelSdk runs back to back (the order alternating between
/// rounds), and the report gives the median of the per-round ratios beside the medians of each side.
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

        // Every case is set up, warmed and sized first; then each round visits every case once, one-thread cases
        // first. A case's rounds are thus spread over the whole run, and a slow spell of the machine (a virtual CPU
        // that runs at half speed for a minute) touches a few rounds of every case instead of all rounds of one.
        var cases = new List<Case>();
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                foreach (Type type in types)
                {
                    var benchmark = (ModelBenchmark)Activator.CreateInstance(type)!;
                    cases.Add(new Case(type, threads, benchmark, rounds));
                    benchmark.Threads = threads;
                    benchmark.SetupOnnxRuntime();
                    benchmark.SetupModelSdk();
                }
            }

            foreach (Case c in cases)
            {
                // Warm both (tiered compilation, caches), then size a block to about blockMs on each side.
                RunsFor(c.Benchmark.OnnxRuntime, 300);
                RunsFor(c.Benchmark.ModelSdk, 300);
                c.OrtRuns = RunsFor(c.Benchmark.OnnxRuntime, blockMs);
                c.SdkRuns = RunsFor(c.Benchmark.ModelSdk, blockMs);
            }

            bool threadsWereBusy = false;
            for (int r = 0; r < rounds; r++)
            {
                foreach (Case c in cases)
                {
                    // A pause before each block lets threads of the block before finish spinning and go to sleep
                    // (ModelSdk's workers spin for about 20 ms after a run, ONNX Runtime's for a while too).
                    int pause = c.Threads > 1 || threadsWereBusy ? 60 : 5;
                    if (r % 2 == 0)
                    {
                        c.OrtTimes[r] = Block(c.Benchmark.OnnxRuntime, c.OrtRuns, pause);
                        c.SdkTimes[r] = Block(c.Benchmark.ModelSdk, c.SdkRuns, pause);
                    }
                    else
                    {
                        c.SdkTimes[r] = Block(c.Benchmark.ModelSdk, c.SdkRuns, pause);
                        c.OrtTimes[r] = Block(c.Benchmark.OnnxRuntime, c.OrtRuns, pause);
                    }

                    c.Ratios[r] = c.SdkTimes[r] / c.OrtTimes[r];
                    threadsWereBusy = c.Threads > 1;
                }
            }

            Console.WriteLine("| Model | Threads | ONNX Runtime median | ModelSdk median | ModelSdk/ORT (median of rounds) | range over rounds |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (Case c in cases.OrderBy(c => c.Type.Name, StringComparer.Ordinal).ThenBy(c => c.Threads))
            {
                double[] ratios = [.. c.Ratios];
                Array.Sort(ratios);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {c.Type.Name.Replace("Benchmark", "", StringComparison.Ordinal)} | {c.Threads} | {Format.Time(Median(c.OrtTimes) * 1e9)} | {Format.Time(Median(c.SdkTimes) * 1e9)} | {Median(ratios):F2} | {ratios[0]:F2}–{ratios[^1]:F2} |"));
            }
        }
        finally
        {
            foreach (Case c in cases)
            {
                c.Benchmark.Dispose();
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Load average after: {Format.LoadAverage()}");
        return 0;
    }

    /// <summary>One model at one thread count: its benchmark, block sizes and per-round timings.</summary>
    private sealed class Case(Type type, int threads, ModelBenchmark benchmark, int rounds)
    {
        public Type Type { get; } = type;

        public int Threads { get; } = threads;

        public ModelBenchmark Benchmark { get; } = benchmark;

        public int OrtRuns { get; set; }

        public int SdkRuns { get; set; }

        public double[] OrtTimes { get; } = new double[rounds];

        public double[] SdkTimes { get; } = new double[rounds];

        public double[] Ratios { get; } = new double[rounds];
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
