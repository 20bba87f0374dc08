using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Removes nodes that no graph output depends on at run time: nodes whose used outputs were all
/// folded to constants, and nodes nothing reads. One backward sweep over the topological order.
/// </summary>
public sealed class DeadCodePass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "dead-code-elimination";

    /// <inheritdoc/>
    public void Run(Graph graph)
    {
        var live = new HashSet<Value>(graph.Outputs, ReferenceEqualityComparer.Instance);
        var kept = new List<Node>();
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            Node node = graph.Nodes[i];
            bool needed = node.Outputs.Any(o => live.Contains(o) && !o.IsConstant);
            if (!needed)
            {
                continue;
            }

            kept.Add(node);
            foreach (Value? input in node.Inputs.Concat(node.ImplicitInputs).Append(node.Epilogue?.Residual).Append(node.Epilogue?.Bias))
            {
                if (input is not null)
                {
                    live.Add(input);
                }
            }

            foreach (Graph subgraph in node.Subgraphs)
            {
                Run(subgraph);
            }
        }

        kept.Reverse();
        graph.Nodes = kept;
    }
}
