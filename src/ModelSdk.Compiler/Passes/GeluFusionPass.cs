using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Replaces the two decompositions of GELU that exporters write by one fused Gelu node (kernel
/// <see cref="Runtime.Kernels.Gelu"/>):
/// <list type="bullet">
/// <item>exact: <c>x · 0.5 · (1 + Erf(x / √2))</c>, the division also written as a product with 1/√2;</item>
/// <item>tanh: <c>x · 0.5 · (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))</c>, the cube as <c>Pow(x, 3)</c> or <c>x · x · x</c>.</item>
/// </list>
/// Operands may come in either order, and the three outer factors may associate either way. The
/// constants must match within a relative 1e-5, everything must be float32 of x's shape, and no
/// intermediate may be used outside the pattern.
/// </summary>
public sealed class GeluFusionPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "gelu-fusion";

    /// <inheritdoc/>
    public void Run(Graph graph) => Fusion.InEveryGraph(graph, Fuse);

    private static void Fuse(Graph graph)
    {
        var fusion = new Fusion(graph);
        foreach (Node node in graph.Nodes)
        {
            var group = new List<Node>();
            Value? x = Fusion.Is(node, "Erf") ? ExactArgument(fusion, node, group)
                : Fusion.Is(node, "Tanh") ? TanhArgument(fusion, node, group)
                : null;
            if (x is null || !Fusion.IsFloat(x, x.Shape ?? []))
            {
                continue;
            }

            group.Add(node);
            if (OnePlus(fusion, node.Outputs[0], group) is { } sum && Product(fusion, sum, x, group) is { } last
                && Fusion.IsFloat(last.Outputs[0], x.KnownShape))
            {
                fusion.Replace(group, Fusion.Create("Gelu", last, [x], last.Outputs[0], Fusion.Int("approximate", Fusion.Is(node, "Tanh") ? 1 : 0)));
            }
        }

        fusion.Apply();
    }

    /// <summary>For <c>Erf(x / √2)</c> or <c>Erf(x · (1/√2))</c>, x.</summary>
    private static Value? ExactArgument(Fusion fusion, Node erf, List<Node> group)
    {
        Node? scaling = erf.Inputs[0]?.Producer;
        if (scaling is null || fusion.SoleReader(erf.Inputs[0]!) != erf || Fusion.WithScalar(scaling) is not (Value x, double c))
        {
            return null;
        }

        bool divided = Fusion.Is(scaling, "Div") && ReferenceEquals(scaling.Inputs[0], x) && Math.Abs(c - Math.Sqrt(2)) <= 1e-5 * Math.Sqrt(2);
        bool multiplied = Fusion.Is(scaling, "Mul") && Math.Abs(c - Math.Sqrt(0.5)) <= 1e-5 * Math.Sqrt(0.5);
        if (!divided && !multiplied)
        {
            return null;
        }

        group.Add(scaling);
        return x;
    }

    /// <summary>For <c>Tanh(√(2/π) · (x + 0.044715 · x³))</c>, x.</summary>
    private static Value? TanhArgument(Fusion fusion, Node tanh, List<Node> group)
    {
        Node? outer = Fusion.Producer(tanh.Inputs[0], "Mul");
        if (outer is null || fusion.SoleReader(tanh.Inputs[0]!) != tanh || Fusion.WithScalar(outer) is not (Value inner, double c)
            || Math.Abs(c - Math.Sqrt(2 / Math.PI)) > 1e-5 * Math.Sqrt(2 / Math.PI))
        {
            return null;
        }

        Node? sum = Fusion.Producer(inner, "Add");
        if (sum is null || fusion.SoleReader(inner) != outer)
        {
            return null;
        }

        // x + 0.044715·x³ in either order: the operand that is the cubic term names x.
        foreach (Value? candidate in sum.Inputs)
        {
            Node? cubic = Fusion.Producer(candidate, "Mul");
            if (cubic is null || fusion.SoleReader(candidate!) != sum || Fusion.WithScalar(cubic) is not (Value cube, double k)
                || Math.Abs(k - 0.044715) > 1e-5 * 0.044715)
            {
                continue;
            }

            Value? x = Fusion.Other(sum, candidate!);
            var cubeNodes = x is null ? null : Cube(fusion, cube, x, cubic);
            if (cubeNodes is not null)
            {
                group.AddRange([outer, sum, cubic, .. cubeNodes]);
                return x;
            }
        }

        return null;
    }

    /// <summary>The nodes computing <paramref name="cube"/> = x³ as <c>Pow(x, 3)</c> or <c>(x · x) · x</c>, read only by <paramref name="reader"/>.</summary>
    private static Node[]? Cube(Fusion fusion, Value cube, Value x, Node reader)
    {
        if (fusion.SoleReader(cube) != reader)
        {
            return null;
        }

        if (Fusion.Producer(cube, "Pow") is { } pow && ReferenceEquals(pow.Inputs[0], x) && Fusion.IsScalar(pow.Inputs[1], 3))
        {
            return [pow];
        }

        if (Fusion.Producer(cube, "Mul") is { } outer && Fusion.Other(outer, x) is { } square
            && Fusion.Producer(square, "Mul") is { } inner && ReferenceEquals(inner.Inputs[0], x) && ReferenceEquals(inner.Inputs[1], x)
            && fusion.SoleReader(square) == outer)
        {
            return [outer, inner];
        }

        return null;
    }

    /// <summary>For <c>1 + t</c> (either order) reading <paramref name="t"/>, that sum.</summary>
    private static Value? OnePlus(Fusion fusion, Value t, List<Node> group)
    {
        Node? add = fusion.SoleReader(t);
        if (!Fusion.Is(add, "Add") || !Fusion.IsScalar(Fusion.Other(add!, t), 1))
        {
            return null;
        }

        group.Add(add!);
        return add!.Outputs[0];
    }

    /// <summary>
    /// The node computing <c>x · 0.5 · sum</c> in any association: <c>(x · sum) · 0.5</c>,
    /// <c>(sum · 0.5) · x</c> or <c>(x · 0.5) · sum</c>, with either operand order in each product.
    /// </summary>
    private static Node? Product(Fusion fusion, Value sum, Value x, List<Node> group)
    {
        Node? first = fusion.SoleReader(sum);
        if (!Fusion.Is(first, "Mul") || Fusion.Other(first!, sum) is not { } other)
        {
            return null;
        }

        if (ReferenceEquals(other, x) || Fusion.IsScalar(other, 0.5))
        {
            // The last factor multiplies the partial product.
            Node? second = fusion.SoleReader(first!.Outputs[0]);
            Value? factor = second is null ? null : Fusion.Other(second, first.Outputs[0]);
            bool fits = Fusion.Is(second, "Mul") && (ReferenceEquals(other, x) ? Fusion.IsScalar(factor, 0.5) : ReferenceEquals(factor, x));
            if (!fits)
            {
                return null;
            }

            group.AddRange([first, second!]);
            return second;
        }

        // The other factor is x · 0.5, computed for this product alone.
        if (Fusion.Producer(other, "Mul") is { } half && fusion.SoleReader(other) == first
            && Fusion.WithScalar(half) is (Value operand, double c) && ReferenceEquals(operand, x) && Math.Abs(c - 0.5) <= 5e-6)
        {
            group.AddRange([half, first!]);
            return first;
        }

        return null;
    }
}
