using System.Globalization;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Passes;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Quantization;

/// <summary>What the quantization step gathered before the rewrite.</summary>
/// <param name="Calibration">Ranges of the activations (int8 only).</param>
/// <param name="ValidationSamples">Samples of <c>ValidationData</c>, or -1 when none was given.</param>
public sealed record QuantizationInputs(CalibrationResult? Calibration, int ValidationSamples)
{
    /// <summary>The calibration data (int8 only), read again to measure the quantized model.</summary>
    public SampleDataSet? CalibrationData { get; init; }

    /// <summary>The labelled validation data, when given.</summary>
    public SampleDataSet? ValidationData { get; init; }
}

/// <summary>The quantized model: its plan, the rewritten layers and what quantization cost.</summary>
/// <param name="Plan">The quantized plan and weights.</param>
/// <param name="Evaluation">The measurements of the report.</param>
/// <param name="Report">The markdown section for the build report.</param>
/// <param name="Summary">The line for the build output.</param>
public sealed record QuantizedModel(PlanWithWeights Plan, QuantizationEvaluation Evaluation, string Report, string Summary);

/// <summary>
/// The quantization step of a compile. <see cref="Prepare"/> checks everything a quantized build needs —
/// the options, the calibration and validation data (read in full, so their errors surface now) — and
/// runs calibration. For int8, <see cref="QuantizeInt8"/> then rewrites the graph (<see cref="Int8Rewrite"/>)
/// and measures the result; fp16 and bf16 go to <see cref="HalfPrecisionStage"/> instead.
/// </summary>
public static class QuantizationStage
{
    /// <summary>
    /// Prepares quantization for <paramref name="options"/>.<see cref="CompileOptions.Quantize"/> ≠ none. Warnings
    /// go to <paramref name="diagnostics"/>, the data files to <paramref name="dependencies"/> (so that the
    /// build recompiles when they change); errors throw <see cref="CompileException"/>.
    /// </summary>
    public static QuantizationInputs Prepare(Graph graph, CompileOptions options, ICollection<Diagnostic> diagnostics, ICollection<string> dependencies)
    {
        string? model = options.ModelPath;
        IReadOnlyList<DataInput> inputs = DataInput.Of(graph);
        CheckExcludedNames(graph, options, diagnostics);
        string mode = options.Quantize.ToString().ToLowerInvariant();

        CalibrationResult? calibration = null;
        if (options.Quantize == QuantizeMode.Int8)
        {
            if (string.IsNullOrWhiteSpace(options.CalibrationData))
            {
                throw new CompileException(new Diagnostic(DiagnosticCodes.InvalidQuantizationOptions, DiagnosticSeverity.Error,
                    "Quantize='int8' needs CalibrationData: a CSV with one representative input per row, or a folder of raw .bin tensors.", model));
            }

            SampleDataSet data = SampleDataSet.Open(options.CalibrationData, inputs, "CalibrationData", labelled: false, model);
            AddAll(dependencies, data.Dependencies);
            var exclude = new HashSet<string>(options.QuantizeExclude, StringComparer.Ordinal);
            if (!Calibrator.QuantizableNodes(graph, exclude).Any())
            {
                diagnostics.Add(new Diagnostic(DiagnosticCodes.NothingToQuantize, DiagnosticSeverity.Warning,
                    "Quantize='int8' was requested, but the model has no float32 Conv, Gemm or MatMul to quantize (after QuantizeExclude).", model));
            }

            calibration = Calibrator.Run(graph, data, Int8Rewrite.TensorsToCalibrate(graph, exclude),
                new CalibrationSettings(options.CalibrationMethod, options.CalibrationPercentile), model, diagnostics);
        }
        else if (!graph.Nodes.Any(n => n.Inputs.Any(v => v is { IsConstant: true, Type: ElementType.Float32 })))
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.NothingToQuantize, DiagnosticSeverity.Warning,
                $"Quantize='{mode}' was requested, but the model has no float32 weights to store at half size.", model));
        }

        int validationSamples = -1;
        SampleDataSet? validation = null;
        if (!string.IsNullOrWhiteSpace(options.ValidationData))
        {
            validation = SampleDataSet.Open(options.ValidationData, inputs, "ValidationData", labelled: true, model);
            AddAll(dependencies, validation.Dependencies);
            validationSamples = validation.Read().Count();
        }

        return new QuantizationInputs(calibration, validationSamples)
        {
            CalibrationData = calibration is null ? null : SampleDataSet.Open(options.CalibrationData!, inputs, "CalibrationData", labelled: false, model),
            ValidationData = validation,
        };
    }

    /// <summary>
    /// Rewrites <paramref name="graph"/> (after the pass pipeline without epilogue fusion, already calibrated by <see cref="Prepare"/>)
    /// to int8, builds the quantized plan, and measures it against the float model on the calibration and
    /// validation data. <paramref name="graph"/> is changed in place.
    /// </summary>
    public static QuantizedModel QuantizeInt8(Graph graph, QuantizationInputs prepared, CompileOptions options, string sourceSha256, ICollection<Diagnostic> diagnostics)
    {
        string? model = options.ModelPath;
        CalibrationResult calibration = prepared.Calibration ?? throw new InvalidOperationException("int8 needs calibration.");
        var exclude = new HashSet<string>(options.QuantizeExclude, StringComparer.Ordinal);
        PlanWithWeights floatEvaluation = PlanBuilder.Build(graph, OperatorRegistry.Default, sourceSha256, model, reuseArena: false);
        long floatBytes = QuantizationEvaluation.ConstantBytes(graph);

        IReadOnlyList<QuantizedLayer> layers = Int8Rewrite.Apply(graph, calibration, exclude);
        new ShapeInferencePass(OperatorRegistry.Default, model).Run(graph);
        new QdqFusionPass(OperatorRegistry.Default, model).Run(graph);
        new DeadCodePass().Run(graph);
        PassPipeline.RunLate(graph, OperatorRegistry.Default); // the layers left float (excluded, unsupported) still fuse
        if (layers.Count == 0 && Calibrator.QuantizableNodes(graph, exclude).Any())
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.NothingToQuantize, DiagnosticSeverity.Warning,
                "Quantize='int8' found no Conv, Gemm or MatMul it can quantize: each needs constant float32 weights and a calibrated float32 input (Gemm without transA and with a per-column bias).", model));
        }

        PlanWithWeights plan = PlanBuilder.Build(graph, OperatorRegistry.Default, sourceSha256, model);
        PlanWithWeights quantizedEvaluation = PlanBuilder.Build(graph, OperatorRegistry.Default, sourceSha256, model, reuseArena: false);
        QuantizationEvaluation evaluation = QuantizationEvaluation.Measure(floatEvaluation, quantizedEvaluation, layers,
            floatBytes, QuantizationEvaluation.ConstantBytes(graph), options.CalibrationMethod,
            prepared.CalibrationData!, prepared.ValidationData);
        string exclusions = string.Join(", ", options.QuantizeExclude.Select(n => $"`{n}`"));
        return new QuantizedModel(plan, evaluation, evaluation.ToMarkdown(exclusions), evaluation.Summary(Path.GetFileName(model)));
    }

    private static void CheckExcludedNames(Graph graph, CompileOptions options, ICollection<Diagnostic> diagnostics)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Node node in graph.Nodes)
        {
            names.Add(node.Name);
            names.UnionWith(node.Inputs.Where(v => v is not null).Select(v => v!.Name));
            names.UnionWith(node.Outputs.Select(v => v.Name));
        }

        foreach (string name in options.QuantizeExclude.Where(n => !names.Contains(n)))
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.InvalidQuantizationOptions, DiagnosticSeverity.Warning,
                $"QuantizeExclude names '{name}', which is neither a node nor a tensor of the model (after fusion); it has no effect. `modelsdk inspect` lists the model.", options.ModelPath));
        }
    }

    private static void AddAll(ICollection<string> target, IEnumerable<string> items)
    {
        foreach (string item in items)
        {
            if (!target.Contains(item))
            {
                target.Add(item);
            }
        }
    }
}
