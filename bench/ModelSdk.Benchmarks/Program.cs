// ModelSdk against ONNX Runtime. Usage (see bench/README.md):
//   dotnet run -c Release --project bench/ModelSdk.Benchmarks -- --filter '*' [--job short] [BenchmarkDotNet options]
// Benchmarks run in this process (BenchmarkDotNet's in-process toolchain): the default toolchain would
// rebuild this project from a generated one, outside the build that compiled the models.
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ModelSdk.Benchmarks;

if (args is ["--check"])
{
    // Both sides must compute the same outputs from the same inputs, or the timings compare nothing.
    bool ok = true;
    foreach (Type type in typeof(ModelBenchmark).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ModelBenchmark)) && !t.IsAbstract))
    {
        using var benchmark = (ModelBenchmark)Activator.CreateInstance(type)!;
        double error = benchmark.CompareOutputs();
        ok &= error <= benchmark.Tolerance;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{type.Name,-32} {benchmark.Measure} ModelSdk vs ONNX Runtime: {error:E2} (at most {benchmark.Tolerance:G3}){(error <= benchmark.Tolerance ? "" : "  FAIL")}"));
    }

    return ok ? 0 : 1;
}

if (args is ["--paired", ..])
{
    return Paired.Run(args[1..]);
}

// BenchmarkDotNet ignores --job when the config brings its own default job, so it is read here.
var rest = new List<string>();
Job job = Job.Default;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--job" or "-j" && i + 1 < args.Length)
    {
        job = args[++i].ToLowerInvariant() switch
        {
            "dry" => Job.Dry,
            "short" => Job.ShortRun,
            "medium" => Job.MediumRun,
            "long" => Job.LongRun,
            "default" => Job.Default,
            string other => throw new ArgumentException($"Unknown job '{other}': dry, short, medium, long or default."),
        };
    }
    else
    {
        rest.Add(args[i]);
    }
}

IConfig config = DefaultConfig.Instance
    .AddJob(job.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
    .AddColumn(StatisticColumn.Median, new GFlopsColumn())
    .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));

Console.WriteLine($"Load average before: {Format.LoadAverage()}");
Summary[] summaries = BenchmarkSwitcher.FromAssembly(typeof(PeakFlops).Assembly).Run([.. rest], config).ToArray();
Console.WriteLine($"Load average after: {Format.LoadAverage()}");
ReportTable(summaries);
ReportEfficiency(summaries);
ReportInt8(summaries);
return 0;

// int8 against float on ModelSdk's side (issue 5): the MatMul's throughput ratio, the latency ratios of the
// MLP and the digits CNN, whether quantized by the build (Int8) or read in QDQ form (Qdq).
static void ReportInt8(Summary[] summaries)
{
    var medians = summaries.SelectMany(s => s.Reports)
        .Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ModelBenchmark.ModelSdk) && r.ResultStatistics is not null)
        .ToDictionary(r => (r.BenchmarkCase.Descriptor.Type, (int)r.BenchmarkCase.Parameters["Threads"]), r => r.ResultStatistics!.Median);
    (Type Int8, Type Float)[] pairs =
    [
        (typeof(MatMul1024QdqBenchmark), typeof(MatMul1024Benchmark)),
        (typeof(MlpBatch1Int8Benchmark), typeof(MlpBatch1Benchmark)),
        (typeof(MlpBatch1QdqBenchmark), typeof(MlpBatch1Benchmark)),
        (typeof(DigitsCnnInt8Benchmark), typeof(DigitsCnnBenchmark)),
        (typeof(DigitsCnnQdqBenchmark), typeof(DigitsCnnBenchmark)),
    ];
    bool header = false;
    foreach ((Type int8, Type fp32) in pairs)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            if (medians.TryGetValue((int8, threads), out double q) && medians.TryGetValue((fp32, threads), out double f))
            {
                if (!header)
                {
                    Console.WriteLine("| ModelSdk int8 | Threads | float median | int8 median | int8/float latency | float/int8 throughput |");
                    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
                    header = true;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {int8.Name.Replace("Benchmark", "", StringComparison.Ordinal)} | {threads} | {f / 1e3:F1} µs | {q / 1e3:F1} µs | {q / f:F2} | {f / q:F2}× |"));
            }
        }
    }
}

// One Markdown table over every model (BenchmarkDotNet writes one per class): the medians of both sides,
// their ratio, and the bytes each allocated per run. docs/benchmarks.md records it.
static void ReportTable(Summary[] summaries)
{
    var rows = summaries.SelectMany(s => s.Reports)
        .Where(r => r.BenchmarkCase.Descriptor.Type.IsSubclassOf(typeof(ModelBenchmark)) && r.ResultStatistics is not null)
        .GroupBy(r => (Type: r.BenchmarkCase.Descriptor.Type, Threads: (int)r.BenchmarkCase.Parameters["Threads"]))
        .ToList();
    if (rows.Count == 0)
    {
        return;
    }

    Console.WriteLine();
    Console.WriteLine("| Model | Threads | ONNX Runtime median | ModelSdk median | ModelSdk/ORT | ORT allocated/run | ModelSdk allocated/run |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
    foreach (var row in rows)
    {
        BenchmarkReport? ort = row.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ModelBenchmark.OnnxRuntime));
        BenchmarkReport? sdk = row.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ModelBenchmark.ModelSdk));
        double? ortMedian = ort?.ResultStatistics?.Median, sdkMedian = sdk?.ResultStatistics?.Median;
        string ratio = ortMedian is { } o && sdkMedian is { } m ? (m / o).ToString("F2", CultureInfo.InvariantCulture) : "-";
        Console.WriteLine($"| {row.Key.Type.Name.Replace("Benchmark", "", StringComparison.Ordinal)} | {row.Key.Threads} | {Format.Time(ortMedian)} | {Format.Time(sdkMedian)} | {ratio} | {Bytes(ort)} | {Bytes(sdk)} |");
    }

    Console.WriteLine();

    static string Bytes(BenchmarkReport? report)
        => report?.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) is { } bytes ? $"{bytes} B" : "-";
}

// The MatMul's GFLOP/s as a share of the probe's peak, when both ran in this invocation.
static void ReportEfficiency(Summary[] summaries)
{
    var cases = summaries.SelectMany(s => s.BenchmarksCases.Select(c => (Summary: s, Case: c))).ToList();
    double? peak = cases.Where(x => x.Case.Descriptor.Type == typeof(PeakFlops)).Select(x => GFlopsColumn.GFlops(x.Summary, x.Case)).FirstOrDefault();
    if (peak is null)
    {
        return;
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Peak FP32 (one core, FMA probe): {peak:F1} GFLOP/s"));
    foreach (var (summary, c) in cases.Where(x => x.Case.Descriptor.Type == typeof(MatMul1024Benchmark)))
    {
        if (GFlopsColumn.GFlops(summary, c) is { } gflops)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MatMul 1024³ {c.Descriptor.WorkloadMethod.Name}, {c.Parameters.PrintInfo}: {gflops:F1} GFLOP/s = {100 * gflops / peak:F0}% of one core's peak"));
        }
    }
}
