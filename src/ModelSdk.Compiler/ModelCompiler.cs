using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Import;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Quantization;
using ModelSdk.Compiler.Reports;
using ModelSdk.Plan;

namespace ModelSdk.Compiler;

/// <summary>A model after import, validation, shape inference and folding (what <c>modelsdk inspect</c> shows).</summary>
public sealed record AnalysisResult(
    Graph? Graph,
    string? SourceSha256,
    IReadOnlyDictionary<string, int> OperatorHistogram,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<string> Dependencies)
{
    /// <summary>Whether the model passed every check.</summary>
    public bool Succeeded => Graph is not null;
}

/// <summary>A compiled model: the plan (object and text), the weights payload, the report, and every diagnostic.</summary>
public sealed record CompileResult(
    CompiledPlan? Plan,
    string? PlanText,
    byte[]? Weights,
    string? Report,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<string> Dependencies)
{
    /// <summary>Whether the model compiled.</summary>
    public bool Succeeded => Plan is not null;

    /// <summary>For a quantized model, the one-line summary of what quantization cost (the report has the details).</summary>
    public string? QuantizationSummary { get; init; }

    /// <summary>For an int8 model, what quantization cost, as measured for the report.</summary>
    public QuantizationEvaluation? Quantization { get; init; }

    /// <summary>The weights blob as written next to the plan: header, then payload.</summary>
    public byte[] WeightsBlob()
    {
        byte[] payload = Weights ?? throw new InvalidOperationException("The model did not compile.");
        byte[] header = Runtime.WeightsBlob.CreateHeader(payload);
        return [.. header, .. payload];
    }
}

/// <summary>The compiler's entry points. They never throw for a bad model: problems come back as diagnostics.</summary>
public static class ModelCompiler
{
    /// <summary>Imports, validates and infers the model.</summary>
    public static AnalysisResult Analyze(CompileOptions options)
    {
        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<string> dependencies = [Path.GetFullPath(options.ModelPath)];
        var histogram = new SortedDictionary<string, int>(StringComparer.Ordinal);
        Graph? graph = Guard(options, diagnostics, () =>
        {
            ImportResult imported = OnnxImporter.Import(options.ModelPath, InputShapeSpec.Parse(options.InputShapes, options.ModelPath));
            diagnostics.AddRange(imported.Warnings);
            dependencies = imported.Dependencies;
            foreach (Node node in imported.Graph.Nodes)
            {
                string key = node.Domain.Length == 0 ? node.OpType : $"{node.Domain}.{node.OpType}";
                histogram[key] = histogram.GetValueOrDefault(key) + 1;
            }

            PassPipeline.Run(imported.Graph, OperatorRegistry.Default, options.ModelPath);
            return (imported.Graph, imported.Sha256);
        }, out string? sha);
        return new AnalysisResult(graph, sha, histogram, diagnostics, dependencies);
    }

    /// <summary>Compiles the model to a plan and weights.</summary>
    public static CompileResult Compile(CompileOptions options)
    {
        var diagnostics = new List<Diagnostic>();
        IReadOnlyList<string> dependencies = [Path.GetFullPath(options.ModelPath)];
        PlanWithWeights? built = null;
        string? report = null;
        string? planText = null;
        HalfPrecisionReport? halfPrecision = null;
        QuantizedModel? quantized = null;
        Guard(options, diagnostics, () =>
        {
            ImportResult imported = OnnxImporter.Import(options.ModelPath, InputShapeSpec.Parse(options.InputShapes, options.ModelPath));
            diagnostics.AddRange(imported.Warnings);
            dependencies = imported.Dependencies;
            PassPipeline.Run(imported.Graph, OperatorRegistry.Default, options.ModelPath, fuseEpilogues: options.Quantize != QuantizeMode.Int8);
            PlanWithWeights plan = PlanBuilder.Build(imported.Graph, OperatorRegistry.Default, imported.Sha256, options.ModelPath);
            if (options.Quantize != QuantizeMode.None)
            {
                var all = new List<string>(imported.Dependencies);
                dependencies = all; // plus the data files: the .deps stamps of a successful quantized compile must cover them
                QuantizationInputs prepared = QuantizationStage.Prepare(imported.Graph, options, diagnostics, all);
                if (options.Quantize == QuantizeMode.Int8)
                {
                    quantized = QuantizationStage.QuantizeInt8(imported.Graph, prepared, options, imported.Sha256, diagnostics);
                    plan = quantized.Plan;
                }
                else
                {
                    halfPrecision = HalfPrecisionStage.Run(imported.Graph, plan, options, diagnostics, all);
                    plan = halfPrecision.Rewrite.Built;
                }
            }

            built = plan;
            planText = PlanWriter.Write(built.Plan);
            PlanReader.Read(planText); // the generator must accept every plan the compiler writes
            report = MarkdownReport.Create(imported.Graph, built, OperatorRegistry.Default, options) + quantized?.Report + halfPrecision?.Markdown();
            return (imported.Graph, imported.Sha256);
        }, out _);
        return built is null
            ? new CompileResult(null, null, null, null, diagnostics, dependencies)
            : new CompileResult(built.Plan, planText, built.Weights, report, diagnostics, dependencies)
            {
                QuantizationSummary = quantized?.Summary ?? (halfPrecision is null ? null : $"modelsdk: {Path.GetFileName(options.ModelPath)}: {halfPrecision.Summary()}"),
                Quantization = quantized?.Evaluation,
            };
    }

    private static Graph? Guard(CompileOptions options, List<Diagnostic> diagnostics, Func<(Graph, string)> body, out string? sha)
    {
        sha = null;
        try
        {
            (Graph graph, sha) = body();
            return graph;
        }
        catch (CompileException e)
        {
            diagnostics.Add(e.Diagnostic);
        }
        catch (Exception e) when (e is OverflowException or OutOfMemoryException or InsufficientExecutionStackException)
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.LimitExceeded, DiagnosticSeverity.Error,
                $"the model exceeds a size limit of the compiler ({e.Message}).", options.ModelPath));
        }
        catch (Exception e)
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.InternalError, DiagnosticSeverity.Error,
                $"internal compiler error: {e.GetType().Name}: {e.Message}. Please report this with the model.", options.ModelPath));
        }

        return null;
    }
}
