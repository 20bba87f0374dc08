using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Fuses runs of float32 elementwise nodes into one <c>ElementwiseChain</c> node (kernel
/// <see cref="ElementwiseChain"/>), so a chain such as <c>(x − mean) · scale + shift → Sigmoid → · x</c> reads
/// and writes memory once instead of once per node. A chain starts at any step node and grows while its value is
/// read by exactly one next step (and by nothing else, not a graph output) that keeps the shape. Steps are:
/// <list type="bullet">
/// <item>the unary functions with a vector form (Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Exp,
/// Log, Sqrt, Abs, Neg, Reciprocal, Erf, Elu, Selu, Celu, Softplus, Softsign, Mish, ThresholdedRelu, Shrink,
/// Floor, Ceil, Round, Sign) and Clip with constant bounds;</item>
/// <item>Add, Sub, Mul, Div of the running value with a one-element constant, with the chain's input, or with
/// up to two other tensors of the same shape (either operand order).</item>
/// </list>
/// Runs after <see cref="EpilogueFusionPass"/>, so activations that can fold into a Conv/Gemm/MatMul store go
/// there first, and only chains of two or more nodes are fused. Each step computes what its node's own kernel
/// would, so the outputs do not change.
/// </summary>
public sealed class ElementwiseChainFusionPass : IGraphPass
{
    private static readonly HashSet<string> UnarySteps =
    [
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Exp", "Log", "Sqrt", "Abs", "Neg",
        "Reciprocal", "Erf", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Shrink",
        "Floor", "Ceil", "Round", "Sign",
    ];

    /// <inheritdoc/>
    public string Name => "elementwise-chain-fusion";

    /// <inheritdoc/>
    public void Run(Graph graph) => Fusion.InEveryGraph(graph, g => Fuse(g));

    private static void Fuse(Graph graph)
    {
        var fusion = new Fusion(graph);
        foreach (Node head in graph.Nodes)
        {
            if (fusion.IsClaimed(head) || head.Outputs.Count != 1 || MainInput(head) is not { Type: ElementType.Float32, Shape: { } shape } x)
            {
                continue;
            }

            var chain = new Chain(x);
            var group = new List<Node>();
            Value current = x;
            Node? node = head;
            while (node is not null && !fusion.IsClaimed(node) && chain.TryAdd(node, current, graph.Opset))
            {
                group.Add(node);
                current = node.Outputs[0];
                node = fusion.SoleReader(current) is { Outputs.Count: 1 } next && Fusion.IsFloat(next.Outputs[0], shape) ? next : null;
            }

            if (group.Count < 2)
            {
                continue;
            }

            Node last = group[^1];
            var fused = Fusion.Create("ElementwiseChain", last, [x, chain.B, chain.C], last.Outputs[0],
                new Attribute("steps", AttributeKind.Ints) { Ints = [.. chain.Steps] },
                new Attribute("parameters", AttributeKind.Floats) { Floats = [.. chain.Parameters] });
            fusion.Replace(group, fused);
        }

        fusion.Apply();
    }

    /// <summary>The value a chain starting at <paramref name="node"/> runs on: a unary node's input, a binary node's first computed operand of the output's shape.</summary>
    private static Value? MainInput(Node node)
    {
        if (node.Domain.Length != 0 || node.Outputs[0].Shape is not { } shape)
        {
            return null;
        }

        if (IsBinary(node))
        {
            return node.Inputs.FirstOrDefault(i => i is { IsConstant: false } && Fusion.IsFloat(i, shape));
        }

        return node.Inputs.Count > 0 && Fusion.IsFloat(node.Inputs[0], shape) ? node.Inputs[0] : null;
    }

    private static bool IsBinary(Node node) => node.Domain.Length == 0 && node.OpType is "Add" or "Sub" or "Mul" or "Div" && node.Inputs.Count == 2;

    /// <summary>The steps gathered so far and the tensors they read besides the chain's input.</summary>
    private sealed class Chain(Value input)
    {
        public List<long> Steps { get; } = [];

        public List<float> Parameters { get; } = [];

        public Value? B { get; private set; }

        public Value? C { get; private set; }

        /// <summary>Appends <paramref name="node"/> as the step applied to <paramref name="current"/>, if it is one.</summary>
        public bool TryAdd(Node node, Value current, int opset)
        {
            if (!Fusion.IsFloat(node.Outputs[0], current.KnownShape))
            {
                return false;
            }

            if (IsBinary(node))
            {
                return TryAddBinary(node, current);
            }

            if (node.Domain.Length != 0 || !ReferenceEquals(node.Inputs[0], current))
            {
                return false;
            }

            if (node.OpType == "Clip")
            {
                if (EpilogueFusionPass.ClipBounds(node, opset) is not (float min, float max))
                {
                    return false;
                }

                Add(ChainStepKind.Unary, (int)UnaryOp.Clip, ChainOperand.Scalar, min, max);
                return true;
            }

            if (node.Inputs.Count != 1 || !UnarySteps.Contains(node.OpType))
            {
                return false;
            }

            (UnaryOp op, float alpha, float beta) = UnaryOperator.Function(new InferenceContext(node, opset, null));
            Add(ChainStepKind.Unary, (int)op, ChainOperand.Scalar, alpha, beta);
            return true;
        }

        private bool TryAddBinary(Node node, Value current)
        {
            bool first = ReferenceEquals(node.Inputs[0], current), second = ReferenceEquals(node.Inputs[1], current);
            if (!first && !second)
            {
                return false;
            }

            Value other = first ? node.Inputs[1]! : node.Inputs[0]!;
            if (first && second && !ReferenceEquals(current, input))
            {
                return false; // v · v of an intermediate v: no operand slot holds it
            }

            var op = Enum.Parse<BinaryOp>(node.OpType);
            ChainStepKind kind = first || op is BinaryOp.Add or BinaryOp.Mul ? ChainStepKind.Binary : ChainStepKind.ReversedBinary;
            if (other.Constant is { ElementCount: 1, Type: ElementType.Float32 } scalar)
            {
                Add(kind, (int)op, ChainOperand.Scalar, scalar.ToFloats()[0], 0);
                return true;
            }

            if (!Fusion.IsFloat(other, current.KnownShape))
            {
                return false;
            }

            ChainOperand slot;
            if (ReferenceEquals(other, input))
            {
                slot = ChainOperand.Input;
            }
            else if (B is null || ReferenceEquals(other, B))
            {
                (B, slot) = (other, ChainOperand.B);
            }
            else if (C is null || ReferenceEquals(other, C))
            {
                (C, slot) = (other, ChainOperand.C);
            }
            else
            {
                return false;
            }

            Add(kind, (int)op, slot, 0, 0);
            return true;
        }

        private void Add(ChainStepKind kind, int op, ChainOperand operand, float alpha, float beta)
        {
            Steps.AddRange([(long)kind, op, (long)operand]);
            Parameters.AddRange([alpha, beta]);
        }
    }
}
