// Writes the benchmark models that are generated rather than committed, with deterministic seeded
// random weights (the same bytes on every machine and every run):
//   mlp_784_b1.onnx, mlp_784_b64.onnx   MLP 784-512-512-10 with Relu, batch 1 and batch 64 (Gemm transB=1, as torch exports Linear)
//   matmul_1024.onnx                    y = a · B, a [1024,1024] input, B [1024,1024] constant
//   mobilenetv3_small_full.onnx         torchvision's MobileNetV3-small at width 1.0 with 1000 classes, 1×3×224×224,
//                                       in the form torch's opset-13 export gives (BatchNorm folded into Conv biases,
//                                       Hardswish as HardSigmoid·x, squeeze-excitation as GlobalAveragePool → 1×1 Convs)
// The int8 entries (issue 5), quantized from those models in ONNX Runtime's QDQ format with min/max
// calibration (QdqQuantizer), so that ONNX Runtime and ModelSdk run the same quantized file:
//   matmul_1024_qdq.onnx                the MatMul: uint8 input, int8 per-column weights, uint8 output
//   mlp_784_b1_qdq.onnx                 the MLP at batch 1, calibrated on mlp-calibration.csv
//   digits_qdq.onnx                     the Digits sample's CNN, calibrated on its digits-calibration.csv
// and, into the data folder (inside the bench project: the SDK reads calibration data only from there),
// the calibration CSVs that the <OnnxModel Quantize="int8"> items use:
//   mlp-calibration.csv                 100 seeded uniform samples in [-1, 1), the bench inputs' distribution
//   digits-calibration.csv              a copy of samples/Digits/Data/digits-calibration.csv
// Usage: ModelGen <models folder> <data folder> <Digits sample folder>. A file whose bytes did not change
// is not rewritten, so the build's incremental checks keep the compiled models.
using System.Globalization;
using Google.Protobuf;
using ModelSdk.Onnx;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: ModelGen <models folder> <data folder> <Digits sample folder>");
    return 2;
}

string folder = args[0], dataFolder = args[1], digitsFolder = args[2];
Directory.CreateDirectory(folder);
Directory.CreateDirectory(dataFolder);
Write("mlp_784_b1.onnx", BenchModels.Mlp(batch: 1));
Write("mlp_784_b64.onnx", BenchModels.Mlp(batch: 64));
Write("matmul_1024.onnx", BenchModels.MatMul(1024));
Write("mobilenetv3_small_full.onnx", BenchModels.MobileNetV3Small());

float[][] mlpCalibration = BenchModels.UniformSamples(100, 784, seed: 7010);
WriteText(Path.Combine(dataFolder, "mlp-calibration.csv"), string.Join("\n", mlpCalibration.Select(r => string.Join(",", r.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))) + "\n");
Write("mlp_784_b1_qdq.onnx", QdqQuantizer.Quantize(BenchModels.Mlp(batch: 1), mlpCalibration));

// One 1024×1024 sample of the bench input's distribution: the product's range is what calibration needs.
Write("matmul_1024_qdq.onnx", QdqQuantizer.Quantize(BenchModels.MatMul(1024), BenchModels.UniformSamples(1, 1024 * 1024, seed: 7011)));

string digitsCalibration = File.ReadAllText(Path.Combine(digitsFolder, "Data", "digits-calibration.csv"));
WriteText(Path.Combine(dataFolder, "digits-calibration.csv"), digitsCalibration);
float[][] digitsSamples = digitsCalibration.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
    .Select(line => line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
// The float models again under their own names for the <OnnxModel Quantize="int8"> items (the SDK keys a
// compiled model by its file, so one file cannot be compiled twice).
Write("mlp_784_b1_int8.onnx", BenchModels.Mlp(batch: 1));
WriteBytes(Path.Combine(folder, "digits_int8.onnx"), File.ReadAllBytes(Path.Combine(digitsFolder, "Models", "digits.onnx")));
Write("digits_qdq.onnx", QdqQuantizer.Quantize(ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(digitsFolder, "Models", "digits.onnx"))), digitsSamples));
return 0;

void Write(string name, ModelProto model) => WriteBytes(Path.Combine(folder, name), model.ToByteArray());

void WriteText(string path, string text) => WriteBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

void WriteBytes(string path, byte[] bytes)
{
    if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
    {
        File.WriteAllBytes(path, bytes);
        Console.WriteLine($"ModelGen: wrote {path} ({bytes.Length:N0} bytes)");
    }
}

