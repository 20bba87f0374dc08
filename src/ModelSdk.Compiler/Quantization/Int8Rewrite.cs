using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using ModelSdk.Compiler.Passes;
using Attribute = ModelSdk.Compiler.Ir.Attribute;
using static ModelSdk.Compiler.Passes.QdqFusionPass;

namespace ModelSdk.Compiler.Quantization;

/// <summary>One layer the int8 rewrite quantized.</summary>
/// <param name="Node">The float node's name.</param>
/// <param name="OpType">Conv, Gemm or MatMul.</param>
/// <param name="Channels">Output channels (one weight scale each).</param>
/// <param name="WeightScaleMin">Smallest per-channel weight scale.</param>
/// <param name="WeightScaleMax">Largest per-channel weight scale.</param>
/// <param name="Input">The uint8 parameters of its input activation.</param>
/// <param name="Output">The uint8 parameters of its output, or null when the output stays float (integer product dequantized to float32).</param>
/// <param name="FloatOutput">The float tensor the layer's result stands for (after a folded Relu, the Relu's output).</param>
/// <param name="QuantizedOutput">The uint8 tensor holding the result, or null when <see cref="Output"/> is null.</param>
/// <param name="FoldedRelu">The Relu folded into the output range, if any.</param>
public sealed record QuantizedLayer(
    string Node, string OpType, int Channels, float WeightScaleMin, float WeightScaleMax,
    QuantizationParameters Input, QuantizationParameters? Output, string FloatOutput, string? QuantizedOutput, string? FoldedRelu);

/// <summary>
/// Rewrites a float graph (after <see cref="Passes.PassPipeline"/>) into ONNX's QDQ form from calibrated
/// ranges, so that <see cref="Passes.QdqFusionPass"/> turns it into the integer kernels:
/// <list type="bullet">
/// <item>Conv, Gemm and MatMul with constant weights: weights per output channel, symmetric int8
/// ([−127, 127], zero point 0), as int8 constants feeding DequantizeLinear; a bias becomes int32 in
/// units of input scale × weight scale.</item>
/// <item>Activations per tensor, asymmetric uint8: the kernels run uint8 × int8 at least as fast as
/// int8 × int8 (docs/architecture.md has the numbers), and after a ReLU a uint8 range with zero point
/// 0 keeps all 256 levels where int8 symmetric would keep 128. A Relu that alone reads a layer's output
/// is folded: the output is quantized with the Relu's range, whose zero point is 0, so the clamp of
/// requantization is the Relu.</item>
/// <item>A layer's output is quantized only when a quantized layer reads it (directly or through
/// reshaping views and MaxPool, which commute with quantization and keep the producer's parameters):
/// consecutive layers then pass uint8 tensors without a DequantizeLinear → QuantizeLinear round trip.
/// Otherwise the integer sums are dequantized straight to float32 (ConvInteger/MatMulInteger, int32
/// bias, DequantizeLinear), which loses nothing to output rounding: what graph outputs and float
/// operators read.</item>
/// <item>Everything else stays float; a float operator reading a quantized tensor reads its DequantizeLinear.</item>
/// </list>
/// Nodes and tensors named in QuantizeExclude stay float. The walk follows graph order and creates
/// names from the model's names, so the same graph and ranges give the same rewrite.
/// </summary>
public sealed class Int8Rewrite
{
    private static readonly HashSet<string> Views = new(StringComparer.Ordinal) { "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity" };

    private readonly Graph _graph;
    private readonly CalibrationResult _calibration;
    private readonly IReadOnlySet<string> _exclude;
    private readonly Dictionary<Value, (Value Data, Quantization Q)> _quantized = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Value, Value> _dequantized = new(ReferenceEqualityComparer.Instance);
    private readonly List<Node> _result = [];

    /// <summary>Per-tensor uint8 parameters and their constant values in the graph.</summary>
    private sealed record Quantization(QuantizationParameters P, Value Scale, Value Zero);

    private Int8Rewrite(Graph graph, CalibrationResult calibration, IReadOnlySet<string> exclude)
    {
        _graph = graph;
        _calibration = calibration;
        _exclude = exclude;
    }

