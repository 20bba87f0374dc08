using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Compiler.Reports;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Quantization;

/// <summary>The fp16/bf16 section of the build report and the line of the build output.</summary>
/// <param name="Mode">fp16 or bf16.</param>
/// <param name="Rewrite">What was narrowed.</param>
/// <param name="Agreement">One entry per data set given (<c>CalibrationData</c>, then <c>ValidationData</c>); empty when none.</param>
public sealed record HalfPrecisionReport(QuantizeMode Mode, HalfPrecisionRewrite Rewrite, IReadOnlyList<OutputAgreement> Agreement)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private string ModeName => Mode.ToString().ToLowerInvariant();

    /// <summary>Weight bytes of the narrowed blob over the float blob (payloads, without the 64-byte header).</summary>
    public double WeightRatio => Rewrite.FloatWeightBytes == 0 ? 1 : (double)Rewrite.Built.Plan.WeightsBytes / Rewrite.FloatWeightBytes;

    /// <summary>
    /// Runs the float and the narrowed plan through the compiler's executor over the data sets of <paramref name="options"/>
    /// (single-threaded, so the numbers are the same from build to build).
    /// </summary>
    public static HalfPrecisionReport Measure(Graph graph, PlanWithWeights floatBuilt, HalfPrecisionRewrite rewrite, CompileOptions options, ICollection<string> dependencies)
    {
        IReadOnlyList<DataInput> inputs = DataInput.Of(graph);
        var agreement = new List<OutputAgreement>();
        foreach ((string option, string? spec, bool labelled) in new[] { ("CalibrationData", options.CalibrationData, false), ("ValidationData", options.ValidationData, true) })
        {
            if (string.IsNullOrWhiteSpace(spec))
            {
                continue;
            }

            SampleDataSet data = SampleDataSet.Open(spec, inputs, option, labelled, options.ModelPath);
            foreach (string file in data.Dependencies.Where(f => !dependencies.Contains(f)))
            {
                dependencies.Add(file);
            }

            agreement.Add(Compare(option, data, floatBuilt, rewrite.Built));
        }

        return new HalfPrecisionReport(options.Quantize, rewrite, agreement);
    }

    private static OutputAgreement Compare(string option, SampleDataSet data, PlanWithWeights reference, PlanWithWeights narrowed)
    {
        var comparison = new OutputComparison(reference.Plan);
        foreach (DataSample sample in data.Read())
        {
            byte[][] a = Executor.Run(reference.Plan, reference.Weights, sample.Inputs, Runtime.KernelContext.SingleThreaded);
            byte[][] b = Executor.Run(narrowed.Plan, narrowed.Weights, sample.Inputs, Runtime.KernelContext.SingleThreaded);
            comparison.Add(o => MemoryMarshal.Cast<byte, float>(a[o]), o => MemoryMarshal.Cast<byte, float>(b[o]), sample.Label);
        }

        return comparison.Result(option);
    }

    /// <summary>The section appended to the build report.</summary>
    public string Markdown()
    {
        CompiledPlan plan = Rewrite.Built.Plan;
        string format = Rewrite.Format.ToPlanName();
        long narrowedParams = Rewrite.Weights.Where(w => w.KeptBecause is null).Sum(w => w.Elements);
        var sb = new StringBuilder();
        sb.Append(Invariant, $"\n## Quantization: {ModeName}\n\n");
        sb.Append(Invariant, $"Float32 weights read by Conv, ConvTranspose, Gemm or MatMul, and other float32 constants of at least {HalfPrecision.MinimumElements} elements, ");
        sb.Append(Invariant, $"are stored as {format} (rounded to nearest, ties to even) and widened to float32 once, when the model loads; the kernels compute in float32.\n\n");
        sb.Append(Invariant, $"- Weight bytes: {Rewrite.FloatWeightBytes:N0} → {plan.WeightsBytes:N0} ({WeightRatio:0.00}×); {plan.LoadedWeightsBytes:N0} bytes in memory once loaded\n");
        sb.Append(Invariant, $"- Stored as {format}: {Rewrite.NarrowedCount} of {Rewrite.Weights.Count} float32 weight buffers, {narrowedParams:N0} of {plan.Cost.Parameters:N0} parameters\n");
        if (Agreement.Count == 0)
        {
            sb.Append("- Output error: not measured (give `CalibrationData` or `ValidationData` to compare the outputs with the float model's)\n");
        }
        else
        {
            sb.Append(Invariant, $"\n| data | samples | max abs output error | output relative L2 | top-1 agreement | accuracy float → {ModeName} |\n|---|---:|---:|---:|---:|---|\n");
            foreach (OutputAgreement a in Agreement)
            {
                string accuracy = a.Labelled == 0 ? "–" : $"{Percent(a.CorrectFloat, a.Labelled)} → {Percent(a.CorrectOther, a.Labelled)} ({a.Labelled} labelled)";
                sb.Append(Invariant, $"| {a.Option} | {a.Samples:N0} | {Number(a.MaxAbsError)} | {Number(a.RelativeL2)} | {Top1(a)} | {accuracy} |\n");
            }
        }

        sb.Append(Invariant, $"\n| weight | elements | stored as | max abs error | relative L2 |\n|---|---:|---|---:|---:|\n");
        foreach (NarrowedWeight w in Rewrite.Weights)
        {
            string stored = w.KeptBecause is null ? w.StoredType.ToPlanName() : $"float32 ({w.KeptBecause})";
            string errors = w.KeptBecause is null ? $"{Number(w.MaxAbsError)} | {Number(w.RelativeL2)}" : "– | –";
            sb.Append(Invariant, $"| `{MarkdownReport.Escape(w.Name)}` | {w.Elements:N0} | {stored} | {errors} |\n");
        }

        return sb.ToString();
    }

    /// <summary>One line for the build output.</summary>
    public string Summary()
    {
        string weights = string.Create(Invariant, $"{ModeName}: weights {Rewrite.FloatWeightBytes:N0} → {Rewrite.Built.Plan.WeightsBytes:N0} bytes ({WeightRatio:0.00}×)");
        if (Agreement.Count == 0)
        {
            return weights + "; output error not measured (no CalibrationData or ValidationData)";
        }

        OutputAgreement first = Agreement[0];
        string line = string.Create(Invariant, $"{weights}; max abs output error {Number(first.MaxAbsError)}, top-1 agreement {Top1(first)} over {first.Samples:N0} samples of {first.Option}");
        OutputAgreement? validation = Agreement.FirstOrDefault(a => a.Labelled > 0);
        return validation is null ? line
            : line + string.Create(Invariant, $"; accuracy {Percent(validation.CorrectFloat, validation.Labelled)} float, {Percent(validation.CorrectOther, validation.Labelled)} {ModeName}");
    }

    private static string Top1(OutputAgreement a) => a.Top1Rows == 0 ? "–" : Percent(a.Top1Agreeing, a.Top1Rows);

    private static string Percent(long part, long whole) => string.Create(Invariant, $"{100.0 * part / whole:0.0}%");

    private static string Number(double value) => double.IsPositiveInfinity(value) ? "∞ (NaN in one output)" : value.ToString("0.00e+00", Invariant);
}
