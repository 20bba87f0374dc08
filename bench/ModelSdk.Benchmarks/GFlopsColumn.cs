using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ModelSdk.Benchmarks;

/// <summary>
/// GFLOP/s at the median time, for benchmark classes that declare their work as a public static
/// <c>FlopsPerRun</c> property (the MatMul and the FMA probe).
/// </summary>
public sealed class GFlopsColumn : IColumn
{
    public string Id => nameof(GFlopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => false;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Floating-point operations per second at the median time (MatMul: 2·1024³ per run)";

    /// <summary>The flops of one run of the benchmark's class, or null when it declares none.</summary>
    public static double? FlopsPerRun(Type type)
        => type.GetProperty("FlopsPerRun", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as double?;

    /// <summary>GFLOP/s of a case at its median time, or null.</summary>
    public static double? GFlops(Summary summary, BenchmarkCase benchmarkCase)
        => FlopsPerRun(benchmarkCase.Descriptor.Type) is { } flops && summary[benchmarkCase]?.ResultStatistics?.Median is { } nanoseconds
            ? flops / nanoseconds
            : null;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        => GFlops(summary, benchmarkCase)?.ToString("F1", CultureInfo.InvariantCulture) ?? "-";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => FlopsPerRun(c.Descriptor.Type) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