    /// <summary>
    /// The float32 tensors the rewrite needs ranges for: <see cref="Calibrator.DefaultTensors"/> plus the
    /// output of a Relu that alone reads a layer's output (folded into that layer's output range).
    /// </summary>
    public static IReadOnlyList<string> TensorsToCalibrate(Graph graph, IReadOnlySet<string> exclude)
    {
        var names = new List<string>(Calibrator.DefaultTensors(graph, [.. exclude]));
        Dictionary<Value, List<Node>> readers = Readers(graph);
        foreach (Node node in Calibrator.QuantizableNodes(graph, exclude))
        {
            if (FoldableRelu(graph, node.Outputs[0], readers) is { } relu && !exclude.Contains(relu.Outputs[0].Name) && !names.Contains(relu.Outputs[0].Name))
            {
                names.Add(relu.Outputs[0].Name);
            }
        }

        return names;
    }

    /// <summary>
    /// Rewrites <paramref name="graph"/> in place into QDQ form. The caller then runs shape inference,
    /// <see cref="Passes.QdqFusionPass"/> and dead-code removal over it.
    /// </summary>
    public static IReadOnlyList<QuantizedLayer> Apply(Graph graph, CalibrationResult calibration, IReadOnlySet<string> exclude)
        => new Int8Rewrite(graph, calibration, exclude).Run();

    private IReadOnlyList<QuantizedLayer> Run()
    {
        Dictionary<Value, List<Node>> readers = Readers(_graph);
        List<Node> layers = Calibrator.QuantizableNodes(_graph, _exclude).Where(IsSupportedLayer).ToList();
        HashSet<Value> wanted = QuantizedInputs(layers);
        var layerSet = new HashSet<Node>(layers, ReferenceEqualityComparer.Instance);
        var dropped = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var report = new List<QuantizedLayer>();
        foreach (Node node in _graph.Nodes)
        {
            if (dropped.Contains(node))
            {
                continue;
            }

            if (!layerSet.Contains(node) || Input(node.Inputs[0]!) is not { } input)
            {
                _result.Add(node);
                continue;
            }

            Value y = node.Outputs[0];
            Node? relu = FoldableRelu(_graph, y, readers);
            if (relu is not null && (_exclude.Contains(y.Name) || !Quantizable(relu.Outputs[0], wanted)))
            {
                relu = null;
            }

            Value outValue = relu?.Outputs[0] ?? y;
            bool quantizeOutput = Quantizable(outValue, wanted);
            Weights w = QuantizeWeights(node);
            QuantizedLayer layer;
            if (quantizeOutput)
            {
                Quantization q = Parameters(outValue.Name, ActivationRange(outValue.Name).Uint8Asymmetric());
                if (relu is not null)
                {
                    dropped.Add(relu);
                }

                var floatResult = new Value($"{node.Name}/float");
                floatResult.Type = ElementType.Float32;
                Add(QdqLayer(node, input, w, floatResult));
                Value data = NewValue($"{outValue.Name}/quantized");
                Add(new Node($"{outValue.Name}/QuantizeLinear", "QuantizeLinear", "", [floatResult, q.Scale, q.Zero], [data], NoAttributes));
                Add(new Node($"{outValue.Name}/DequantizeLinear", "DequantizeLinear", "", [data, q.Scale, q.Zero], [outValue], NoAttributes));
                _quantized[outValue] = (data, q);
                layer = new QuantizedLayer(node.Name, node.OpType, w.Channels, w.Scales.Min(), w.Scales.Max(), input.Q.P, q.P, outValue.Name, data.Name, relu?.Name);
            }
            else
            {
                IntegerLayerToFloat(node, input, w, y);
                layer = new QuantizedLayer(node.Name, node.OpType, w.Channels, w.Scales.Min(), w.Scales.Max(), input.Q.P, null, y.Name, null, null);
            }

            report.Add(layer);
        }

        _graph.Nodes = _result;
        return report;
    }

