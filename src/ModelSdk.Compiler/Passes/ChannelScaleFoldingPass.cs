using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Folds a per-channel scale into the pointwise (1×1) Conv that alone reads the scaled tensor: <c>Conv(x · s)</c>
/// with <c>s</c> of shape <c>[N, C, 1, 1]</c> becomes the Conv reading <c>x</c> with <c>s</c> as a fourth input, which
/// its kernel applies to each input row as it packs it for the GEMM (<see cref="Runtime.Kernels.Conv.Run"/>'s
/// <c>inputScale</c>). This is the squeeze-excite block of MobileNetV3 and EfficientNet, whose scaled tensor then
/// is never written: the Mul's pass over it (and at two threads its reading of the other core's half of the
/// depthwise output) goes away.
/// </summary>
/// <remarks>
/// The Conv must be pointwise (1×1 kernel, unit strides, no padding) over more than one position, and its input the
/// Mul's output, read by nothing else (no other node, no graph output). The scale's shape must be exactly
/// <c>[N, C, 1, 1]</c> of <c>x</c>'s <c>[N, C, …]</c>, both float32; the Mul's operands may come in either order.
/// </remarks>
public sealed class ChannelScaleFoldingPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "channel-scale-folding";

    /// <inheritdoc/>
    public void Run(Graph graph) => Fusion.InEveryGraph(graph, Fold);

    private static void Fold(Graph graph)
    {
        var fusion = new Fusion(graph);
        foreach (Node mul in graph.Nodes)
        {
            if (!Fusion.Is(mul, "Mul") || mul.Inputs.Count != 2 || mul.Inputs[0] is not { Shape: { Length: >= 3 } } a || mul.Inputs[1] is not { Shape: { } } b
                || fusion.SoleReader(mul.Outputs[0]) is not { } conv || !ReferenceEquals(conv.Inputs[0], mul.Outputs[0]))
            {
                continue;
            }

            (Value x, Value scale) = IsChannelScale(b, a.KnownShape) ? (a, b) : (b, a);
            if (!IsChannelScale(scale, x.KnownShape) || !Fusion.IsFloat(x, mul.Outputs[0].KnownShape) || !IsPointwise(conv, graph.Opset))
            {
                continue;
            }

            Value?[] inputs = [x, conv.Inputs[1], conv.Inputs.Count > 2 ? conv.Inputs[2] : null, scale];
            var folded = new Node(conv.Name, conv.OpType, conv.Domain, inputs, conv.Outputs, conv.Attributes)
            {
                ImplicitInputs = conv.ImplicitInputs,
                Epilogue = conv.Epilogue,
            };
            fusion.Replace([mul, conv], folded);
        }

        fusion.Apply();
    }

    /// <summary>A float32 <c>[N, C, 1…]</c> for a tensor <paramref name="shape"/> <c>[N, C, …]</c> with more than one position.</summary>
    private static bool IsChannelScale(Value value, int[] shape)
        => value is { Type: ElementType.Float32, Shape: { } s } && s.Length == shape.Length && s[0] == shape[0] && s[1] == shape[1]
            && s.Skip(2).All(d => d == 1) && Shapes.Product(shape, 2, shape.Length) > 1;

    /// <summary>A float Conv of three inputs at most, 1×1, unit strides, no padding.</summary>
    private static bool IsPointwise(Node conv, int opset)
    {
        if (!Fusion.Is(conv, "Conv") || conv.Inputs.Count > 3 || conv.Inputs[0] is not { Type: ElementType.Float32 } x || conv.Inputs[1] is not { Shape: { } w })
        {
            return false;
        }

        return ConvOperator.Window(new InferenceContext(conv, opset, null), x.KnownShape, w).IsPointwise;
    }
}
