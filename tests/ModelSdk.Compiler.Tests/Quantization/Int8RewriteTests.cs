using System.Globalization;
using System.Text.RegularExpressions;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Quantization;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Quantization;

/// <summary>The int8 rewrite: weights, graph shape after fusion, agreement with float, exclusion, determinism, report.</summary>
public sealed class Int8RewriteTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "modelsdk-int8-tests", Guid.NewGuid().ToString("N"));

    public Int8RewriteTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Per_channel_weights_match_a_scalar_reference_including_an_all_zero_channel()
    {
        var rng = new Random(3);
        float[] w = Enumerable.Range(0, 60).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        Array.Clear(w, 2 * 12, 12); // Conv weights [5, 3, 2, 2]: output channel 2 all zero
        w[4 * 12 + 5] = 3.5f;       // channel 4 has one large weight
        AssertMatchesReference(w, [5, 3, 2, 2], 0);
        Assert.Equal(127, Int8Rewrite.PerChannel(w, [5, 3, 2, 2], 0).Data[4 * 12 + 5]);
        Assert.All(Int8Rewrite.PerChannel(w, [5, 3, 2, 2], 0).Data.AsSpan(24, 12).ToArray(), v => Assert.Equal(0, v));

        // MatMul's [K, N] weights quantize per column (axis 1), with a zero column too.
        float[] m = Enumerable.Range(0, 7 * 3).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        for (int k = 0; k < 7; k++)
        {
            m[k * 3 + 1] = 0;
        }

        AssertMatchesReference(m, [7, 3], 1);
    }

    /// <summary>Channel c of axis a: scale max|w|/127 (1 when all zero), q = round half to even within ±127.</summary>
    private static void AssertMatchesReference(float[] w, int[] shape, int axis)
    {
        (sbyte[] data, float[] scales) = Int8Rewrite.PerChannel(w, shape, axis);
        int channels = shape[axis], inner = shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        for (int c = 0; c < channels; c++)
        {
            var members = Enumerable.Range(0, w.Length).Where(i => i / inner % channels == c).ToArray();
            float absMax = members.Max(i => Math.Abs(w[i]));
            Assert.Equal(absMax == 0 ? 1f : (float)(absMax / 127.0), scales[c]);
            foreach (int i in members)
            {
                double q = Math.Clamp(Math.Round(w[i] / (double)scales[c], MidpointRounding.ToEven), -127, 127);
                Assert.Equal((sbyte)q, data[i]);
            }
        }
    }

    [Fact]
    public void Entropy_calibration_is_not_pulled_down_by_the_exact_zeros_of_a_relu()
    {
        // A ReLU output: 60% exact zeros, the rest uniform on (0, 4]. Nothing is an outlier, so the
        // KL-optimal clip keeps (nearly) the whole range, with or without the zeros.
        var rng = new Random(9);
        float[] positive = Enumerable.Range(0, 40_000).Select(_ => (float)(4 * (1 - rng.NextDouble()))).ToArray();
        float[] relu = [.. new float[60_000], .. positive];
        var withZeros = new AbsHistogram(positive.Max());
        withZeros.Add(relu);
        var without = new AbsHistogram(positive.Max());
        without.Add(positive);

        Assert.Equal(60_000, withZeros.Zeros);
        Assert.Equal(without.EntropyThreshold(), withZeros.EntropyThreshold());
        Assert.True(withZeros.EntropyThreshold() > 0.9f * positive.Max(), $"{withZeros.EntropyThreshold()}");
    }

    [Fact]
    public void An_mlp_runs_on_the_integer_kernels_and_agrees_with_float()
    {
        string model = Mlp(out _);
        string calib = Csv("calib.csv", Rows(64, 16, seed: 1));

        CompileResult q = Compile(model, calib);
        CompileResult f = ModelCompiler.Compile(new CompileOptions(model));

        string[] kernels = Kernels(q.PlanText!);

        // Each layer is one call: the packed product with its bias and requantization (or dequantization) in the store.
        Assert.Equal(["QuantizeLinear", "QuantizedMatMul", "QuantizedMatMul"], kernels);
        Assert.DoesNotContain("Unary", kernels); // the Relu is folded into the first layer's output range
        Assert.Equal(2, q.Quantization!.Layers.Count);
        Assert.Equal("Relu_1", q.Quantization.Layers[0].Layer.FoldedRelu);
        Assert.Null(q.Quantization.Layers[1].Layer.Output); // the graph output stays float32
        // On inputs inside the calibrated ranges the difference is rounding only; inputs beyond them
        // would be clipped by min/max calibration, which is what calibration data has to prevent.
        AssertAgrees(f, q, Rows(64, 16, seed: 1), maxRelativeError: 0.02);
    }

    [Fact]
    public void A_cnn_keeps_uint8_between_layers_and_agrees_with_float()
    {
        string model = Cnn();
        string calib = Csv("calib.csv", Rows(48, 2 * 6 * 6, seed: 4));

        CompileResult q = Compile(model, calib);
        CompileResult f = ModelCompiler.Compile(new CompileOptions(model));

        string[] kernels = Kernels(q.PlanText!);

        // Each convolution is one call (unfolded input × packed weights, bias and requantization in the store).
        Assert.Equal(2, kernels.Count(k => k == "QuantizedConv"));
        Assert.DoesNotContain("Requantize", kernels);
        Assert.DoesNotContain("Conv", kernels);
        Assert.DoesNotContain("Gemm", kernels);
        Assert.DoesNotContain("Unary", kernels);

        // Between the two convolutions the tensor stays uint8: the second reads the first's output.
        string[] steps = q.PlanText!.Split('\n').Where(l => l.StartsWith("step QuantizedConv", StringComparison.Ordinal)).ToArray();
        string firstOut = Regex.Match(steps[0], @" y=&(\d+)").Groups[1].Value;
        Assert.Matches($@"^step QuantizedConv<uint8,uint8> .* x=%{firstOut} ", steps[1]);

        // Only the input is quantized at run time: MaxPool runs on the uint8 tensor.
        Assert.Equal(1, kernels.Count(k => k == "QuantizeLinear"));
        Assert.Contains("QuantizedMaxPool", kernels);

        AssertAgrees(f, q, Rows(48, 2 * 6 * 6, seed: 4), maxRelativeError: 0.03);
        Assert.All(q.Quantization!.Layers, l => Assert.True(l.Sqnr > 20, $"{l.Layer.Node}: SQNR {l.Sqnr:0.0} dB"));
    }

    [Fact]
    public void Excluded_nodes_and_tensors_stay_float()
    {
        string model = Mlp(out string firstHidden);
        string calib = Csv("calib.csv", Rows(32, 16, seed: 6));

        CompileResult byNode = Compile(model, calib, exclude: ["Gemm_0"]);
        Assert.Equal(["MatMul_2"], byNode.Quantization!.Layers.Select(l => l.Layer.Node));
        Assert.Contains("Gemm", Kernels(byNode.PlanText!));
        Assert.Contains("Kept in float by QuantizeExclude: `Gemm_0`", byNode.Report);

        // Excluding the tensor between the layers keeps it float: the Relu stays, the first layer's integer
        // sums are dequantized to float, and the MatMul that reads the float tensor stays float.
        CompileResult byTensor = Compile(model, calib, exclude: [firstHidden]);
        Assert.Equal(["Gemm_0"], byTensor.Quantization!.Layers.Select(l => l.Layer.Node));
        Assert.Null(byTensor.Quantization.Layers[0].Layer.Output);
        string[] kernels = Kernels(byTensor.PlanText!);
        Assert.Contains("Unary", kernels);
        Assert.Contains("QuantizedMatMul", kernels);
        Assert.Contains("Gemm", kernels);
    }

    [Fact]
    public void The_same_inputs_give_the_same_plan_and_weights_byte_for_byte()
    {
        string model = Cnn();
        string calib = Csv("calib.csv", Rows(24, 2 * 6 * 6, seed: 7));

        CompileResult a = Compile(model, calib, method: CalibrationMethod.Entropy);
        CompileResult b = Compile(model, calib, method: CalibrationMethod.Entropy);

        Assert.Equal(a.PlanText, b.PlanText);
        Assert.Equal(a.WeightsBlob(), b.WeightsBlob());
        Assert.Equal(a.Report, b.Report);
    }

    [Fact]
    public void The_report_gives_layers_sizes_agreement_and_validation_accuracy()
    {
        string model = Mlp(out _);
        float[][] rows = Rows(32, 16, seed: 8);
        string calib = Csv("calib.csv", rows);
        CompileResult f = ModelCompiler.Compile(new CompileOptions(model));
        string validation = Csv("val.csv", rows.Select(r => r.Append(ArgMax(RunFloat(f, r))).ToArray()).ToArray());

        CompileResult q = Compile(model, calib, validation: validation);

        QuantizationEvaluation e = q.Quantization!;
        Assert.Equal(32, e.Validation!.Labelled);
        Assert.Equal(32, e.Validation.CorrectFloat); // labelled with the float model's own answers
        Assert.Equal(e.Calibration.Top1Agreeing, e.Validation.CorrectOther); // same samples, so the same count
        Assert.Equal(e.Calibration.Top1Agreeing, e.Validation.Top1Agreeing);
        Assert.InRange(e.Calibration.RelativeL2, 1e-6, 0.05);
        Assert.Equal((16 * 12 + 12 + 12 * 8) * 4, e.FloatWeightBytes);
        Assert.True(e.WeightRatio < 0.4, $"{e.WeightRatio}");
        string report = q.Report!;
        Assert.Contains("## Quantization: int8", report);
        Assert.Contains("| `Gemm_0` | Gemm |", report);
        Assert.Contains("(Relu folded)", report);
        Assert.Contains("| `MatMul_2` | MatMul |", report);
        Assert.Contains($"- Validation (32 labelled samples): accuracy float 100% → int8 {e.Validation.OtherAccuracy * 100:0.##}%", report);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"top-1 agreement {e.Calibration.Top1Agreement * 100:0.##}% ({e.Calibration.Top1Agreeing}/32)"), report);
        Assert.StartsWith("modelsdk: quantized model.onnx to int8 (minmax): 2 layers, weights 1,200 → ", q.QuantizationSummary);
        Assert.Contains("validation accuracy 100% → ", q.QuantizationSummary);
    }

    [Fact]
    public void Digits_sample_meets_the_size_and_accuracy_goals_with_every_method()
    {
        string digits = Path.Combine(RepositoryPaths.Root, "samples", "Digits");
        var accuracy = new Dictionary<CalibrationMethod, double>();
        foreach (CalibrationMethod method in Enum.GetValues<CalibrationMethod>())
        {
            CompileResult q = Compile(Path.Combine(digits, "Models", "digits.onnx"), Path.Combine(digits, "Data", "digits-calibration.csv"),
                method: method, validation: Path.Combine(digits, "Data", "digits-test.csv"));
            QuantizationEvaluation e = q.Quantization!;
            Assert.True(e.WeightRatio <= 0.27, $"{method}: weights {e.FloatWeightBytes} → {e.QuantizedWeightBytes}");
            Assert.Equal(450, e.Validation!.Labelled);
            Assert.Equal(444, e.Validation.CorrectFloat); // the float model's published accuracy
            Assert.True(e.Validation.FloatAccuracy - e.Validation.OtherAccuracy <= 0.005, $"{method}: {e.Validation}");
            accuracy[method] = e.Validation.OtherAccuracy;
        }

        Assert.True(accuracy[CalibrationMethod.MinMax] - accuracy[CalibrationMethod.Percentile] <= 0.002);
        Assert.True(accuracy[CalibrationMethod.MinMax] - accuracy[CalibrationMethod.Entropy] <= 0.002);
    }

    private CompileResult Compile(string model, string calib, CalibrationMethod method = CalibrationMethod.MinMax, string[]? exclude = null, string? validation = null)
    {
        CompileResult result = ModelCompiler.Compile(new CompileOptions(model)
        {
            Quantize = QuantizeMode.Int8,
            CalibrationData = calib,
            CalibrationMethod = method,
            QuantizeExclude = exclude ?? [],
            ValidationData = validation,
        });
        Diagnostic? error = result.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(error is null, error?.ToCanonicalString());
        return result;
    }

    /// <summary>x[1,16] → Gemm(transB, bias) → Relu → MatMul → y[1,8]; returns the model path and the hidden tensor's name.</summary>
    private string Mlp(out string hidden)
    {
        var rng = new Random(11);
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 16);
        string w1 = b.Initializer("w1", [12, 16], Random(rng, 12 * 16, 0.5));
        string b1 = b.Initializer("b1", [12], Random(rng, 12, 0.2));
        string w2 = b.Initializer("w2", [12, 8], Random(rng, 12 * 8, 0.5));
        string h = b.Node("Gemm", [x, w1, b1], ("transB", 1L));
        hidden = b.Node("Relu", [h]);
        b.Output(b.Node("MatMul", [hidden, w2]), ElementType.Float32);
        return Write("model.onnx", b.Build());
    }

    /// <summary>x[1,2,6,6] → Conv(4, 3×3, pad 1, bias; channel 1 all zero) → Relu → Conv(6, 3×3, bias) → Relu → MaxPool 2×2 → Flatten → Gemm(5).</summary>
    private string Cnn()
    {
        var rng = new Random(12);
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 2, 6, 6);
        float[] w1 = Random(rng, 4 * 2 * 9, 0.5);
        Array.Clear(w1, 18, 18);
        string c1 = b.Node("Conv", [x, b.Initializer("w1", [4, 2, 3, 3], w1), b.Initializer("b1", [4], Random(rng, 4, 0.1))], ("pads", new long[] { 1, 1, 1, 1 }));
        string r1 = b.Node("Relu", [c1]);
        string c2 = b.Node("Conv", [r1, b.Initializer("w2", [6, 4, 3, 3], Random(rng, 6 * 4 * 9, 0.3)), b.Initializer("b2", [6], Random(rng, 6, 0.1))]);
        string p = b.Node("MaxPool", [b.Node("Relu", [c2])], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        string flat = b.Node("Flatten", [p]);
        b.Output(b.Node("Gemm", [flat, b.Initializer("w3", [5, 24], Random(rng, 5 * 24, 0.4)), b.Initializer("b3", [5], Random(rng, 5, 0.1))], ("transB", 1L)), ElementType.Float32);
        return Write("cnn.onnx", b.Build());
    }

    private static void AssertAgrees(CompileResult f, CompileResult q, float[][] samples, double maxRelativeError)
    {
        double noise = 0, signal = 0;
        foreach (float[] sample in samples)
        {
            float[] a = RunFloat(f, sample), b = RunFloat(q, sample);
            for (int i = 0; i < a.Length; i++)
            {
                noise += (a[i] - b[i]) * (double)(a[i] - b[i]);
                signal += a[i] * (double)a[i];
            }
        }

        double relative = Math.Sqrt(noise / signal);
        Assert.True(relative <= maxRelativeError, $"relative L2 error {relative:G3}");
        Assert.True(relative > 0, "the quantized model should differ from float by rounding");
    }

    private static float[] RunFloat(CompileResult compiled, float[] input)
    {
        byte[][] outputs = Executor.Run(compiled.Plan!, compiled.Weights, [Tensor.FromFloats([input.Length], input).Bytes.ToArray()]);
        return Tensor.From<byte>(ElementType.UInt8, [outputs[0].Length], outputs[0]).Span<float>().ToArray();
    }

    private static string[] Kernels(string plan)
        => plan.Split('\n').Where(l => l.StartsWith("step ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1].Split('<')[0]).ToArray();

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    private static float[] Random(Random rng, int count, double range) => Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * range)).ToArray();

    private static float[][] Rows(int count, int width, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Random(rng, width, 1)).ToArray();
    }

    private string Csv(string name, float[][] rows)
        => Write(name, System.Text.Encoding.UTF8.GetBytes(string.Join("\n", rows.Select(r => string.Join(",", r.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))))));

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