    /// <summary>Whether <paramref name="v"/> is read by a quantized layer, may be quantized and has a range.</summary>
    private bool Quantizable(Value v, HashSet<Value> wanted)
        => wanted.Contains(v) && !_exclude.Contains(v.Name) && _calibration.Tensors.ContainsKey(v.Name);

    /// <summary>Conv with constant weights; Gemm without transA, with constant B and a per-column or scalar C; MatMul by a constant matrix.</summary>
    private bool IsSupportedLayer(Node node)
    {
        Value? x = node.Inputs[0];
        Value? w = node.Inputs.Count > 1 ? node.Inputs[1] : null;
        // A fused epilogue (activation, residual) is float work the integer kernels do not do: such a layer stays float.
        if (x is null || x.IsConstant || x.Type != ElementType.Float32 || w is not { IsConstant: true, Type: ElementType.Float32 } || _exclude.Contains(w.Name)
            || node.Epilogue is not null)
        {
            return false;
        }

        switch (node.OpType)
        {
            case "Conv":
                return w.KnownShape.Length >= 3 && (node.Inputs.Count < 3 || node.Inputs[2] is null || node.Inputs[2]!.IsConstant);
            case "MatMul":
                return w.KnownShape.Length == 2 && x.KnownShape.Length >= 2;
            case "Gemm":
                if (Int(node, "transA", 0) != 0)
                {
                    return false;
                }

                Value? c = node.Inputs.Count > 2 ? node.Inputs[2] : null;
                int n = Int(node, "transB", 0) != 0 ? w.KnownShape[0] : w.KnownShape[1];
                return c is null || Float(node, "beta", 1) == 0
                    || (c.IsConstant && c.Type == ElementType.Float32 && (c.ElementCount == 1 || (c.ElementCount == n && c.KnownShape[^1] == n)));
            default:
                return false;
        }
    }

    /// <summary>
    /// The float values that quantized layers read as inputs, followed back through views, MaxPool and
    /// Relu to where a quantized output could supply them.
    /// </summary>
    private HashSet<Value> QuantizedInputs(List<Node> layers)
    {
        var wanted = new HashSet<Value>(ReferenceEqualityComparer.Instance);
        foreach (Node layer in layers)
        {
            Value? v = layer.Inputs[0];
            while (v is not null && !_exclude.Contains(v.Name) && wanted.Add(v))
            {
                Node? p = v.Producer;
                v = p is not null && (IsView(p) || IsMaxPool(p) || (p.OpType == "Relu" && p.Domain.Length == 0)) ? p.Inputs[0] : null;
            }
        }

        return wanted;
    }

    /// <summary>The uint8 form of a layer's input: existing where possible, else a new QuantizeLinear; null when it has no range.</summary>
    private (Value Data, Quantization Q, Value Dequantized)? Input(Value x)
    {
        if (Existing(x) is not { } found)
        {
            if (_exclude.Contains(x.Name) || !_calibration.Tensors.ContainsKey(x.Name))
            {
                return null;
            }

            found = QuantizeNew(x, Parameters(x.Name, ActivationRange(x.Name).Uint8Asymmetric()));
        }

        return (found.Data, found.Q, Dequantize(x, found.Data, found.Q));
    }

    /// <summary>A uint8 form of <paramref name="x"/> that follows from one already made, without new calibration.</summary>
    private (Value Data, Quantization Q)? Existing(Value x)
    {
        if (_quantized.TryGetValue(x, out var known))
        {
            return known;
        }

        Node? p = x.Producer;
        if (p is null || _exclude.Contains(x.Name))
        {
            return null;
        }

        if (IsView(p) && p.Inputs.Skip(1).All(i => i is null || i.IsConstant) && Existing(p.Inputs[0]!) is { } source)
        {
            // A view of a quantized tensor is the same view of its bytes.
            Value data = NewValue($"{x.Name}/quantized");
            Add(new Node($"{p.Name}/quantized", p.OpType, p.Domain, [source.Data, .. p.Inputs.Skip(1)], [data], p.Attributes));
            return _quantized[x] = (data, source.Q);
        }

        if (IsMaxPool(p) && Existing(p.Inputs[0]!) is { } pooled)
        {
            // The maximum commutes with a monotonic quantization: the input's parameters are exact for the output.
            return QuantizeNew(x, pooled.Q);
        }

        return null;
    }

