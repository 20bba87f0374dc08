using System.Globalization;
using System.Text;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Compiler.Operators;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Reports;

/// <summary>The build report written next to each plan: per node operator, output shape, parameters and MACs, then totals.</summary>
public static class MarkdownReport
{
    /// <summary>Formats the report. Deterministic: no dates, no absolute paths.</summary>
    public static string Create(Graph graph, PlanWithWeights built, OperatorRegistry registry, CompileOptions options)
    {
        CompiledPlan plan = built.Plan;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# {Escape(graph.Name)}: ModelSdk build report\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Model: `{Escape(Path.GetFileName(options.ModelPath))}` (sha256 `{plan.SourceSha256[..16]}…`), opset {graph.Opset}\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Compiler: ModelSdk {plan.CompilerVersion}\n");
        if (!string.IsNullOrWhiteSpace(options.InputShapes))
        {
            sb.Append(CultureInfo.InvariantCulture, $"- InputShapes: `{Escape(options.InputShapes!)}`\n");
        }

        sb.Append("\n## Inputs and outputs\n\n| | name | type | shape |\n|---|---|---|---|\n");
        foreach (PlanValue v in plan.Inputs)
        {
            PlanTensor t = plan.Tensors[v.TensorId];
            sb.Append(CultureInfo.InvariantCulture, $"| input | `{Escape(v.Name)}` | {t.Type.ToPlanName()} | {Shapes.Format(t.Shape)} |\n");
        }

        foreach (PlanValue v in plan.Outputs)
        {
            PlanTensor t = plan.Tensors[v.TensorId];
            sb.Append(CultureInfo.InvariantCulture, $"| output | `{Escape(v.Name)}` | {t.Type.ToPlanName()} | {Shapes.Format(t.Shape)} |\n");
        }

        sb.Append("\n## Layers\n\n| # | node | operator | output shape | parameters | MACs |\n|---:|---|---|---|---:|---:|\n");
        long totalParams = 0, totalMacs = 0;
        int index = 0;
        foreach (Node node in graph.Nodes)
        {
            long macs = GraphStatistics.Macs(node, graph.Opset, registry);
            long parameters = GraphStatistics.Parameters(node);
            totalParams += parameters;
            totalMacs += macs;
            string shapes = string.Join(" ", node.Outputs.Where(o => o.Shape is not null && o.Name.Length > 0).Select(o => Shapes.Format(o.Shape!)));
            sb.Append(CultureInfo.InvariantCulture, $"| {index++} | `{Escape(node.Name)}` | {node.OpType} | {shapes} | {parameters:N0} | {macs:N0} |\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"| | **total** | | | **{totalParams:N0}** | **{totalMacs:N0}** |\n");
        sb.Append("\n## Memory\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Weights: {plan.WeightsBytes:N0} bytes ({plan.Cost.Parameters:N0} parameters)\n");
        long naive = built.UnplannedArenaBytes;
        sb.Append(CultureInfo.InvariantCulture, $"- Arena (intermediate tensors): {plan.ArenaBytes:N0} bytes, against {naive:N0} bytes if every intermediate had its own buffer\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Kernel calls per run: {plan.Steps.Count}\n");
        return sb.ToString();
    }

    /// <summary>Text for a markdown table cell: pipes escaped, backquotes and line breaks replaced.</summary>
    internal static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            sb.Append(c switch
            {
                '|' => "\\|",
                '`' => "'",
                '\n' or '\r' => " ",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }
}
