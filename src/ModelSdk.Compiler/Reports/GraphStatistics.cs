using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;

namespace ModelSdk.Compiler.Reports;

/// <summary>Per-node parameters and MACs of an inferred graph, shared by the build report and <c>modelsdk inspect</c>.</summary>
public static class GraphStatistics
{
    /// <summary>Weight elements a node reads (its constant inputs).</summary>
    public static long Parameters(Node node) => node.Inputs.Where(i => i?.Constant is not null).Sum(i => (long)i!.Constant!.ElementCount);

    /// <summary>Multiply-accumulates of a node.</summary>
    public static long Macs(Node node, int opset, OperatorRegistry registry)
        => registry.Find(node.Domain, node.OpType, opset)?.CountMacs(node) ?? 0;

    /// <summary>Totals over the graph.</summary>
    public static (long Parameters, long Macs) Totals(Graph graph, OperatorRegistry registry)
        => (graph.Nodes.Sum(Parameters), graph.Nodes.Sum(n => Macs(n, graph.Opset, registry)));
}
