using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Replaces scaled dot-product attention as exporters write it,
/// <c>MatMul(Softmax(MatMul(Q, Kᵀ) · s [+ mask], last axis), V)</c>, by one fused Attention node
/// (kernel <see cref="Runtime.Kernels.Attention"/>, one pass per block of query rows with a scratch
/// of their scores instead of the <c>[Sq, Sk]</c> matrices of the decomposition). The scale is a constant
/// divisor or factor (or absent), the mask an optional additive float32 term that must not widen the
/// scores; when Kᵀ is a Transpose of the last two axes used only here, the Transpose is fused too and
/// the kernel reads K row by row. No intermediate may be used outside the pattern.
/// </summary>
public sealed class AttentionFusionPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "attention-fusion";

    /// <inheritdoc/>
    public void Run(Graph graph) => Fusion.InEveryGraph(graph, Fuse);

    private static void Fuse(Graph graph)
    {
        var fusion = new Fusion(graph);
        foreach (Node softmax in graph.Nodes)
        {
            if (Fusion.Is(softmax, "Softmax") && Match(fusion, graph.Opset, softmax) is (List<Node> group, Node fused))
            {
                fusion.Replace(group, fused);
            }
        }

        fusion.Apply();
    }

    private static (List<Node> Group, Node Fused)? Match(Fusion fusion, int opset, Node softmax)
    {
        Value logits = softmax.Inputs[0]!, probabilities = softmax.Outputs[0];
        int rank = logits.KnownShape.Length;
        long axis = softmax.Attributes.TryGetValue("axis", out Ir.Attribute? a) ? a.Int : opset < 13 ? 1 : -1;
        Node? output = fusion.SoleReader(probabilities);
        if (rank < 2 || (axis < 0 ? axis + rank : axis) != rank - 1 || !Fusion.IsFloat(logits, logits.KnownShape)
            || !Fusion.Is(output, "MatMul") || !ReferenceEquals(output!.Inputs[0], probabilities)
            || output.Inputs[1] is not { Shape.Length: >= 2 } v || fusion.SoleReader(logits) != softmax)
        {
            return null;
        }

        var group = new List<Node> { softmax, output };
        Value? mask = null;
        (Node Product, float Scale, Node? Scaling)? scores = Scores(fusion, logits);
        if (scores is null && Fusion.Producer(logits, "Add") is { } add)
        {
            foreach (Value? candidate in add.Inputs)
            {
                if (candidate is not null && fusion.SoleReader(candidate) == add && Fusion.IsFloat(candidate, logits.KnownShape)
                    && Scores(fusion, candidate) is { } found && Fusion.Other(add, candidate) is { Type: Plan.ElementType.Float32 } other)
                {
                    (scores, mask) = (found, other);
                    group.Add(add);
                    break;
                }
            }
        }

        if (scores is not (Node product, float scale, var scaling) || product.Inputs[0] is not { Shape.Length: >= 2 } q
            || product.Inputs[1] is not { Shape.Length: >= 2 } keyTransposed)
        {
            return null;
        }

        group.Add(product);
        if (scaling is not null)
        {
            group.Add(scaling);
        }

        Value key = keyTransposed;
        bool transposed = true;
        if (Fusion.Producer(keyTransposed, "Transpose") is { } transpose && fusion.SoleReader(keyTransposed) == product
            && SwapsLastTwo(transpose, keyTransposed.KnownShape.Length))
        {
            (key, transposed) = (transpose.Inputs[0]!, false);
            group.Add(transpose);
        }

        Node fused = Fusion.Create("Attention", output, [q, key, v, mask], output.Outputs[0],
            Fusion.Float("scale", scale), Fusion.Int("key_transposed", transposed ? 1 : 0));
        return (group, fused);
    }

    /// <summary>
    /// For <c>MatMul(Q, Kᵀ)</c>, optionally divided by or multiplied with a constant, read only by the
    /// next step: the MatMul, the factor of the dot products, and the scaling node if there is one.
    /// </summary>
    private static (Node Product, float Scale, Node? Scaling)? Scores(Fusion fusion, Value value)
    {
        if (Fusion.Producer(value, "MatMul") is { } direct)
        {
            return (direct, 1f, null);
        }

        Node? scaling = value.Producer;
        if ((Fusion.Is(scaling, "Div") || Fusion.Is(scaling, "Mul")) && Fusion.WithScalar(scaling!) is (Value operand, double c)
            && (Fusion.Is(scaling, "Mul") || ReferenceEquals(scaling!.Inputs[0], operand))
            && Fusion.Producer(operand, "MatMul") is { } product && fusion.SoleReader(operand) == scaling
            && Fusion.IsFloat(value, operand.KnownShape))
        {
            return (product, (float)(Fusion.Is(scaling, "Div") ? 1 / c : c), scaling);
        }

        return null;
    }

    private static bool SwapsLastTwo(Node transpose, int rank)
    {
        long[] perm = transpose.Attributes.TryGetValue("perm", out Ir.Attribute? p) ? p.Ints : Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        return rank >= 2 && perm.Length == rank && perm.Select((axis, i) => axis == (i < rank - 2 ? i : 2 * rank - 3 - i)).All(ok => ok);
    }
}
