using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Plan;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Runs ONNX Runtime's QDQ format with integer kernels. A quantizer writes every quantized float
/// Conv, MatMul or Gemm as <c>DequantizeLinear</c> on each input, the float operator, and a
/// <c>QuantizeLinear</c> on its output. When that pattern is exact (per-tensor activations, constant
/// weights with per-tensor or per-output-channel parameters, constant scales and zero points, an int32
/// bias whose scale is the input's times the weights', and the float result read only by the
/// QuantizeLinear) the QuantizeLinear becomes QLinearConv or QLinearMatMul on the quantized tensors
/// (a Gemm with bias: MatMulInteger, an int32 Add and a QuantizeLinear of the int32 sums); the float
/// nodes are then dead. Anything else keeps its float computation between DequantizeLinear and
/// QuantizeLinear, which is what the model means.
/// </summary>
public sealed class QdqFusionPass(OperatorRegistry registry, string? modelPath) : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "qdq-to-integer";

    /// <inheritdoc/>
    public void Run(Graph graph)
    {
        var readers = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        foreach (Value? input in graph.Nodes.SelectMany(n => n.Inputs))
        {
            if (input is not null)
            {
                readers[input] = readers.GetValueOrDefault(input) + 1;
            }
        }

        var outputs = new HashSet<Value>(graph.Outputs, ReferenceEqualityComparer.Instance);
        var result = new List<Node>(graph.Nodes.Count);
        foreach (Node node in graph.Nodes)
        {
            Node? op = node.Inputs.Count > 0 ? node.Inputs[0]?.Producer : null;
            Node[]? fused = null;
            if (Is(node, "QuantizeLinear") && op is not null && op.Domain.Length == 0 && !node.Outputs[0].IsConstant
                && ((readers.GetValueOrDefault(op.Outputs[0]) == 1 && !outputs.Contains(op.Outputs[0]))
                    || Is(op, "MaxPool"))) // cheap: a pooled tensor that others read in float is pooled twice rather than not fused
            {
                fused = op.OpType switch
                {
                    "Conv" => FuseConv(op, node),
                    "MatMul" => FuseMatMul(op, node),
                    "Gemm" => FuseGemm(op, node),
                    "MaxPool" => FuseMaxPool(op, node),
                    _ => null,
                };
            }

            if (fused is not null && Infers(fused, graph.Opset))
            {
                result.AddRange(fused);
            }
            else
            {
                result.Add(node);
            }
        }

        graph.Nodes = FuseDequantizedSums(result, readers, outputs);
    }

    /// <summary>
    /// MatMulInteger by a constant matrix, optionally an int32 Add of a constant per-column bias, then
    /// DequantizeLinear of the sums (per tensor or per column, zero point 0) becomes one QGemm with a
    /// float32 output: the form a quantized layer whose output stays float takes (<see cref="Quantization.Int8Rewrite"/>).
    /// </summary>
    private static List<Node> FuseDequantizedSums(List<Node> nodes, Dictionary<Value, int> readers, HashSet<Value> outputs)
    {
        var result = new List<Node>(nodes.Count);
        foreach (Node node in nodes)
        {
            result.Add(DequantizedSums(node, readers, outputs) ?? node);
        }

        return result;
    }

    private static Node? DequantizedSums(Node dq, Dictionary<Value, int> readers, HashSet<Value> outputs)
    {
        if (!Is(dq, "DequantizeLinear") || dq.Inputs[0] is not { Type: ElementType.Int32 } sums || dq.Outputs[0].Type != ElementType.Float32
            || dq.Inputs[1] is not { IsConstant: true, Type: ElementType.Float32 } scale || Int(dq, "block_size", 0) != 0
            || (dq.Inputs.Count > 2 && dq.Inputs[2] is { } z && (!z.IsConstant || z.Constant!.ToInt64s().Any(v => v != 0))))
        {
            return null;
        }

        bool Single(Value v) => readers.GetValueOrDefault(v) == 1 && !outputs.Contains(v);
        Value? bias = null;
        Node? producer = sums.Producer;
        if (producer is not null && Is(producer, "Add") && Single(sums) && producer.Inputs[1] is { IsConstant: true, Type: ElementType.Int32 } c)
        {
            bias = c;
            sums = producer.Inputs[0]!;
            producer = sums.Producer;
        }

        if (producer is null || !Is(producer, "MatMulInteger") || !Single(sums) || producer.Inputs[1] is not { } b || b.KnownShape.Length != 2
            || producer.Inputs[0]!.KnownShape.Length < 2)
        {
            return null;
        }

        int n = b.KnownShape[1], rank = sums.KnownShape.Length;
        long axis = Int(dq, "axis", 1);
        bool perColumn = scale.ElementCount == n && scale.KnownShape.Length == 1 && (axis < 0 ? axis + rank : axis) == rank - 1;
        Value? aZero = producer.Inputs.Count > 2 ? producer.Inputs[2] : null, bZero = producer.Inputs.Count > 3 ? producer.Inputs[3] : null;
        if (!(scale.ElementCount == 1 || perColumn) || !IntegerLinear.Packable(b, aZero, bZero)
            || (bias is not null && !(bias.ElementCount == n && bias.KnownShape.Take(bias.KnownShape.Length - 1).All(d => d == 1))))
        {
            return null;
        }

        Value? flatBias = bias is null ? null : bias.KnownShape.Length == 1 ? bias : Constant($"{bias.Name}/flat", bias.Constant!.Reshape([n]));
        Value multiplier = scale.KnownShape.Length == 1 ? scale : Constant($"{scale.Name}/flat", scale.Constant!.Reshape([1]));
        return new Node($"{producer.Name}/QGemm", "QGemm", FusedDomain.Name,
            [producer.Inputs[0], b, aZero, bZero, flatBias, multiplier], [dq.Outputs[0]], NoAttributes);
    }

    /// <summary>Infers the new nodes; a node its operator rejects keeps the float path (the pattern checks should have caught it).</summary>
    private bool Infers(Node[] nodes, int opset)
    {
        try
        {
            foreach (Node n in nodes.Where(n => n.Domain != FusedDomain.Name))
            {
                ShapeInferencePass.Resolve(registry, n, opset, modelPath).Infer(new InferenceContext(n, opset, modelPath));
            }

            return true;
        }
        catch (CompileException)
        {
            return false;
        }
    }

    private static Node[]? FuseConv(Node conv, Node q)
    {
        Value w = conv.Inputs[1]!;
        int outChannels = w.KnownShape[0];
        if (Activation(conv.Inputs[0]) is not { } x || Weights(conv.Inputs[1], 0, outChannels) is not { } weights || Output(q) is not { } y)
        {
            return null;
        }

        Value? bias = null;
        if (conv.Inputs.Count > 2 && conv.Inputs[2] is { } b && (bias = Bias(b, x, weights, outChannels)) is null)
        {
            return null;
        }

        Value?[] inputs = [x.Data, x.Scale, x.Zero, weights.Data, weights.Scale, weights.Zero, y.Scale, y.Zero, .. bias is null ? Array.Empty<Value?>() : [bias]];
        return [new Node($"{conv.Name}/QLinearConv", "QLinearConv", "", inputs, [q.Outputs[0]], conv.Attributes)];
    }

    /// <summary>DequantizeLinear → 2-d MaxPool → QuantizeLinear with the same parameters: MaxPool on the quantized tensor.</summary>
    private static Node[]? FuseMaxPool(Node pool, Node q)
    {
        if ((pool.Outputs.Count > 1 && pool.Outputs[1] is { Name.Length: > 0 }) || pool.Inputs[0]!.KnownShape.Length != 4
            || Activation(pool.Inputs[0]) is not { } x || Output(q) is not { } y
            || x.Data.Type != y.Data.Type || !SameBytes(x.Scale, y.Scale) || !SameBytes(x.Zero, y.Zero))
        {
            return null;
        }

        return [new Node($"{pool.Name}/QMaxPool", "QMaxPool", FusedDomain.Name, [x.Data], [q.Outputs[0]], pool.Attributes)];

        static bool SameBytes(Value a, Value b) => a.Constant is { } ca && b.Constant is { } cb && ca.Type == cb.Type && ca.Bytes.SequenceEqual(cb.Bytes);
    }

    private static Node[]? FuseMatMul(Node matmul, Node q)
    {
        Value b = matmul.Inputs[1]!;
        if (b.KnownShape.Length != 2 || Activation(matmul.Inputs[0]) is not { } a || Weights(b, 1, b.KnownShape[1]) is not { } weights || Output(q) is not { } y)
        {
            return null;
        }

        return [new Node($"{matmul.Name}/QLinearMatMul", "QLinearMatMul", "", [a.Data, a.Scale, a.Zero, weights.Data, weights.Scale, weights.Zero, y.Scale, y.Zero], [q.Outputs[0]], NoAttributes)];
    }

    private static Node[]? FuseGemm(Node gemm, Node q)
    {
        Value w = gemm.Inputs[1]!;
        bool transB = Int(gemm, "transB", 0) != 0;
        if (Int(gemm, "transA", 0) != 0 || Float(gemm, "alpha", 1) != 1 || w.KnownShape.Length != 2)
        {
            return null;
        }

        int n = transB ? w.KnownShape[0] : w.KnownShape[1];
        if (Activation(gemm.Inputs[0]) is not { } a || Weights(w, transB ? 0 : 1, n) is not { } weights || Output(q) is not { } y)
        {
            return null;
        }

        Value? bias = null;
        float beta = Float(gemm, "beta", 1);
        Value? c = gemm.Inputs.Count > 2 && beta != 0 ? gemm.Inputs[2] : null;
        if (c is not null && (beta != 1 || c.KnownShape.Length > 2 || c.KnownShape.Take(c.KnownShape.Length - 1).Any(d => d != 1)
            || (bias = Bias(c, a, weights, n)) is null))
        {
            return null;
        }

        if (transB)
        {
            weights = weights with { Data = Transposed(weights.Data, $"{gemm.Name}/weightsT") };
        }

        if (bias is null)
        {
            return [new Node($"{gemm.Name}/QLinearMatMul", "QLinearMatMul", "", [a.Data, a.Scale, a.Zero, weights.Data, weights.Scale, weights.Zero, y.Scale, y.Zero], [q.Outputs[0]], NoAttributes)];
        }

        float sa = a.Scale.Constant!.ToFloats()[0], sy = y.Scale.Constant!.ToFloats()[0];
        float[] sw = weights.Scale.Constant!.ToFloats();
        if (IntegerLinear.Packable(weights.Data, a.Zero, weights.Zero))
        {
            // One kernel call: the product, the bias and the requantization (by sa · sw / sy, as QLinearMatMul) in its store.
            var multiplier = Constant($"{gemm.Name}/multiplier", Tensor.FromFloats([sw.Length], sw.Select(s => sa * s / sy).ToArray()));
            return [new Node($"{gemm.Name}/QGemm", "QGemm", FusedDomain.Name, [a.Data, weights.Data, a.Zero, weights.Zero, bias, multiplier, y.Zero], [q.Outputs[0]], NoAttributes)];
        }

        // QLinearMatMul has no bias: add it to the int32 sums, and quantize those by sy / (sa · sw).
        var requantize = Constant($"{gemm.Name}/requantizeScale", sw.Length == 1 ? Tensor.FromFloats([], sy / (sa * sw[0])) : Tensor.FromFloats([n], sw.Select(s => sy / (sa * s)).ToArray()));
        Value zero = y.Zero;
        if (sw.Length > 1)
        {
            // QuantizeLinear wants a zero point of the scale's shape: the output's, once per column.
            byte z = y.Zero.Constant!.Bytes[0];
            zero = Constant($"{gemm.Name}/requantizeZeroPoint", new Tensor(y.Zero.Type, [n], Enumerable.Repeat(z, n).ToArray()));
        }

        var sums = new Value($"{gemm.Name}/sums");
        var biased = new Value($"{gemm.Name}/biasedSums");
        return
        [
            new Node($"{gemm.Name}/MatMulInteger", "MatMulInteger", "", [a.Data, weights.Data, a.Zero, weights.Zero], [sums], NoAttributes),
            new Node($"{gemm.Name}/AddBias", "Add", "", [sums, bias], [biased], NoAttributes),
            new Node($"{gemm.Name}/Requantize", "QuantizeLinear", "", [biased, requantize, zero], [q.Outputs[0]], IntAttribute("axis", 1)),
        ];
    }

    /// <summary>A quantized tensor with its parameters.</summary>
    private sealed record Quantized(Value Data, Value Scale, Value Zero);

    internal static readonly IReadOnlyDictionary<string, Attribute> NoAttributes = new Dictionary<string, Attribute>();

    /// <summary>An activation: any int8/uint8 tensor, dequantized per tensor with constant parameters.</summary>
    private static Quantized? Activation(Value? value)
        => Dequantized(value) is { } dq && PerTensor(dq) ? Parameters(dq) : null;

    /// <summary>Constant int8/uint8 weights dequantized per tensor, or per channel along <paramref name="axis"/> of <paramref name="channels"/>.</summary>
    private static Quantized? Weights(Value? value, int axis, int channels)
    {
        if (Dequantized(value) is not { } dq || !dq.Inputs[0]!.IsConstant)
        {
            return null;
        }

        if (PerTensor(dq))
        {
            return Parameters(dq);
        }

        Value data = dq.Inputs[0]!, scale = dq.Inputs[1]!;
        int rank = data.KnownShape.Length;
        long a = Int(dq, "axis", 1);
        bool perAxis = (a < 0 ? a + rank : a) == axis && Shapes.Equal(scale.KnownShape, [channels]) && scale.IsConstant
            && (dq.Inputs.Count < 3 || dq.Inputs[2] is null || dq.Inputs[2]!.IsConstant);
        return perAxis ? Parameters(dq) : null;
    }

    /// <summary>
    /// A constant int32 bias dequantized with zero point 0 and the scale of the product it is added to
    /// (input scale × weight scale per channel), so its values are already in the accumulator's units.
    /// </summary>
    private static Value? Bias(Value value, Quantized input, Quantized weights, int channels)
    {
        if (value.Producer is not { } dq || !Is(dq, "DequantizeLinear") || dq.Inputs[0] is not { IsConstant: true, Type: ElementType.Int32 } data
            || dq.Inputs[1] is not { IsConstant: true } scale || data.ElementCount != channels)
        {
            return null;
        }

        if (dq.Inputs.Count > 2 && dq.Inputs[2] is { } zero && (!zero.IsConstant || zero.Constant!.ToInt64s().Any(z => z != 0)))
        {
            return null;
        }

        float sx = input.Scale.Constant!.ToFloats()[0];
        float[] sw = weights.Scale.Constant!.ToFloats(), sb = scale.Constant!.ToFloats();
        if (sb.Length != 1 && sb.Length != channels)
        {
            return null;
        }

        for (int c = 0; c < channels; c++)
        {
            float expected = sx * sw[sw.Length == 1 ? 0 : c], actual = sb[sb.Length == 1 ? 0 : c];
            if (Math.Abs(actual - expected) > 1e-6f * Math.Abs(expected))
            {
                return null;
            }
        }

        return data.KnownShape.Length == 1 ? data : Constant($"{data.Name}/flat", data.Constant!.Reshape([channels]));
    }

    /// <summary>The output quantization: per tensor, constant parameters, to int8 or uint8.</summary>
    private static Quantized? Output(Node q)
    {
        Value y = q.Outputs[0];
        if (y.Type is not (ElementType.UInt8 or ElementType.Int8) || q.Inputs[0]!.Type != ElementType.Float32 || !PerTensor(q))
        {
            return null;
        }

        Value? zero = q.Inputs.Count > 2 ? q.Inputs[2] : null;
        return new Quantized(y, q.Inputs[1]!, zero ?? Zero(y.Type, $"{q.Name}/zeroPoint"));
    }

    private static Node? Dequantized(Value? value)
        => value?.Producer is { } p && Is(p, "DequantizeLinear") && p.Inputs[0]!.Type is ElementType.UInt8 or ElementType.Int8 ? p : null;

    /// <summary>Whether a QuantizeLinear or DequantizeLinear has one constant float32 scale and zero point.</summary>
    private static bool PerTensor(Node node)
    {
        Value scale = node.Inputs[1]!;
        Value? zero = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        return scale is { IsConstant: true, Type: ElementType.Float32 } && scale.ElementCount == 1 && Int(node, "block_size", 0) == 0
            && (zero is null || (zero.IsConstant && zero.ElementCount == 1));
    }

    private static Quantized Parameters(Node dq)
    {
        Value data = dq.Inputs[0]!;
        Value? zero = dq.Inputs.Count > 2 ? dq.Inputs[2] : null;
        return new Quantized(data, dq.Inputs[1]!, zero ?? Zero(data.Type, $"{dq.Name}/zeroPoint"));
    }

    private static bool Is(Node node, string opType) => node.OpType == opType && node.Domain.Length == 0;

    internal static long Int(Node node, string name, long fallback)
        => node.Attributes.TryGetValue(name, out Attribute? a) && a.Kind == AttributeKind.Int ? a.Int : fallback;

    internal static float Float(Node node, string name, float fallback)
        => node.Attributes.TryGetValue(name, out Attribute? a) && a.Kind == AttributeKind.Float ? a.Float : fallback;

    internal static IReadOnlyDictionary<string, Attribute> IntAttribute(string name, long value)
        => new Dictionary<string, Attribute> { [name] = new Attribute(name, AttributeKind.Int) { Int = value } };

    private static Value Zero(ElementType type, string name) => Constant(name, new Tensor(type, [], new byte[1]));

    internal static Value Constant(string name, Tensor tensor)
    {
        var v = new Value(name);
        v.SetConstant(tensor);
        return v;
    }

    /// <summary>A constant <c>[n, k]</c> byte matrix as <c>[k, n]</c>.</summary>
    private static Value Transposed(Value matrix, string name)
    {
        Tensor t = matrix.Constant!;
        int rows = t.Shape[0], cols = t.Shape[1];
        ReadOnlySpan<byte> source = t.Bytes;
        var data = new byte[source.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                data[c * rows + r] = source[r * cols + c];
            }
        }

        return Constant(name, new Tensor(t.Type, [cols, rows], data));
    }
}