internal static class BenchModels
{
    public static ModelProto Mlp(int batch)
    {
        // One seed for both batch sizes: the two files hold the same weights.
        var g = new GraphBuilder("mlp_784_512_512_10", seed: 7007);
        string x = g.Input("x", batch, 784);
        string h = g.Node("Relu", [g.Linear(x, 784, 512, "fc1")]);
        h = g.Node("Relu", [g.Linear(h, 512, 512, "fc2")]);
        g.Output(g.Linear(h, 512, 10, "fc3"), "y", batch, 10);
        return g.Model();
    }

    public static ModelProto MatMul(int n)
    {
        var g = new GraphBuilder("matmul", seed: 7008);
        string a = g.Input("a", n, n);
        string b = g.Initializer("b", [n, n], MathF.Sqrt(3f / n));
        g.Output(g.Node("MatMul", [a, b]), "y", n, n);
        return g.Model();
    }

    /// <summary>Seeded samples uniform in [-1, 1) (SplitMix64, independent of System.Random's implementation).</summary>
    public static float[][] UniformSamples(int count, int length, ulong seed)
    {
        ulong state = seed;
        var samples = new float[count][];
        for (int s = 0; s < count; s++)
        {
            samples[s] = new float[length];
            for (int i = 0; i < length; i++)
            {
                ulong z = state += 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                samples[s][i] = ((z >> 40) * (1f / (1 << 24)) * 2) - 1;
            }
        }

        return samples;
    }

    /// <summary>torchvision.models.mobilenet_v3_small(width_mult=1.0, num_classes=1000) with random weights, eval mode.</summary>
    public static ModelProto MobileNetV3Small()
    {
        var g = new GraphBuilder("mobilenetv3_small", seed: 1001);
        string x = g.Input("image", 1, 3, 224, 224);
        x = g.HardSwish(g.Conv(x, 3, 16, kernel: 3, stride: 2, group: 1, "features.0"));

        // (kernel, expanded, out, squeeze-excitation, hardswish, stride) per inverted-residual block.
        (int K, int Exp, int Out, bool Se, bool Hs, int S)[] blocks =
        [
            (3, 16, 16, true, false, 2), (3, 72, 24, false, false, 2), (3, 88, 24, false, false, 1),
            (5, 96, 40, true, true, 2), (5, 240, 40, true, true, 1), (5, 240, 40, true, true, 1),
            (5, 120, 48, true, true, 1), (5, 144, 48, true, true, 1), (5, 288, 96, true, true, 2),
            (5, 576, 96, true, true, 1), (5, 576, 96, true, true, 1),
        ];
        int channels = 16;
        for (int i = 0; i < blocks.Length; i++)
        {
            var (k, exp, outC, se, hs, s) = blocks[i];
            string name = $"features.{i + 1}.block";
            string input = x, y = x;
            string Act(string v) => hs ? g.HardSwish(v) : g.Node("Relu", [v]);
            if (exp != channels)
            {
                y = Act(g.Conv(y, channels, exp, 1, 1, 1, name + ".expand"));
            }

            y = Act(g.Conv(y, exp, exp, k, s, exp, name + ".depthwise"));
            if (se)
            {
                int squeeze = MakeDivisible(exp / 4);
                string pooled = g.Node("GlobalAveragePool", [y]);
                string fc1 = g.Node("Relu", [g.Conv(pooled, exp, squeeze, 1, 1, 1, name + ".se.fc1")]);
                string gate = g.HardSigmoid(g.Conv(fc1, squeeze, exp, 1, 1, 1, name + ".se.fc2"));
                y = g.Node("Mul", [gate, y]);
            }

            y = g.Conv(y, exp, outC, 1, 1, 1, name + ".project", activationFollows: false);
            x = s == 1 && channels == outC ? g.Node("Add", [y, input]) : y;
            channels = outC;
        }

        x = g.HardSwish(g.Conv(x, channels, 576, 1, 1, 1, "features.12"));
        x = g.Node("Flatten", [g.Node("GlobalAveragePool", [x])], ("axis", 1L));
        x = g.HardSwish(g.Linear(x, 576, 1024, "classifier.0"));
        g.Output(g.Linear(x, 1024, 1000, "classifier.3"), "logits", 1, 1000);
        return g.Model();
    }

    /// <summary>torchvision's _make_divisible(v, 8).</summary>
    private static int MakeDivisible(int v)
    {
        int rounded = Math.Max(8, (v + 4) / 8 * 8);
        return rounded < 0.9 * v ? rounded + 8 : rounded;
    }
}

