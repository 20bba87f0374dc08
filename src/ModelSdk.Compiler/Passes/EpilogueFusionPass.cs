using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Folds the elementwise work that follows a GEMM-like node into that node's store (<see cref="Node.Epilogue"/>),
/// so the result is written once instead of being read and written again by each follower:
/// <list type="number">
/// <item>a per-channel constant added after a Conv without bias becomes its bias, and a per-column constant
/// added after a MatMul becomes <see cref="Epilogue.Bias"/>;</item>
/// <item>an <c>Add</c> of a float32 tensor of the output's shape becomes the residual, provided that tensor is
/// computed before the producer (the producer runs in the Add's place, and must not wait for it);</item>
/// <item>an activation becomes the epilogue's activation: Relu, LeakyRelu, Clip with constant bounds,
/// Sigmoid, Tanh, HardSigmoid, HardSwish, GELU (ONNX's and the fused one), and
/// <c>x · HardSigmoid(x)</c> with the HardSwish constants.</item>
/// </list>
/// It folds only into nodes whose operator implements <see cref="IAcceptsEpilogue"/> and accepts the node, and
/// only values nothing else reads (no other node, no graph output) disappear: the last folded node's output,
/// and so every graph output name, is kept.
/// </summary>
public sealed class EpilogueFusionPass : IGraphPass
{
    private readonly Func<Node, int, IOperator?> _find;

    /// <summary>A pass that asks <paramref name="registry"/> which nodes accept an epilogue.</summary>
    public EpilogueFusionPass(OperatorRegistry registry)
        : this((node, opset) => registry.Find(node.Domain, node.OpType, opset))
    {
    }

    /// <summary>A pass that finds each node's operator with <paramref name="find"/> (node, opset): tests add their own producers.</summary>
    internal EpilogueFusionPass(Func<Node, int, IOperator?> find) => _find = find;

    /// <inheritdoc/>
    public string Name => "epilogue-fusion";

    /// <inheritdoc/>
    public void Run(Graph graph) => Fusion.InEveryGraph(graph, Fuse);

    private void Fuse(Graph graph)
    {
        var fusion = new Fusion(graph);
        var order = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        foreach (Node node in graph.Nodes)
        {
            order[node] = order.Count;
        }

        foreach (Node producer in graph.Nodes)
        {
            if (producer.Epilogue is not null || producer.Outputs.Count != 1
                || _find(producer, graph.Opset) is not IAcceptsEpilogue op || !op.AcceptsEpilogue(producer)
                || producer.Outputs[0] is not { Type: ElementType.Float32, Shape: { } shape } output)
            {
                continue;
            }

            var group = new List<Node> { producer };
            IReadOnlyList<Value?> inputs = producer.Inputs;
            Value last = output;
            Value? columnBias = null;
            if (FoldedBias(fusion, producer, last) is ({ } add, { } bias))
            {
                // A Conv takes it as its own bias input; a MatMul has none, so it travels in the epilogue.
                group.Add(add);
                (inputs, columnBias) = Fusion.Is(producer, "Conv") ? ([inputs[0], inputs[1], bias], null) : (inputs, bias);
                last = add.Outputs[0];
            }

            Value? residual = null;
            if (fusion.SoleReader(last) is { } sum && Fusion.Is(sum, "Add") && Fusion.Other(sum, last) is { } other
                && !ReferenceEquals(other, last) && Fusion.IsFloat(other, shape) && Fusion.IsFloat(sum.Outputs[0], shape)
                && (other.IsConstant || other.Producer is null || (order.TryGetValue(other.Producer, out int at) && at < order[producer])))
            {
                group.Add(sum);
                residual = other;
                last = sum.Outputs[0];
            }

            (Activation activation, float alpha, float beta) = (Activation.None, 0, 0);
            if (Activated(fusion, last, graph.Opset) is ({ } nodes, var act))
            {
                group.AddRange(nodes);
                (activation, alpha, beta) = act;
                last = nodes[^1].Outputs[0];
            }

            if (group.Count == 1)
            {
                continue;
            }

            var fused = new Node(producer.Name, producer.OpType, producer.Domain, inputs, [last], producer.Attributes)
            {
                ImplicitInputs = producer.ImplicitInputs,
                Epilogue = new Epilogue(activation, alpha, beta, residual, columnBias) is { IsEmpty: false } epilogue ? epilogue : null,
            };
            fusion.Replace(group, fused);
        }

        fusion.Apply();
    }