    private (Value Data, Quantization Q) QuantizeNew(Value x, Quantization q)
    {
        Value data = NewValue($"{x.Name}/quantized");
        Add(new Node($"{x.Name}/QuantizeLinear", "QuantizeLinear", "", [x, q.Scale, q.Zero], [data], NoAttributes));
        return _quantized[x] = (data, q);
    }

    /// <summary>The float value a quantized layer reads for <paramref name="x"/>: x itself when it already is a DequantizeLinear output of ours.</summary>
    private Value Dequantize(Value x, Value data, Quantization q)
    {
        if (x.Producer is { OpType: "DequantizeLinear" } dq && dq.Inputs[0] == data)
        {
            return x;
        }

        if (!_dequantized.TryGetValue(data, out Value? result))
        {
            result = NewValue($"{data.Name}/dequantized");
            result.Type = ElementType.Float32;
            Add(new Node($"{data.Name}/DequantizeLinear", "DequantizeLinear", "", [data, q.Scale, q.Zero], [result], NoAttributes));
            _dequantized[data] = result;
        }

        return result;
    }

    private sealed record Weights(sbyte[] Data, int[] Shape, float[] Scales, int Channels, int Axis, Tensor? Bias);

    /// <summary>Per-output-channel symmetric int8 weights (and the float bias) of a layer; Gemm's alpha and beta are applied here.</summary>
    private static Weights QuantizeWeights(Node node)
    {
        Tensor w = node.Inputs[1]!.Constant!;
        int axis = node.OpType switch
        {
            "Conv" => 0,
            "Gemm" => Int(node, "transB", 0) != 0 ? 0 : 1,
            _ => 1,
        };
        float[] values = w.ToFloats();
        if (node.OpType == "Gemm" && Float(node, "alpha", 1) is var alpha && alpha != 1)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] *= alpha;
            }
        }

        (sbyte[] data, float[] scales) = PerChannel(values, w.Shape, axis);
        int channels = w.Shape[axis];
        Tensor? bias = null;
        Value? c = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        if (c is { Constant: { } constant })
        {
            float beta = node.OpType == "Gemm" ? Float(node, "beta", 1) : 1;
            if (beta != 0)
            {
                float[] b = constant.ToFloats();
                bias = Tensor.FromFloats([channels], Enumerable.Range(0, channels).Select(i => b[b.Length == 1 ? 0 : i] * beta).ToArray());
            }
        }

        return new Weights(data, w.Shape, scales, channels, axis, bias);
    }

    /// <summary>
    /// Symmetric int8 per channel along <paramref name="axis"/>: scale = max|w| / 127 per channel (1 for an
    /// all-zero channel), q = round half to even (w / scale), within [−127, 127].
    /// </summary>
    public static (sbyte[] Data, float[] Scales) PerChannel(ReadOnlySpan<float> values, int[] shape, int axis)
    {
        int channels = shape[axis];
        int inner = Shapes.Product(shape, axis + 1, shape.Length);
        int outer = channels == 0 || inner == 0 ? 0 : values.Length / (channels * inner);
        var lo = new float[channels];
        var hi = new float[channels];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<float> run = values.Slice((o * channels + c) * inner, inner);
                foreach (float v in run)
                {
                    lo[c] = MathF.Min(lo[c], v);
                    hi[c] = MathF.Max(hi[c], v);
                }
            }
        }

        var parameters = new QuantizationParameters[channels];
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            parameters[c] = QuantizationMath.Int8Symmetric(lo[c], hi[c]);
            scales[c] = parameters[c].Scale;
        }

        var data = new sbyte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int c = inner == 0 ? 0 : i / inner % channels;
            data[i] = (sbyte)QuantizationMath.Quantize(values[i], parameters[c], -127, 127);
        }

        return (data, scales);
    }

    /// <summary>The QDQ form of the layer: DequantizeLinear on input, weights and int32 bias, then the float operator into <paramref name="result"/>.</summary>
    private Node QdqLayer(Node node, (Value Data, Quantization Q, Value Dequantized) input, Weights w, Value result)
    {
        Value weights = Constant($"{node.Name}/weights_int8", Tensor.From<sbyte>(ElementType.Int8, w.Shape, w.Data));
        Value scales = Constant($"{node.Name}/weight_scales", Tensor.FromFloats([w.Channels], w.Scales));
        Value dqWeights = NewValue($"{node.Name}/weights_dequantized");
        Add(new Node($"{node.Name}/weights/DequantizeLinear", "DequantizeLinear", "", [weights, scales], [dqWeights], IntAttribute("axis", w.Axis)));
        var inputs = new List<Value?> { input.Dequantized, dqWeights };
        var attributes = new Dictionary<string, Attribute>(node.Attributes, StringComparer.Ordinal);
        if (w.Bias is not null)
        {
            (Value bias, Value biasScale) = IntegerBias(node, input.Q.P.Scale, w);
            Value dqBias = NewValue($"{node.Name}/bias_dequantized");
            Add(new Node($"{node.Name}/bias/DequantizeLinear", "DequantizeLinear", "", [bias, biasScale], [dqBias], IntAttribute("axis", 0)));
            inputs.Add(dqBias);
        }

        if (node.OpType == "Gemm")
        {
            attributes.Remove("alpha");
            attributes.Remove("beta");
        }

        return new Node(node.Name, node.OpType, node.Domain, inputs, [result], attributes);
    }

    /// <summary>The bias in accumulator units: round(b / (sx · sw)) as int32, with its scale sx · sw per channel.</summary>
    private static (Value Bias, Value Scale) IntegerBias(Node node, float inputScale, Weights w)
    {
        float[] b = w.Bias!.ToFloats();
        var q = new int[w.Channels];
        var scale = new float[w.Channels];
        for (int c = 0; c < w.Channels; c++)
        {
            scale[c] = inputScale * w.Scales[c];
            q[c] = (int)Math.Clamp(Math.Round(b[c] / (double)scale[c], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        }

        return (Constant($"{node.Name}/bias_int32", Tensor.From<int>(ElementType.Int32, [w.Channels], q)), Constant($"{node.Name}/bias_scale", Tensor.FromFloats([w.Channels], scale)));
    }

    /// <summary>
    /// A layer whose output stays float: the integer product (ConvInteger or MatMulInteger) plus the int32
    /// bias, dequantized per channel by input scale × weight scale into the original output <paramref name="y"/>.
    /// </summary>
    private void IntegerLayerToFloat(Node node, (Value Data, Quantization Q, Value Dequantized) input, Weights w, Value y)
    {
        Value sums = NewValue($"{node.Name}/sums");
        int rank = y.KnownShape.Length;
        int[] biasShape;
        int axis;
        if (node.OpType == "Conv")
        {
            Value weights = Constant($"{node.Name}/weights_int8", Tensor.From<sbyte>(ElementType.Int8, w.Shape, w.Data));
            var attributes = new Dictionary<string, Attribute>(node.Attributes, StringComparer.Ordinal);
            Add(new Node($"{node.Name}/ConvInteger", "ConvInteger", "", [input.Data, weights, input.Q.Zero], [sums], attributes));
            axis = 1;
            biasShape = [w.Channels, .. Enumerable.Repeat(1, rank - 2)];
        }
        else
        {
            // MatMulInteger wants [K, N]: Gemm's transposed weights are stored transposed once, here.
            sbyte[] data = w.Data;
            int[] shape = w.Shape;
            if (w.Axis == 0)
            {
                (data, shape) = (Transpose(w.Data, w.Shape[0], w.Shape[1]), [w.Shape[1], w.Shape[0]]);
            }

            Value weights = Constant($"{node.Name}/weights_int8", Tensor.From<sbyte>(ElementType.Int8, shape, data));
            Add(new Node($"{node.Name}/MatMulInteger", "MatMulInteger", "", [input.Data, weights, input.Q.Zero], [sums], NoAttributes));
            axis = rank - 1;
            biasShape = [w.Channels];
        }

        if (w.Bias is not null)
        {
            (Value bias, _) = IntegerBias(node, input.Q.P.Scale, w);
            Value reshaped = Constant($"{node.Name}/bias_int32", bias.Constant!.Reshape(biasShape));
            Value biased = NewValue($"{node.Name}/biased_sums");
            Add(new Node($"{node.Name}/AddBias", "Add", "", [sums, reshaped], [biased], NoAttributes));
            sums = biased;
        }

        float[] scale = w.Scales.Select(s => input.Q.P.Scale * s).ToArray();
        Value scales = Constant($"{node.Name}/output_scales", Tensor.FromFloats([w.Channels], scale));
        Add(new Node($"{node.Name}/DequantizeLinear", "DequantizeLinear", "", [sums, scales], [y], IntAttribute("axis", axis)));
    }

    private static sbyte[] Transpose(sbyte[] data, int rows, int cols)
    {
        var result = new sbyte[data.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                result[c * rows + r] = data[r * cols + c];
            }
        }

        return result;
    }

    /// <summary>
    /// The calibrated range of an activation. For entropy on a tensor that is never negative (a ReLU's
    /// output), the KL search uses the 255 steps uint8 gives such a range rather than int8's 128 magnitudes:
    /// with 128 it clips the long tail of ReLU activations much harder than the uint8 grid needs.
    /// </summary>
    private CalibrationRange ActivationRange(string tensor)
    {
        TensorCalibration t = _calibration.Tensors[tensor];
        if (_calibration.Settings.Method != CalibrationMethod.Entropy || t.Min < 0 || t.Count == 0)
        {
            return t.Range(_calibration.Settings.Method);
        }

        float threshold = t.Histogram.EntropyThreshold(255);
        return new CalibrationRange(t.Min, MathF.Max(t.Min, MathF.Min(t.Max, threshold)));
    }

    private Quantization Parameters(string tensor, QuantizationParameters p)
        => new(p, Constant($"{tensor}/scale", Tensor.FromFloats([], p.Scale)), Constant($"{tensor}/zero_point", new Tensor(ElementType.UInt8, [], [(byte)p.ZeroPoint])));

    private void Add(Node node)
    {
        foreach (Value output in node.Outputs)
        {
            output.Producer = node;
        }

        _result.Add(node);
    }

    /// <summary>The Relu that alone reads <paramref name="y"/>, when <paramref name="y"/> is not a graph output.</summary>
    private static Node? FoldableRelu(Graph graph, Value y, Dictionary<Value, List<Node>> readers)
        => readers.TryGetValue(y, out List<Node>? r) && r.Count == 1 && r[0] is { OpType: "Relu", Domain: "" } relu
            && !graph.Outputs.Contains(y) && relu.Outputs[0].Type == ElementType.Float32 ? relu : null;

    private static Dictionary<Value, List<Node>> Readers(Graph graph)
    {
        var readers = new Dictionary<Value, List<Node>>(ReferenceEqualityComparer.Instance);
        foreach (Node node in graph.Nodes)
        {
            foreach (Value? input in node.Inputs.Concat(node.ImplicitInputs))
            {
                if (input is not null)
                {
                    if (!readers.TryGetValue(input, out List<Node>? list))
                    {
                        readers[input] = list = [];
                    }

                    if (!list.Contains(node))
                    {
                        list.Add(node);
                    }
                }
            }
        }

        return readers;
    }

    private static bool IsView(Node node) => node.Domain.Length == 0 && Views.Contains(node.OpType) && node.Outputs.Count == 1;

    private static bool IsMaxPool(Node node)
        => node.Domain.Length == 0 && node.OpType == "MaxPool" && (node.Outputs.Count == 1 || node.Outputs.Skip(1).All(o => o.Name.Length == 0));

    private static Value NewValue(string name) => new(name);
}