/// <summary>Builds an opset-13 float32 graph; weights come from one seeded generator in creation order.</summary>
internal sealed class GraphBuilder(string name, ulong seed)
{
    private readonly GraphProto _graph = new() { Name = name };
    private ulong _state = seed;
    private int _next;

    public string Input(string inputName, params long[] shape)
    {
        _graph.Input.Add(ValueInfo(inputName, shape));
        return inputName;
    }

    /// <summary>Declares the value the last node computed as a graph output, under the output's name.</summary>
    public void Output(string value, string outputName, params long[] shape)
    {
        NodeProto last = _graph.Node[^1];
        if (last.Output[0] != value)
        {
            throw new InvalidOperationException("Only the last node's value can become the output.");
        }

        last.Output[0] = outputName;
        _graph.Output.Add(ValueInfo(outputName, shape));
    }

    /// <summary>A float32 initializer with values uniform in [-bound, bound].</summary>
    public string Initializer(string initName, long[] shape, float bound)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = new byte[count * sizeof(float)];
        Span<float> values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (NextUnit() * 2 - 1) * bound;
        }

        var t = new TensorProto { Name = initName, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(shape);
        _graph.Initializer.Add(t);
        return initName;
    }

    public string Node(string opType, string[] inputs, params (string Name, object Value)[] attributes)
    {
        int id = _next++;
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{id}" };
        node.Input.AddRange(inputs);
        string output = $"{opType.ToLowerInvariant()}_{id}";
        node.Output.Add(output);
        foreach ((string attrName, object value) in attributes)
        {
            node.Attribute.Add(value switch
            {
                long l => new AttributeProto { Name = attrName, Type = AttributeProto.Types.AttributeType.Int, I = l },
                float f => new AttributeProto { Name = attrName, Type = AttributeProto.Types.AttributeType.Float, F = f },
                long[] ls => new AttributeProto { Name = attrName, Type = AttributeProto.Types.AttributeType.Ints, Ints = { ls } },
                _ => throw new ArgumentException($"attribute {attrName}: {value.GetType()}"),
            });
        }

        _graph.Node.Add(node);
        return output;
    }

    /// <summary>torch.nn.Linear as torch exports it on a 2-D input: Gemm with the weight stored [out,in] and transB=1.</summary>
    public string Linear(string x, int inFeatures, int outFeatures, string prefix)
    {
        float bound = 1 / MathF.Sqrt(inFeatures); // torch's default init
        string w = Initializer(prefix + ".weight", [outFeatures, inFeatures], bound);
        string b = Initializer(prefix + ".bias", [outFeatures], bound);
        return Node("Gemm", [x, w, b], ("transB", 1L));
    }

    /// <summary>
    /// A convolution with BatchNormalization folded into its weights and bias. Weights are He-uniform when an
    /// activation follows and variance-preserving otherwise, so activations stay O(1) through the network
    /// (no overflow, no denormals that would distort timings).
    /// </summary>
    public string Conv(string x, int inC, int outC, int kernel, int stride, int group, string prefix, bool activationFollows = true)
    {
        int fanIn = inC / group * kernel * kernel;
        float bound = MathF.Sqrt((activationFollows ? 6f : 3f) / fanIn);
        string w = Initializer(prefix + ".weight", [outC, inC / group, kernel, kernel], bound);
        string b = Initializer(prefix + ".bias", [outC], 0.1f);
        long pad = (kernel - 1) / 2;
        return Node("Conv", [x, w, b],
            ("dilations", new long[] { 1, 1 }), ("group", (long)group), ("kernel_shape", new long[] { kernel, kernel }),
            ("pads", new long[] { pad, pad, pad, pad }), ("strides", new long[] { stride, stride }));
    }

    public string HardSigmoid(string x) => Node("HardSigmoid", [x], ("alpha", 1f / 6));

    public string HardSwish(string x) => Node("Mul", [x, HardSigmoid(x)]);

    public ModelProto Model()
    {
        var model = new ModelProto { IrVersion = 7, ProducerName = "ModelSdk.Benchmarks.ModelGen", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }

    /// <summary>SplitMix64, so the weights do not depend on System.Random's implementation.</summary>
    private float NextUnit()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 40) * (1f / (1 << 24));
    }

    private static ValueInfoProto ValueInfo(string valueName, long[] shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        foreach (long d in shape)
        {
            tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto { Name = valueName, Type = new TypeProto { TensorType = tensor } };
    }
}