    /// <summary>
    /// The constant bias an Add after <paramref name="producer"/> applies, when only that Add reads its output:
    /// one value per output channel after a Conv without bias (shape <c>[M, 1…]</c> or <c>[1, M, 1…]</c>), or
    /// one per column after a MatMul by a matrix (shape <c>[N]</c> or <c>[1…, N]</c>): the Add, and the
    /// constant as a vector.
    /// </summary>
    private static (Node Add, Value Bias)? FoldedBias(Fusion fusion, Node producer, Value output)
    {
        bool conv = Fusion.Is(producer, "Conv") && (producer.Inputs.Count < 3 || producer.Inputs[2] is null);
        bool matMul = Fusion.Is(producer, "MatMul") && producer.Inputs[1] is { Shape.Length: >= 2 };
        if (!(conv || matMul)
            || fusion.SoleReader(output) is not { } add || !Fusion.Is(add, "Add") || Fusion.Other(add, output) is not { Constant: { Type: ElementType.Float32 } c }
            || !Fusion.IsFloat(add.Outputs[0], output.KnownShape))
        {
            return null;
        }

        int[] shape = output.KnownShape, cs = c.Shape;

        // Right-aligned broadcasting: the constant's axis that lines up with the output's channel axis (1) or last axis.
        int axis = conv ? cs.Length - (shape.Length - 1) : cs.Length - 1;
        int length = conv ? shape[1] : shape[^1];
        bool perAxis = cs.Length <= shape.Length && axis >= 0 && cs[axis] == length
            && cs.Select((d, i) => i == axis || d == 1).All(ok => ok);
        if (!perAxis)
        {
            return null;
        }

        var bias = new Value($"{add.Name}/bias");
        bias.SetConstant(Tensor.FromFloats([length], c.ToFloats()));
        return (add, bias);
    }

    /// <summary>The activation node(s) reading <paramref name="value"/> alone and what they compute, or null.</summary>
    private static (Node[] Nodes, (Activation, float, float) Activation)? Activated(Fusion fusion, Value value, int opset)
    {
        IReadOnlyList<Node> readers = fusion.Readers(value);

        // x · HardSigmoid(x) with HardSwish's constants, as exporters write HardSwish before opset 14.
        if (readers.Count == 2 && readers.FirstOrDefault(r => Fusion.Is(r, "HardSigmoid")) is { } gate
            && readers.FirstOrDefault(r => Fusion.Is(r, "Mul")) is { } mul && fusion.OnlyReadBy(value, gate, mul)
            && fusion.SoleReader(gate.Outputs[0]) == mul && ReferenceEquals(Fusion.Other(mul, value), gate.Outputs[0])
            && Math.Abs(Float(gate, "alpha", 0.2f) - 1f / 6) <= 1e-6 && Math.Abs(Float(gate, "beta", 0.5f) - 0.5f) <= 1e-6
            && Fusion.IsFloat(mul.Outputs[0], value.KnownShape))
        {
            return ([gate, mul], (Activation.HardSwish, 0, 0));
        }

        if (fusion.SoleReader(value) is not { } node || node.Outputs.Count != 1 || !Fusion.IsFloat(node.Outputs[0], value.KnownShape)
            || !ReferenceEquals(node.Inputs[0], value))
        {
            return null;
        }

        (Activation, float, float)? activation = node.Domain.Length == 0 ? node.OpType switch
        {
            "Relu" => (Activation.Relu, 0, 0),
            "LeakyRelu" => (Activation.LeakyRelu, Float(node, "alpha", 0.01f), 0),
            "Sigmoid" => (Activation.Sigmoid, 0, 0),
            "Tanh" => (Activation.Tanh, 0, 0),
            "HardSigmoid" => (Activation.HardSigmoid, Float(node, "alpha", 0.2f), Float(node, "beta", 0.5f)),
            "HardSwish" => (Activation.HardSwish, 0, 0),
            "Clip" => ClipBounds(node, opset) is (float min, float max) ? (Activation.Clip, min, max) : null,
            "Gelu" when node.Attributes.TryGetValue("approximate", out Attribute? a) && a.Kind == AttributeKind.String
                => a.String switch { "none" => (Activation.Gelu, 0, 0), "tanh" => (Activation.GeluTanh, 0, 0), _ => null },
            "Gelu" => (Activation.Gelu, 0, 0),
            _ => null,
        }
        : node.Domain == FusedDomain.Name && node.OpType == "Gelu" && node.Inputs.Count == 1
            ? (node.Attributes.TryGetValue("approximate", out Attribute? f) && f.Int != 0 ? Activation.GeluTanh : Activation.Gelu, 0, 0)
            : null;
        return activation is { } found ? ([node], found) : null;
    }

    /// <summary>
    /// Clip's bounds: attributes before opset 11 (absent ones are the float range), optional inputs since (absent ones
    /// do not clip), which must then be constants.
    /// </summary>
    internal static (float Min, float Max)? ClipBounds(Node clip, int opset)
    {
        float min = Float(clip, "min", opset < 11 ? float.MinValue : float.NegativeInfinity);
        float max = Float(clip, "max", opset < 11 ? float.MaxValue : float.PositiveInfinity);
        for (int i = 1; i < clip.Inputs.Count; i++)
        {
            if (clip.Inputs[i] is not { } bound)
            {
                continue;
            }

            if (bound.Constant is not { ElementCount: 1, Type: ElementType.Float32 } c)
            {
                return null;
            }

            float v = c.ToFloats()[0];
            (min, max) = i == 1 ? (v, max) : (min, v);
        }

        return (min, max);
    }

    private static float Float(Node node, string name, float fallback)
        => node.Attributes.TryGetValue(name, out Attribute? a) && a.Kind == AttributeKind.Float ? a.Float : fallback;
}
