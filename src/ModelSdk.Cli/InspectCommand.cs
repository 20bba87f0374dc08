using ModelSdk.Compiler;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Reports;
using ModelSdk.Plan;

namespace ModelSdk.Cli;

/// <summary><c>modelsdk inspect</c>: the build's import, validation and shape inference, printed.</summary>
internal static class InspectCommand
{
    public static int Run(Arguments args, TextWriter stdout)
    {
        string model = args.Single("MODEL");
        AnalysisResult result = ModelCompiler.Analyze(new CompileOptions(model) { InputShapes = args.Optional("--input-shapes") });
        foreach (Diagnostic d in result.Diagnostics)
        {
            stdout.WriteLine(d.ToCanonicalString());
        }

        if (result.Graph is not { } graph)
        {
            return CommandLine.Failed;
        }

        stdout.WriteLine($"Model: {model}");
        stdout.WriteLine($"Graph: {graph.Name} (opset {graph.Opset})");
        stdout.WriteLine("Inputs:");
        foreach (Value v in graph.Inputs)
        {
            stdout.WriteLine($"  {v.Name}  {v.Type.ToPlanName()}{Shapes.Format(v.KnownShape)}");
        }

        stdout.WriteLine("Outputs:");
        foreach (Value v in graph.Outputs)
        {
            stdout.WriteLine($"  {v.Name}  {v.Type.ToPlanName()}{Shapes.Format(v.KnownShape)}");
        }

        stdout.WriteLine("Operators:");
        foreach ((string op, int count) in result.OperatorHistogram.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            stdout.WriteLine($"  {op,-24} {count,6}");
        }

        (long parameters, long macs) = GraphStatistics.Totals(graph, OperatorRegistry.Default);
        stdout.WriteLine($"Nodes after folding: {graph.Nodes.Count}");
        stdout.WriteLine($"Parameters: {parameters:N0}");
        stdout.WriteLine($"MACs: {macs:N0}");
        return CommandLine.Ok;
    }
}
