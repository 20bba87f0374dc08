using System.Runtime.InteropServices;
using Google.Protobuf;
using ModelSdk.Onnx;

/// <summary>
/// Writes a float model in ONNX Runtime's QDQ format, as its static quantizer does with min/max
/// calibration, so that ONNX Runtime (which fuses the patterns into its integer kernels) and ModelSdk
/// (through its QDQ fusion) run the same quantized file. Weights: int8 symmetric per output channel;
/// activations: uint8 asymmetric per tensor over the calibration samples; a Relu that alone reads a
/// layer's output is folded into that output's range (zero point 0); biases int32 in units of input
/// scale × weight scale; MaxPool between DequantizeLinear and QuantizeLinear with its input's parameters;
/// Flatten on the quantized tensor. Handles the operators of the bench's MLP, MatMul and digits CNN:
/// Conv, Gemm, MatMul, Relu, MaxPool and Flatten (float32, batch 1, no dilation or groups).
/// </summary>
internal static class QdqQuantizer
{
    private sealed record Tensor(float[] Data, int[] Shape);

    private sealed record Range(float Scale, byte Zero);

    public static ModelProto Quantize(ModelProto model, IReadOnlyList<float[]> samples)
    {
        GraphProto g = model.Graph;
        var weights = g.Initializer.ToDictionary(t => t.Name, t => new Tensor(Floats(t), t.Dims.Select(d => (int)d).ToArray()));
        string input = g.Input.Single(i => !weights.ContainsKey(i.Name)).Name;
        int[] inputShape = g.Input.Single(i => i.Name == input).Type.TensorType.Shape.Dim.Select(d => (int)d.DimValue).ToArray();

        // Min/max of every tensor over the samples (0 always inside: zero must be exact).
        var min = new Dictionary<string, float>();
        var max = new Dictionary<string, float>();
        foreach (float[] sample in samples)
        {
            var values = new Dictionary<string, Tensor>(weights) { [input] = new Tensor(sample, inputShape) };
            foreach (NodeProto node in g.Node)
            {
                Tensor y = Evaluate(node, values);
                values[node.Output[0]] = y;
                min[node.Output[0]] = Math.Min(min.GetValueOrDefault(node.Output[0]), y.Data.Min());
                max[node.Output[0]] = Math.Max(max.GetValueOrDefault(node.Output[0]), y.Data.Max());
            }

            min[input] = Math.Min(min.GetValueOrDefault(input), sample.Min());
            max[input] = Math.Max(max.GetValueOrDefault(input), sample.Max());
        }

        var readers = g.Node.SelectMany(n => n.Input).GroupBy(i => i).ToDictionary(x => x.Key, x => x.Count());
        var output = new GraphProto { Name = g.Name + "_qdq" };
        output.Input.Add(g.Input.Where(i => i.Name == input));
        output.Output.Add(g.Output);
        string graphOutput = g.Output.Single().Name;

        // The quantized (uint8) name and parameters of each float tensor of the original graph.
        var quantized = new Dictionary<string, (string Name, Range Range)>();
        Range inputRange = Asymmetric(min[input], max[input]);
        quantized[input] = (Q(output, input, input + "_q", inputRange), inputRange);
        var skip = new HashSet<NodeProto>();
        foreach (NodeProto node in g.Node)
        {
            if (skip.Contains(node))
            {
                continue;
            }

            string x = node.Input[0];
            (string xq, Range xr) = quantized[x];
            switch (node.OpType)
            {
                case "Conv" or "Gemm" or "MatMul":
                {
                    // A Relu that alone reads the result: quantize with its range and drop it.
                    string result = node.Output[0];
                    NodeProto? relu = g.Node.FirstOrDefault(n => n.OpType == "Relu" && n.Input[0] == result);
                    if (relu is not null && readers[result] == 1)
                    {
                        skip.Add(relu);
                        result = relu.Output[0];
                    }

                    bool transB = node.Attribute.Any(a => a.Name == "transB" && a.I != 0);
                    int axis = node.OpType == "Conv" || transB ? 0 : 1;
                    Tensor w = weights[node.Input[1]];
                    (byte[] wq, float[] ws) = PerChannel(w, axis);
                    string wName = node.Input[1] + "_q";
                    output.Initializer.Add(Raw(wName, TensorProto.Types.DataType.Int8, w.Shape, wq));
                    output.Initializer.Add(FloatTensor(wName + "_scale", [ws.Length], ws));
                    output.Initializer.Add(Raw(wName + "_zero", TensorProto.Types.DataType.Int8, [ws.Length], new byte[ws.Length]));
                    var inputs = new List<string>
                    {
                        Dq(output, xq, xr, x + "_dq"),
                        Node(output, "DequantizeLinear", [wName, wName + "_scale", wName + "_zero"], node.Input[1] + "_dq", ("axis", axis)),
                    };
                    if (node.Input.Count > 2)
                    {
                        Tensor b = weights[node.Input[2]];
                        float[] bs = ws.Select(s => s * xr.Scale).ToArray();
                        int[] bq = b.Data.Select((v, c) => (int)Math.Clamp(Math.Round(v / bs[c], MidpointRounding.ToEven), int.MinValue, int.MaxValue)).ToArray();
                        string bName = node.Input[2] + "_q";
                        output.Initializer.Add(Raw(bName, TensorProto.Types.DataType.Int32, b.Shape, MemoryMarshal.AsBytes(bq.AsSpan()).ToArray()));
                        output.Initializer.Add(FloatTensor(bName + "_scale", [bs.Length], bs));
                        inputs.Add(Node(output, "DequantizeLinear", [bName, bName + "_scale"], node.Input[2] + "_dq", ("axis", 0)));
                    }

                    var layer = new NodeProto { OpType = node.OpType, Name = node.Name };
                    layer.Input.AddRange(inputs);
                    layer.Output.Add(result + "_float");
                    layer.Attribute.AddRange(node.Attribute);
                    output.Node.Add(layer);
                    Range yr = Asymmetric(min[result], max[result]);
                    quantized[result] = (Q(output, result + "_float", result + "_q", yr), yr);
                    break;
                }

                case "MaxPool":
                {
                    var pool = new NodeProto { OpType = "MaxPool", Name = node.Name };
                    pool.Input.Add(Dq(output, xq, xr, x + "_dq"));
                    pool.Output.Add(node.Output[0] + "_float");
                    pool.Attribute.AddRange(node.Attribute);
                    output.Node.Add(pool);
                    quantized[node.Output[0]] = (Q(output, node.Output[0] + "_float", node.Output[0] + "_q", xr), xr);
                    break;
                }

                case "Flatten":
                {
                    var flatten = new NodeProto { OpType = "Flatten", Name = node.Name };
                    flatten.Input.Add(xq);
                    flatten.Output.Add(node.Output[0] + "_q");
                    flatten.Attribute.AddRange(node.Attribute);
                    output.Node.Add(flatten);
                    quantized[node.Output[0]] = (node.Output[0] + "_q", xr);
                    break;
                }

                default:
                    throw new NotSupportedException($"QdqQuantizer: {node.OpType} ({node.Name}) is not handled.");
            }
        }

        // The graph output, dequantized under its own name.
        (string lastQ, Range lastRange) = quantized[graphOutput];
        Dq(output, lastQ, lastRange, graphOutput);
        var quantizedModel = new ModelProto { IrVersion = model.IrVersion, ProducerName = "ModelSdk.Benchmarks.ModelGen (QDQ)", Graph = output };

        // The output's quantum, for the bench's --check (outputs may differ by one quantum: rounding).
        quantizedModel.MetadataProps.Add(new StringStringEntryProto { Key = "output_scale", Value = lastRange.Scale.ToString("R", System.Globalization.CultureInfo.InvariantCulture) });
        quantizedModel.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Math.Max(13, model.OpsetImport.Single(o => o.Domain.Length == 0).Version) });
        return quantizedModel;
    }

    private static string Q(GraphProto g, string x, string name, Range r)
    {
        g.Initializer.Add(FloatTensor(name + "_scale", [], [r.Scale]));
        g.Initializer.Add(Raw(name + "_zero", TensorProto.Types.DataType.Uint8, [], [r.Zero]));
        return Node(g, "QuantizeLinear", [x, name + "_scale", name + "_zero"], name);
    }

    /// <summary>DequantizeLinear of <paramref name="q"/> (whose parameters <see cref="Q"/> stored under its name).</summary>
    private static string Dq(GraphProto g, string q, Range r, string name)
    {
        string scale = q + "_scale", zero = q + "_zero";
        if (!g.Initializer.Any(t => t.Name == scale))
        {
            // A view (Flatten) of a quantized tensor: same parameters, stored under the view's name.
            g.Initializer.Add(FloatTensor(scale, [], [r.Scale]));
            g.Initializer.Add(Raw(zero, TensorProto.Types.DataType.Uint8, [], [r.Zero]));
        }

        return Node(g, "DequantizeLinear", [q, scale, zero], name);
    }

    private static string Node(GraphProto g, string op, string[] inputs, string output, params (string Name, long Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output + "/" + op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach ((string name, long value) in attributes)
        {
            node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        }

        g.Node.Add(node);
        return output;
    }

    private static Range Asymmetric(float lo, float hi)
    {
        lo = Math.Min(lo, 0);
        hi = Math.Max(hi, 0);
        float scale = hi > lo ? (hi - lo) / 255 : 1;
        return new Range(scale, (byte)Math.Clamp(Math.Round(-lo / scale, MidpointRounding.ToEven), 0, 255));
    }

    /// <summary>Symmetric int8 per slice along <paramref name="axis"/> (0 or 1 of a matrix; 0 of a conv's weights): max|w| / 127.</summary>
    private static (byte[] Values, float[] Scales) PerChannel(Tensor w, int axis)
    {
        int channels = w.Shape[axis];
        int inner = w.Shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        var scales = new float[channels];
        for (int i = 0; i < w.Data.Length; i++)
        {
            int c = i / inner % channels;
            scales[c] = Math.Max(scales[c], Math.Abs(w.Data[i]) / 127);
        }

        for (int c = 0; c < channels; c++)
        {
            scales[c] = scales[c] == 0 ? 1 : scales[c];
        }

        var values = new byte[w.Data.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (byte)(sbyte)Math.Clamp(Math.Round(w.Data[i] / scales[i / inner % channels], MidpointRounding.ToEven), -127, 127);
        }

        return (values, scales);
    }

    private static Tensor Evaluate(NodeProto node, Dictionary<string, Tensor> values)
    {
        Tensor x = values[node.Input[0]];
        long[] Ints(string name, long[] fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() ?? fallback;
        switch (node.OpType)
        {
            case "Relu":
                return x with { Data = x.Data.Select(v => Math.Max(v, 0)).ToArray() };
            case "Flatten":
                return x with { Shape = [x.Shape[0], x.Data.Length / x.Shape[0]] };
            case "MatMul" or "Gemm":
            {
                Tensor w = values[node.Input[1]];
                bool transB = node.Attribute.Any(a => a.Name == "transB" && a.I != 0);
                int m = x.Shape[0], k = x.Shape[1], n = transB ? w.Shape[0] : w.Shape[1];
                var y = new float[m * n];
                float[]? bias = node.Input.Count > 2 ? values[node.Input[2]].Data : null;
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double sum = bias?[j] ?? 0;
                        for (int p = 0; p < k; p++)
                        {
                            sum += x.Data[i * k + p] * w.Data[transB ? j * k + p : p * n + j];
                        }

                        y[i * n + j] = (float)sum;
                    }
                }

                return new Tensor(y, [m, n]);
            }

            case "Conv":
            {
                Tensor w = values[node.Input[1]];
                float[]? bias = node.Input.Count > 2 ? values[node.Input[2]].Data : null;
                long[] pads = Ints("pads", [0, 0, 0, 0]), strides = Ints("strides", [1, 1]);
                int c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], oc = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3];
                int oh = (int)((h + pads[0] + pads[2] - kh) / strides[0]) + 1, ow = (int)((wd + pads[1] + pads[3] - kw) / strides[1]) + 1;
                var y = new float[oc * oh * ow];
                for (int o = 0; o < oc; o++)
                {
                    for (int r = 0; r < oh; r++)
                    {
                        for (int q = 0; q < ow; q++)
                        {
                            double sum = bias?[o] ?? 0;
                            for (int ci = 0; ci < c; ci++)
                            {
                                for (int u = 0; u < kh; u++)
                                {
                                    for (int v = 0; v < kw; v++)
                                    {
                                        long iy = (r * strides[0]) - pads[0] + u, ix = (q * strides[1]) - pads[1] + v;
                                        if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                                        {
                                            sum += x.Data[(ci * h + iy) * wd + ix] * w.Data[((o * c + ci) * kh + u) * kw + v];
                                        }
                                    }
                                }
                            }

                            y[(o * oh + r) * ow + q] = (float)sum;
                        }
                    }
                }

                return new Tensor(y, [1, oc, oh, ow]);
            }

            case "MaxPool":
            {
                long[] kernel = Ints("kernel_shape", [1, 1]), strides = Ints("strides", kernel);
                int c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
                int oh = (int)((h - kernel[0]) / strides[0]) + 1, ow = (int)((wd - kernel[1]) / strides[1]) + 1;
                var y = new float[c * oh * ow];
                for (int ci = 0; ci < c; ci++)
                {
                    for (int r = 0; r < oh; r++)
                    {
                        for (int q = 0; q < ow; q++)
                        {
                            float best = float.NegativeInfinity;
                            for (int u = 0; u < kernel[0]; u++)
                            {
                                for (int v = 0; v < kernel[1]; v++)
                                {
                                    best = Math.Max(best, x.Data[(ci * h + (r * strides[0]) + u) * wd + (q * strides[1]) + v]);
                                }
                            }

                            y[(ci * oh + r) * ow + q] = best;
                        }
                    }
                }

                return new Tensor(y, [1, c, oh, ow]);
            }

            default:
                throw new NotSupportedException($"QdqQuantizer: {node.OpType} ({node.Name}) is not handled.");
        }
    }

    private static float[] Floats(TensorProto t)
        => t.DataType != (int)TensorProto.Types.DataType.Float ? throw new NotSupportedException($"initializer {t.Name} is not float32")
            : t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();

    private static TensorProto Raw(string name, TensorProto.Types.DataType type, int[] shape, byte[] data)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(data) };
        t.Dims.AddRange(shape.Select(d => (long)d));
        return t;
    }

    private static TensorProto FloatTensor(string name, int[] shape, float[] values)
        => Raw(name, TensorProto.Types.DataType.Float, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}
