using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Replaces scaled dot-product attention as exporters write it,
/// <c>MatMul(Softmax(MatMul(Q, Kᵀ) · s [+ mask], last axis), V)</c>, by one fused Attention node
/// (kernel <see cref="Runtime.Kernels.Attention"/>, one pass per block of query rows with a scratch
/// of their scores instead of the <c>[Sq, Sk]</c> matrices of the decomposition). The scale is a constant
/// divisor or factor (or absent), the mask an optional additive float32 term that must not widen the
/// scores. No intermediate may be used outside the pattern.
/// <para>
/// Transposes around the pattern that keep each row in one piece are absorbed too, the kernel reading and
/// writing those tensors in place through strides: Kᵀ as a Transpose of K's last two axes (K read row by row),
/// and exporters' split of heads, <c>Transpose(Reshape(x, [b, s, heads, d]), [0, 2, 1, 3])</c> for Q and V,
/// <c>[0, 2, 3, 1]</c> for Kᵀ, and the merge of heads after the product, <c>Transpose(y, [0, 2, 1, 3])</c>
/// (attributes <c>q_perm</c>, <c>k_perm</c>, <c>v_perm</c>, <c>y_perm</c>). Each must be read only by the pattern.
/// </para>
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

        var attributes = new List<Ir.Attribute> { Fusion.Float("scale", scale) };
        q = Absorbed(fusion, q, product, "q_perm", group, attributes);
        v = Absorbed(fusion, v, output, "v_perm", group, attributes);

        // Kᵀ = Transpose(x, perm): K is x with the last two entries of perm swapped. Read as K (rows of depth)
        // when that keeps x's last axis last, else as Kᵀ when perm does.
        Value key = keyTransposed;
        bool transposed = true;
        if (Fusion.Producer(keyTransposed, "Transpose") is { } transpose && fusion.SoleReader(keyTransposed) == product
            && Permutation(transpose, keyTransposed.KnownShape.Length) is { } perm)
        {
            long[] swapped = [.. perm[..^2], perm[^1], perm[^2]];
            long last = perm.Length - 1;
            long[]? view = swapped[^1] == last ? swapped : perm[^1] == last ? perm : null;
            if (view is not null)
            {
                (key, transposed) = (transpose.Inputs[0]!, view == perm);
                group.Add(transpose);
                AddPermutation(attributes, "k_perm", view);
            }
        }

        attributes.Add(Fusion.Int("key_transposed", transposed ? 1 : 0));
        Value y = output.Outputs[0];
        if (fusion.SoleReader(y) is { } merge && Fusion.Is(merge, "Transpose") && KeepsRows(merge, y.KnownShape.Length) is { } yPerm)
        {
            group.Add(merge);
            AddPermutation(attributes, "y_perm", yPerm);
            y = merge.Outputs[0];
        }

        Node fused = Fusion.Create("Attention", output, [q, key, v, mask], y, [.. attributes]);
        return (group, fused);
    }

    /// <summary>
    /// <paramref name="operand"/>, or the input of the Transpose that computes it when only
    /// <paramref name="reader"/> reads it and the Transpose keeps the last axis last (its permutation then
    /// recorded as <paramref name="name"/>).
    /// </summary>
    private static Value Absorbed(Fusion fusion, Value operand, Node reader, string name, List<Node> group, List<Ir.Attribute> attributes)
    {
        if (Fusion.Producer(operand, "Transpose") is not { } transpose || fusion.SoleReader(operand) != reader
            || KeepsRows(transpose, operand.KnownShape.Length) is not { } perm)
        {
            return operand;
        }

        group.Add(transpose);
        AddPermutation(attributes, name, perm);
        return transpose.Inputs[0]!;
    }

    /// <summary>Records <paramref name="perm"/> as attribute <paramref name="name"/> unless it is the identity (an absent attribute means the identity).</summary>
    private static void AddPermutation(List<Ir.Attribute> attributes, string name, long[] perm)
    {
        if (perm.Select((axis, i) => axis != i).Any(moved => moved))
        {
            attributes.Add(Fusion.Ints(name, perm));
        }
    }

    /// <summary>The permutation of <paramref name="transpose"/> when it leaves the last axis in place.</summary>
    private static long[]? KeepsRows(Node transpose, int rank)
        => Permutation(transpose, rank) is { } perm && perm[^1] == rank - 1 ? perm : null;

    /// <summary>The permutation of <paramref name="transpose"/> (ONNX's default: the axes reversed), when it is one of <paramref name="rank"/> ≥ 2 axes.</summary>
    private static long[]? Permutation(Node transpose, int rank)
    {
        long[] perm = transpose.Attributes.TryGetValue("perm", out Ir.Attribute? p) ? p.Ints : Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        return rank >= 2 && perm.Length == rank && perm.Order().SequenceEqual(Enumerable.Range(0, rank).Select(i => (long)i)) ? perm : null;
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
}
