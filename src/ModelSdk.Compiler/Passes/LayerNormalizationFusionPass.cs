using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Replaces the decomposition of LayerNormalization that exporters write for opsets before 17,
/// <c>d = x − ReduceMean(x); y = d / Sqrt(ReduceMean(d²) + ε) · γ + β</c> (the square as
/// <c>Pow(d, 2)</c> or <c>d · d</c>, γ and β optional, operands of the commutative steps in either
/// order), by one fused LayerNormalization node (kernel <see cref="Runtime.Kernels.Normalization"/>).
/// Both means must reduce the same trailing axes with keepdims, ε must be a constant, γ and β must
/// broadcast to the normalized axes only, and no intermediate may be used outside the pattern.
/// </summary>
public sealed class LayerNormalizationFusionPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "layer-normalization-fusion";

    /// <inheritdoc/>
    public void Run(Graph graph) => Fusion.InEveryGraph(graph, Fuse);

    private static void Fuse(Graph graph)
    {
        var fusion = new Fusion(graph);
        foreach (Node sub in graph.Nodes)
        {
            if (Fusion.Is(sub, "Sub") && Match(fusion, graph.Opset, sub) is (List<Node> group, Node fused))
            {
                fusion.Replace(group, fused);
            }
        }

        fusion.Apply();
    }

    private static (List<Node> Group, Node Fused)? Match(Fusion fusion, int opset, Node sub)
    {
        Value x = sub.Inputs[0]!, d = sub.Outputs[0];
        Node? mean = Fusion.Producer(sub.Inputs[1], "ReduceMean");
        if (mean is null || !ReferenceEquals(mean.Inputs[0], x) || fusion.SoleReader(mean.Outputs[0]) != sub
            || !Fusion.IsFloat(x, x.Shape ?? []) || !Fusion.IsFloat(d, x.KnownShape) || TrailingAxes(mean, opset, x.KnownShape.Length) is not { } axis)
        {
            return null;
        }

        // d feeds the square (once as Pow, twice as Mul) and the division, nothing else.
        Node? square = fusion.Readers(d).FirstOrDefault(r => r != sub && (Fusion.Is(r, "Pow") || Fusion.Is(r, "Mul")));
        bool squares = square is not null && ReferenceEquals(square.Inputs[0], d)
            && (Fusion.Is(square, "Pow") ? Fusion.IsScalar(square.Inputs[1], 2) : ReferenceEquals(square.Inputs[1], d));
        Node? variance = squares ? fusion.SoleReader(square!.Outputs[0]) : null;
        if (!Fusion.Is(variance, "ReduceMean") || TrailingAxes(variance!, opset, x.KnownShape.Length) != axis)
        {
            return null;
        }

        Node? shift = fusion.SoleReader(variance!.Outputs[0]);
        if (!Fusion.Is(shift, "Add") || Fusion.WithScalar(shift!) is not (Value shifted, double epsilon) || !ReferenceEquals(shifted, variance.Outputs[0]))
        {
            return null;
        }

        Node? root = fusion.SoleReader(shift!.Outputs[0]);
        Node? divide = Fusion.Is(root, "Sqrt") ? fusion.SoleReader(root!.Outputs[0]) : null;
        if (!Fusion.Is(divide, "Div") || !ReferenceEquals(divide!.Inputs[0], d) || !fusion.OnlyReadBy(d, square!, divide)
            || !Fusion.IsFloat(divide.Outputs[0], x.KnownShape))
        {
            return null;
        }

        var group = new List<Node> { mean, sub, square!, variance, shift, root!, divide };
        int[] normalized = x.KnownShape[axis..];
        Value? gamma = Affine(fusion, group, "Mul", normalized);
        Value? beta = Affine(fusion, group, "Add", normalized);
        Node last = group[^1];
        Node fused = Fusion.Create("LayerNormalization", last, [x, gamma, beta], last.Outputs[0],
            Fusion.Int("axis", axis), Fusion.Float("epsilon", (float)epsilon));
        return (group, fused);
    }

    /// <summary>
    /// When the group's result is read only by <paramref name="opType"/> with a parameter that broadcasts
    /// to the normalized axes (and leaves the shape unchanged), adds that node to the group and returns the parameter.
    /// </summary>
    private static Value? Affine(Fusion fusion, List<Node> group, string opType, int[] normalized)
    {
        Value result = group[^1].Outputs[0];
        Node? next = fusion.SoleReader(result);
        Value? parameter = next is null ? null : Fusion.Other(next, result);
        if (!Fusion.Is(next, opType) || parameter is not { Type: Plan.ElementType.Float32, Shape: { } shape }
            || !Fusion.IsFloat(next!.Outputs[0], result.KnownShape) || !BroadcastsTo(shape, normalized))
        {
            return null;
        }

        group.Add(next);
        return parameter;
    }

    private static bool BroadcastsTo(int[] shape, int[] normalized)
    {
        int[] significant = shape.SkipWhile(d => d == 1).ToArray();
        int skip = normalized.Length - significant.Length;
        return skip >= 0 && significant.Select((d, i) => d == 1 || d == normalized[skip + i]).All(ok => ok);
    }

    /// <summary>For a ReduceMean with keepdims over the axes from some axis to the last, that axis; null otherwise.</summary>
    private static int? TrailingAxes(Node mean, int opset, int rank)
    {
        if (mean.Attributes.TryGetValue("keepdims", out Ir.Attribute? keep) && keep.Int == 0)
        {
            return null;
        }

        long[]? axes = null;
        if (opset < 18)
        {
            axes = mean.Attributes.TryGetValue("axes", out Ir.Attribute? a) ? a.Ints : null;
        }
        else if (mean.Inputs.Count > 1 && mean.Inputs[1] is { } input)
        {
            if (input.Constant is null)
            {
                return null;
            }

            axes = input.Constant.ToInt64s();
        }

        if (axes is null || axes.Length == 0)
        {
            bool noop = opset >= 18 && mean.Attributes.TryGetValue("noop_with_empty_axes", out Ir.Attribute? n) && n.Int != 0;
            return noop || rank == 0 ? null : 0;
        }

        int[] normalized = axes.Select(v => (int)(v < 0 ? v + rank : v)).Order().ToArray();
        bool trailing = normalized.Distinct().Count() == normalized.Length
            && normalized.Select((v, i) => v == rank - normalized.Length + i).All(ok => ok);
        return trailing ? rank - normalized.Length : null;
    }
}
