using System.Runtime.InteropServices;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Quantization;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using ModelSdk.Runtime;

namespace ModelSdk.Compiler.Tests.Quantization;

/// <summary>
/// Quantize="fp16|bf16": weights stored at half size, widened to float32 once at load; the outputs stay within
/// the format's precision of the float model's.
/// </summary>
public sealed class HalfPrecisionTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "modelsdk-half-tests", Guid.NewGuid().ToString("N"));

    public HalfPrecisionTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // ---- rounding and widening against a scalar reference ----

    [Theory]
    [InlineData(ElementType.Float16)]
    [InlineData(ElementType.BFloat16)]
    public void Narrowing_rounds_to_the_nearest_value_ties_to_even(ElementType format)
    {
        (double[] values, ushort[] bits) = FiniteMagnitudes(format);
        var samples = new List<float> { 0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity };
        for (int i = 0; i + 1 < values.Length; i++)
        {
            // Midpoints are the ties; their float32 neighbours must go to the nearer side.
            float mid = (float)((values[i] + values[i + 1]) / 2);
            samples.AddRange([mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid), (float)values[i]]);
        }

        var random = new Random(7);
        for (int i = 0; i < 20000; i++)
        {
            samples.Add(BitConverter.Int32BitsToSingle(random.Next()) * (random.Next(2) == 0 ? 1 : -1));
        }

        int ties = 0;
        foreach (float x in samples.Where(float.IsFinite))
        {
            ushort expected = ReferenceNarrow(x, values, bits, format, ref ties);
            Assert.True(HalfPrecision.Narrow(x, format) == expected,
                $"{format.ToPlanName()}({x:R}) = 0x{HalfPrecision.Narrow(x, format):X4}, expected 0x{expected:X4}");
        }

        Assert.True(ties > 1000, "the samples must include ties");
        Assert.Equal(format == ElementType.Float16 ? 0x7C00 : 0x7F80, HalfPrecision.Narrow(float.PositiveInfinity, format));
        Assert.Equal(format == ElementType.Float16 ? 0xFC00 : 0xFF80, HalfPrecision.Narrow(float.NegativeInfinity, format));
        Assert.True(float.IsNaN(HalfPrecision.Widen(HalfPrecision.Narrow(float.NaN, format), format)));
        Assert.True(float.IsNaN(HalfPrecision.Widen(HalfPrecision.Narrow(-float.NaN, format), format)));
    }

    [Fact]
    public void Float16_subnormals_and_overflow_round_like_the_reference()
    {
        Assert.Equal(0x0001, HalfPrecision.Narrow(MathF.Pow(2, -24), ElementType.Float16)); // smallest subnormal
        Assert.Equal(0x0000, HalfPrecision.Narrow(MathF.Pow(2, -25), ElementType.Float16)); // tie with 0: even
        Assert.Equal(0x0001, HalfPrecision.Narrow(MathF.BitIncrement(MathF.Pow(2, -25)), ElementType.Float16));
        Assert.Equal(0x0002, HalfPrecision.Narrow(3 * MathF.Pow(2, -25), ElementType.Float16)); // tie 1|2: even
        Assert.Equal(0x0400, HalfPrecision.Narrow(MathF.Pow(2, -14), ElementType.Float16)); // smallest normal
        Assert.Equal(0x7BFF, HalfPrecision.Narrow(65519.996f, ElementType.Float16));
        Assert.Equal(0x7C00, HalfPrecision.Narrow(65520f, ElementType.Float16)); // tie between max and 2^16: to infinity
        Assert.Equal(0x7F80, HalfPrecision.Narrow(float.MaxValue, ElementType.BFloat16));
    }

    [Theory]
    [InlineData(ElementType.Float16)]
    [InlineData(ElementType.BFloat16)]
    public void Widening_every_bit_pattern_is_exact(ElementType format)
    {
        ushort[] all = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        foreach (int offset in new[] { 0, 1, 3 })
        {
            // Odd starts and lengths go through both the vector loop and the scalar tail.
            ReadOnlySpan<ushort> source = all.AsSpan(offset, all.Length - offset - (offset * 5));
            var widened = new float[source.Length];
            if (format == ElementType.Float16)
            {
                NarrowFloat.WidenFloat16(source, widened);
            }
            else
            {
                NarrowFloat.WidenBFloat16(source, widened);
            }

            for (int i = 0; i < source.Length; i++)
            {
                uint expected = ReferenceWidenBits(source[i], format);
                uint actual = BitConverter.SingleToUInt32Bits(widened[i]);
                Assert.True(expected == actual, $"0x{source[i]:X4} widened to 0x{actual:X8}, expected 0x{expected:X8}");
            }
        }
    }

    // ---- plan format ----

    [Fact]
    public void Stored_types_survive_the_plan_text_and_plans_without_them_stay_the_same()
    {
        CompileResult floatResult = Compile(Mlp(), QuantizeMode.None);
        CompileResult half = Compile(Mlp(), QuantizeMode.Fp16);
        Assert.DoesNotContain("stored=", floatResult.PlanText);
        Assert.DoesNotContain("loaded=", floatResult.PlanText);

        CompiledPlan read = PlanReader.Read(half.PlanText!);
        Assert.Equal(half.PlanText, PlanWriter.Write(read));
        Assert.Equal(half.Plan!.LoadedWeightsBytes, read.LoadedWeightsBytes);
        Assert.True(read.LoadedWeightsBytes > read.WeightsBytes);
        PlanTensor narrowed = read.Tensors.First(t => t.IsWidened);
        Assert.Equal(ElementType.Float32, narrowed.Type);
        Assert.Equal(ElementType.Float16, narrowed.StoredType);
        Assert.Equal(half.Plan.Tensors[narrowed.Id].StoredOffset, narrowed.StoredOffset);
        Assert.Contains($" stored=float16@{narrowed.StoredOffset}\n", half.PlanText);
    }

    [Theory]
    [InlineData("stored=int8@0", "only float32 may be stored as float16 or bfloat16")]
    [InlineData("stored=float16@999999", "lies outside its storage")]
    [InlineData("stored=float16", "malformed stored type")]
    [InlineData("stored=half@0", "malformed stored type")]
    public void A_bad_stored_type_is_a_plan_format_error(string replacement, string message)
    {
        string text = Compile(Mlp(), QuantizeMode.Fp16).PlanText!;
        int at = text.IndexOf("stored=float16@", StringComparison.Ordinal);
        int end = text.IndexOf('\n', at);
        string broken = text[..at] + replacement + text[end..];

        var e = Assert.Throws<PlanFormatException>(() => PlanReader.Read(broken));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Narrowed_weights_may_not_overlap_weights_kept_as_they_are()
    {
        string matMul = Compile(Mlp(), QuantizeMode.None).Plan!.Steps.First(s => s.OpType == "MatMul").NodeName;
        string text = Compile(Mlp(), QuantizeMode.Fp16, exclude: [matMul]).PlanText!;
        CompiledPlan plan = PlanReader.Read(text);
        PlanTensor kept = plan.Tensors.First(t => t.Storage == StorageKind.Weights && !t.IsWidened);
        PlanTensor narrowed = plan.Tensors.First(t => t.IsWidened);
        string line = $"tensor {narrowed.Id} float32 {Shape(narrowed)} weights {narrowed.Offset} ";
        Assert.Contains(line, text);

        string broken = text.Replace(line, $"tensor {narrowed.Id} float32 {Shape(narrowed)} weights {kept.Offset} ");
        Assert.Contains("overlap", Assert.Throws<PlanFormatException>(() => PlanReader.Read(broken)).Message);
    }

    // ---- blob and loading ----

    [Theory]
    [InlineData(QuantizeMode.Fp16)]
    [InlineData(QuantizeMode.Bf16)]
    public void The_blob_loads_to_the_same_weights_as_the_executor_uses(QuantizeMode mode)
    {
        CompileResult floatResult = Compile(Cnn(), QuantizeMode.None);
        CompileResult half = Compile(Cnn(), mode);
        CompiledPlan plan = half.Plan!;
        ElementType format = HalfPrecision.FormatOf(mode);

        NarrowWeights[] narrow = WeightsLayout.Widenings(plan).Select(w => new NarrowWeights((int)w.StoredOffset, (int)w.Offset, (int)w.Count,
            format == ElementType.Float16 ? NarrowFormat.Float16 : NarrowFormat.BFloat16)).ToArray();
        WeightsBlob blob = WeightsBlob.FromStream(new MemoryStream(half.WeightsBlob()), "test", plan.WeightsBytes, plan.WeightsSha256, plan.LoadedWeightsBytes, narrow);

        Assert.Equal(plan.LoadedWeightsBytes, blob.Length);
        Assert.Equal(Executor.LoadWeights(plan, half.Weights), blob.Bytes.ToArray());
        foreach (PlanTensor t in plan.Tensors.Where(t => t.IsWidened))
        {
            // Each narrowed weight loads as exactly widen(narrow(float weight)).
            PlanTensor original = floatResult.Plan!.Tensors[t.Id];
            ReadOnlySpan<float> source = MemoryMarshal.Cast<byte, float>(floatResult.Weights.AsSpan((int)original.Offset, (int)original.ByteCount));
            float[] expected = source.ToArray().Select(v => HalfPrecision.Widen(HalfPrecision.Narrow(v, format), format)).ToArray();
            Assert.Equal(expected, blob.Get<float>((int)t.Offset, (int)t.ElementCount).ToArray());
            Assert.NotEqual(source.ToArray(), expected);
        }
    }

    // ---- whole models ----

    [Theory]
    [InlineData("mlp", QuantizeMode.Fp16, 1e-3)]
    [InlineData("mlp", QuantizeMode.Bf16, 1e-2)]
    [InlineData("cnn", QuantizeMode.Fp16, 1e-3)]
    [InlineData("cnn", QuantizeMode.Bf16, 1e-2)]
    public void Outputs_agree_with_the_float_model_within_the_formats_precision(string model, QuantizeMode mode, double tolerance)
    {
        byte[] bytes = model == "mlp" ? Mlp() : Cnn();
        CompileResult floatResult = Compile(bytes, QuantizeMode.None);
        CompileResult half = Compile(bytes, mode);

        double ratio = (double)half.Plan!.WeightsBytes / floatResult.Plan!.WeightsBytes;
        Assert.InRange(ratio, 0.45, 0.55);
        Assert.Equal(floatResult.Plan.Cost.Parameters, half.Plan.Cost.Parameters);
        Assert.Equal(floatResult.Plan.Steps.Count, half.Plan.Steps.Count);

        var random = new Random(11);
        double error = 0, norm = 0;
        for (int sample = 0; sample < 8; sample++)
        {
            PlanTensor input = floatResult.Plan.Tensors[floatResult.Plan.Inputs[0].TensorId];
            float[] x = Enumerable.Range(0, (int)input.ElementCount).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            float[] expected = Run(floatResult, x), actual = Run(half, x);
            error += expected.Zip(actual, (a, b) => (double)(a - b) * (a - b)).Sum();
            norm += expected.Sum(a => (double)a * a);
        }

        double relativeL2 = Math.Sqrt(error / norm);
        Assert.True(relativeL2 <= tolerance, $"relative L2 {relativeL2:E2} > {tolerance:E0}");
        Assert.True(relativeL2 > 0, "the weights must actually have been narrowed");
    }

    [Theory]
    [InlineData(QuantizeMode.Fp16)]
    [InlineData(QuantizeMode.Bf16)]
    public void Compiling_twice_gives_byte_identical_plans_blobs_and_reports(QuantizeMode mode)
    {
        string csv = Csv("calib.csv", 12, 3 * 8 * 8, seed: 3);
        CompileResult first = Compile(Cnn(), mode, calibration: csv);
        CompileResult second = Compile(Cnn(), mode, calibration: csv);

        Assert.Equal(first.PlanText, second.PlanText);
        Assert.Equal(first.WeightsBlob(), second.WeightsBlob());
        Assert.Equal(first.Report, second.Report);
    }

    [Fact]
    public void The_report_gives_weight_bytes_and_the_output_error_over_the_data()
    {
        string calibration = Csv("calib.csv", 20, 64, seed: 4);
        string validation = Csv("val.csv", 10, 64, seed: 5, labels: 10);
        CompileResult result = Compile(Mlp(), QuantizeMode.Fp16, calibration: calibration, validation: validation);

        Assert.Contains("## Quantization: fp16", result.Report);
        Assert.Matches(@"- Weight bytes: [\d,]+ → [\d,]+ \(0\.5\d×\)", result.Report);
        Assert.Matches(@"\| CalibrationData \| 20 \| \d\.\d\de-0\d \| \d\.\d\de-0\d \| 100\.0% \| – \|", result.Report);
        Assert.Matches(@"\| ValidationData \| 10 \| .* \| \d+\.\d% → \d+\.\d% \(10 labelled\) \|", result.Report);
        Assert.Matches(@"^modelsdk: model\.onnx: fp16: weights [\d,]+ → [\d,]+ bytes \(0\.5\d×\); max abs output error \d\.\d\de-0\d, top-1 agreement 100\.0% over 20 samples of CalibrationData; accuracy \d+\.\d% float, \d+\.\d% fp16$",
            result.QuantizationSummary);
        Assert.Contains(Path.GetFullPath(calibration), result.Dependencies);
        Assert.Contains(Path.GetFullPath(validation), result.Dependencies);

        CompileResult unmeasured = Compile(Mlp(), QuantizeMode.Bf16);
        Assert.EndsWith("output error not measured (no CalibrationData or ValidationData)", unmeasured.QuantizationSummary);
        Assert.Null(Compile(Mlp(), QuantizeMode.None).QuantizationSummary);
    }

    [Fact]
    public void Excluded_nodes_small_constants_and_values_float16_cannot_hold_stay_float32()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 80);
        string big = b.Initializer("big", [80], Enumerable.Range(0, 80).Select(i => i == 3 ? 1e6f : i).ToArray());
        string small = b.Initializer("small", [80], Enumerable.Range(0, 80).Select(i => i * 0.5f).ToArray());
        string scale = b.Initializer("scale", [8], Enumerable.Range(0, 8).Select(i => i + 0.1f).ToArray());
        string w = b.Initializer("w", [80, 8], Enumerable.Range(0, 640).Select(i => (i % 13) * 0.01f).ToArray());
        string y = b.Node("MatMul", [b.Node("Add", [b.Node("Add", [x, big]), small]), w]);
        b.Output(b.Node("Mul", [y, scale]), ElementType.Float32);
        byte[] model = b.Build();

        HalfPrecisionReport fp16 = Rewrite(model, QuantizeMode.Fp16);
        Assert.Equal("float16 would overflow some of its values", Kept(fp16, "big"));
        Assert.Null(Kept(fp16, "small"));
        Assert.Equal("fewer than 64 elements and not a Conv, Gemm or MatMul weight", Kept(fp16, "scale"));
        Assert.Null(Kept(Rewrite(model, QuantizeMode.Bf16), "big")); // bfloat16 has float32's range

        string addNode = Compile(model, QuantizeMode.None).Plan!.Steps.First(s => s.OpType == "Add" && s.Args.Any(a => a.Kind == PlanArgKind.TensorIn && a.Tensor == TensorId(model, "small"))).NodeName;
        HalfPrecisionReport excluded = Rewrite(model, QuantizeMode.Fp16, [addNode]);
        Assert.Equal("named in QuantizeExclude", Kept(excluded, "small"));
        Assert.Equal("named in QuantizeExclude", Kept(Rewrite(model, QuantizeMode.Fp16, ["small"]), "small"));
        Assert.Contains("float32 (named in QuantizeExclude)", excluded.Markdown());
    }

    [Fact]
    public void A_model_without_weights_to_narrow_warns_and_compiles_as_float()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 4);
        b.Output(b.Node("Mul", [x, b.Initializer("s", [4], [1, 2, 3, 4])]), ElementType.Float32);
        CompileResult result = ModelCompiler.Compile(new CompileOptions(ModelRunner.WriteTemp(b.Build())) { Quantize = QuantizeMode.Fp16 });

        Assert.True(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.Code == DiagnosticCodes.NothingToQuantize && d.Message.Contains("no float32 weight qualifies"));
        Assert.DoesNotContain("stored=", result.PlanText);
    }

    [Fact]
    public void Int8_takes_the_integer_rewrite_not_the_half_precision_one()
    {
        string csv = Csv("calib.csv", 8, 64, seed: 6);
        CompileResult result = ModelCompiler.Compile(new CompileOptions(ModelRunner.WriteTemp(Mlp())) { Quantize = QuantizeMode.Int8, CalibrationData = csv });
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Contains("MatMulInteger", result.PlanText);
        Assert.DoesNotContain("stored=", result.PlanText);
    }

    // ---- helpers ----

    /// <summary>Gemm 64→48, Relu, MatMul 48→10, with random weights.</summary>
    public static byte[] Mlp()
    {
        var random = new Random(1);
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 64);
        string w1 = b.Initializer("w1", [64, 48], RandomValues(random, 64 * 48, 0.2));
        string b1 = b.Initializer("b1", [48], RandomValues(random, 48, 0.1));
        string w2 = b.Initializer("w2", [48, 10], RandomValues(random, 480, 0.3));
        string h = b.Node("Relu", [b.Node("Gemm", [x, w1, b1])]);
        b.NodeWithOutputs("MatMul", [h, w2], ["y"]);
        b.Output("y", ElementType.Float32, 1, 10);
        return b.Build();
    }

    /// <summary>Conv 3→8 3×3, Relu, Conv 8→16 3×3 stride 2, Relu, global average pool, Flatten, Gemm 16→5.</summary>
    public static byte[] Cnn()
    {
        var random = new Random(2);
        var b = new OnnxModelBuilder();
        string x = b.Input("image", ElementType.Float32, 1, 3, 8, 8);
        string c1 = b.Node("Relu", [b.Node("Conv", [x, b.Initializer("k1", [8, 3, 3, 3], RandomValues(random, 216, 0.3)), b.Initializer("c1b", [8], RandomValues(random, 8, 0.1))], ("pads", new long[] { 1, 1, 1, 1 }))]);
        string c2 = b.Node("Relu", [b.Node("Conv", [c1, b.Initializer("k2", [16, 8, 3, 3], RandomValues(random, 1152, 0.2))], ("strides", new long[] { 2, 2 }))]);
        string flat = b.Node("Flatten", [b.Node("GlobalAveragePool", [c2])]);
        string logits = b.Node("Gemm", [flat, b.Initializer("fc", [16, 5], RandomValues(random, 80, 0.5)), b.Initializer("fcb", [5], RandomValues(random, 5, 0.1))]);
        b.Output(logits, ElementType.Float32);
        return b.Build();
    }

    private static float[] RandomValues(Random random, int count, double scale)
        => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();

    private static CompileResult Compile(byte[] model, QuantizeMode mode, string? calibration = null, string? validation = null, IReadOnlyList<string>? exclude = null)
    {
        CompileResult result = ModelCompiler.Compile(new CompileOptions(ModelRunner.WriteTemp(model))
        {
            Quantize = mode,
            CalibrationData = calibration,
            ValidationData = validation,
            QuantizeExclude = exclude ?? [],
        });
        Diagnostic? problem = result.Diagnostics.FirstOrDefault();
        Assert.True(problem is null, problem?.ToCanonicalString());
        return result;
    }

    private static HalfPrecisionReport Rewrite(byte[] model, QuantizeMode mode, IReadOnlyList<string>? exclude = null)
    {
        CompileResult result = Compile(model, QuantizeMode.None);
        var built = new Lowering.PlanWithWeights(result.Plan!, result.Weights!, 0);
        return new HalfPrecisionReport(mode, HalfPrecision.Rewrite(built, HalfPrecision.FormatOf(mode), exclude ?? []), []);
    }

    private static string? Kept(HalfPrecisionReport report, string name) => report.Rewrite.Weights.Single(w => w.Name == name).KeptBecause;

    private static int TensorId(byte[] model, string name) => Compile(model, QuantizeMode.None).Plan!.Tensors.First(t => t.Name == name).Id;

    private static string Shape(PlanTensor t) => "[" + string.Join(",", t.Shape) + "]";

    private static float[] Run(CompileResult compiled, float[] input)
    {
        byte[][] outputs = Executor.Run(compiled.Plan!, compiled.Weights, [MemoryMarshal.AsBytes(input.AsSpan()).ToArray()]);
        return MemoryMarshal.Cast<byte, float>(outputs[0]).ToArray();
    }

    private string Csv(string name, int rows, int columns, int seed, int labels = 0)
    {
        var random = new Random(seed);
        var lines = Enumerable.Range(0, rows).Select(r =>
            string.Join(",", Enumerable.Range(0, columns).Select(_ => (random.NextDouble() * 2 - 1).ToString("R", System.Globalization.CultureInfo.InvariantCulture)))
            + (labels > 0 ? "," + (r % labels) : string.Empty));
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>Every finite non-negative value of the format in increasing order, with the bits of each, then the first value past the largest (rounding there means infinity).</summary>
    private static (double[] Values, ushort[] Bits) FiniteMagnitudes(ElementType format)
    {
        var values = new List<double>();
        var bits = new List<ushort>();
        int infinity = format == ElementType.Float16 ? 0x7C00 : 0x7F80;
        for (int b = 0; b < infinity; b++)
        {
            values.Add(ReferenceValue((ushort)b, format));
            bits.Add((ushort)b);
        }

        values.Add(format == ElementType.Float16 ? 65536.0 : Math.Pow(2, 128));
        bits.Add((ushort)infinity);
        return (values.ToArray(), bits.ToArray());
    }

    /// <summary>The value of non-negative finite bits, computed from the format's definition in double arithmetic.</summary>
    private static double ReferenceValue(ushort b, ElementType format)
    {
        (int mantissaBits, int bias) = format == ElementType.Float16 ? (10, 15) : (7, 127);
        int exponent = b >> mantissaBits, mantissa = b & ((1 << mantissaBits) - 1);
        return exponent == 0
            ? mantissa * Math.Pow(2, 1 - bias - mantissaBits)
            : ((1 << mantissaBits) + mantissa) * Math.Pow(2, exponent - bias - mantissaBits);
    }

    /// <summary>Nearest by search over every value of the format; a tie goes to the even bit pattern.</summary>
    private static ushort ReferenceNarrow(float x, double[] values, ushort[] bits, ElementType format, ref int ties)
    {
        double a = Math.Abs((double)x);
        int hi = Array.BinarySearch(values, a);
        ushort magnitude;
        if (hi >= 0)
        {
            magnitude = bits[hi];
        }
        else
        {
            hi = ~hi;
            if (hi >= values.Length)
            {
                magnitude = bits[^1];
            }
            else
            {
                double below = a - values[hi - 1], above = values[hi] - a;
                ties += below == above ? 1 : 0;
                magnitude = below < above || (below == above && (bits[hi - 1] & 1) == 0) ? bits[hi - 1] : bits[hi];
            }
        }

        ushort sign = (ushort)(BitConverter.SingleToUInt32Bits(x) >> 31 << 15);
        return (ushort)(magnitude | sign);
    }

    /// <summary>float32 bits of a float16 or bfloat16 pattern, from the definition: NaN keeps its sign and payload (made quiet-compatible by position only).</summary>
    private static uint ReferenceWidenBits(ushort b, ElementType format)
    {
        if (format == ElementType.BFloat16)
        {
            return (uint)b << 16;
        }

        uint sign = (uint)(b >> 15) << 31;
        int exponent = (b >> 10) & 0x1F, mantissa = b & 0x3FF;
        if (exponent == 0x1F)
        {
            return sign | 0x7F800000u | ((uint)mantissa << 13);
        }

        float magnitude = (float)ReferenceValue((ushort)(b & 0x7FFF), ElementType.Float16);
        return sign | BitConverter.SingleToUInt32Bits(magnitude);
    }
}
