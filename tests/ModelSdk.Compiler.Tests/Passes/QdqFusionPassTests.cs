using ModelSdk.Compiler.Import;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Tests.Operators;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Passes;

/// <summary>
/// Models in ONNX Runtime's QDQ format (QuantizeLinear → DequantizeLinear around float operators):
/// exact patterns run as integer QLinear computations, others stay float; both agree with ONNX Runtime.
/// </summary>
public class QdqFusionPassTests
{
    private const float InputScale = 0.02f, OutputScale = 0.05f;

    /// <summary>
    /// x (float) → Q → DQ → op(W: DQ of constant int8, B: DQ of int32) → Q → y (uint8), and a DQ of y as
    /// a float output, as ONNX Runtime's quantizer writes a quantized layer.
    /// </summary>
    private static byte[] QdqModel(string op, int[] xShape, int[] wShape, bool perChannel, bool bias, int channelAxis, bool runTimeScale = false, (string, object)[]? attributes = null)
    {
        int channels = wShape[channelAxis];
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(xShape));
        string xs = runTimeScale ? b.Input("xs", ElementType.Float32) : b.Initializer("xs", Tensor.FromFloats([], InputScale));
        string xz = b.Initializer("xz", QuantizationTests.Scalar(ElementType.UInt8, 128));
        string xq = b.Node("QuantizeLinear", [x, xs, xz]);
        string xd = b.Node("DequantizeLinear", [xq, xs, xz]);

        float[] wScales = perChannel ? TensorAssert.Random([channels], 2, 0.002f, 0.01f).ToFloats() : [0.006f];
        string ws = b.Initializer("ws", perChannel ? Tensor.FromFloats([channels], wScales) : Tensor.FromFloats([], wScales));
        string wz = b.Initializer("wz", perChannel ? Tensor.From<sbyte>(ElementType.Int8, [channels], new sbyte[channels]) : QuantizationTests.Scalar(ElementType.Int8, 0));
        string wd = b.Node("DequantizeLinear", [b.Initializer("w", QuantizationTests.Bytes(ElementType.Int8, wShape, 3)), ws, wz], ("axis", channelAxis));
        string?[] inputs = [xd, wd];
        if (bias)
        {
            string bs = b.Initializer("bs", perChannel ? Tensor.FromFloats([channels], wScales.Select(s => s * InputScale).ToArray()) : Tensor.FromFloats([], wScales[0] * InputScale));
            inputs = [xd, wd, b.Node("DequantizeLinear", [b.Initializer("bq", OrtAgreement.Int32s([channels], 4)), bs], ("axis", 0))];
        }

        string y = b.Node(op, inputs, attributes ?? []);
        string yq = b.Node("QuantizeLinear", [y, b.Initializer("ys", Tensor.FromFloats([], OutputScale)), b.Initializer("yz", QuantizationTests.Scalar(ElementType.UInt8, 120))]);
        b.Output(yq, ElementType.UInt8);
        b.Output(b.Node("DequantizeLinear", [yq, "ys", "yz"]));
        return b.Build();
    }

    /// <summary>The graph after the passes, one node per line: <c>op(inputs) -> outputs</c>, constants marked with <c>=</c>.</summary>
    private static string GraphText(byte[] model)
    {
        string path = ModelRunner.WriteTemp(model);
        ImportResult imported = OnnxImporter.Import(path);
        PassPipeline.Run(imported.Graph, OperatorRegistry.Default, path);
        return string.Join("\n", imported.Graph.Nodes.Select(n =>
            $"{n.OpType}({string.Join(", ", n.Inputs.Select(i => i is null ? "" : (i.IsConstant ? "=" : "") + i.Name))}) -> {string.Join(", ", n.Outputs.Select(o => o.Name))}"));
    }

    /// <summary>Every quantized output within one step of ONNX Runtime's float computation; float outputs within one step of the output scale.</summary>
    private static void AssertWithinOneStep(byte[] model, IReadOnlyList<(string Name, Tensor Value)> inputs)
    {
        Tensor[] expected = OrtReference.Run(model, inputs);
        Tensor[] actual = ModelRunner.Run(model, inputs.Select(i => i.Value).ToList());
        byte[] e = expected[0].Bytes.ToArray(), a = actual[0].Bytes.ToArray();
        Assert.Equal(e.Length, a.Length);
        int differing = 0;
        for (int i = 0; i < e.Length; i++)
        {
            Assert.True(Math.Abs(e[i] - a[i]) <= 1, $"element {i}: {a[i]}, ONNX Runtime {e[i]}");
            differing += e[i] != a[i] ? 1 : 0;
        }

        // Integer and float arithmetic differ only where a value lands within rounding error of a half step.
        Assert.True(differing <= e.Length / 50 + 1, $"{differing} of {e.Length} elements differ by one step");
        float[] ef = expected[1].ToFloats(), af = actual[1].ToFloats();
        for (int i = 0; i < ef.Length; i++)
        {
            Assert.True(Math.Abs(ef[i] - af[i]) <= OutputScale * 1.0001f, $"float element {i}: {af[i]}, ONNX Runtime {ef[i]}");
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void Conv_in_QDQ_form_runs_as_QLinearConv(bool perChannel, bool bias)
    {
        byte[] model = QdqModel("Conv", [1, 3, 11, 9], [8, 3, 3, 3], perChannel, bias, 0, attributes: [("pads", new[] { 1, 1, 1, 1 }), ("strides", new[] { 2, 1 })]);

        string expectedGraph = string.Join("\n",
            "QuantizeLinear(x, =xs, =xz) -> quantizelinear_0_0",
            $"QLinearConv(quantizelinear_0_0, =xs, =xz, =w, =ws, =wz, =ys, =yz{(bias ? ", =bq" : "")}) -> quantizelinear_{(bias ? 5 : 4)}_0",
            $"DequantizeLinear(quantizelinear_{(bias ? 5 : 4)}_0, =ys, =yz) -> dequantizelinear_{(bias ? 6 : 5)}_0");
        Assert.Equal(expectedGraph, GraphText(model));
        AssertWithinOneStep(model, [("x", TensorAssert.Random([1, 3, 11, 9], 1, -2.5f, 2.5f))]);
    }

    [Fact]
    public void MatMul_in_QDQ_form_runs_as_QLinearMatMul()
    {
        byte[] model = QdqModel("MatMul", [2, 5, 37], [37, 19], perChannel: true, bias: false, channelAxis: 1);

        Assert.Equal(
            "QuantizeLinear(x, =xs, =xz) -> quantizelinear_0_0\n" +
            "QLinearMatMul(quantizelinear_0_0, =xs, =xz, =w, =ws, =wz, =ys, =yz) -> quantizelinear_4_0\n" +
            "DequantizeLinear(quantizelinear_4_0, =ys, =yz) -> dequantizelinear_5_0",
            GraphText(model));
        AssertWithinOneStep(model, [("x", TensorAssert.Random([2, 5, 37], 1, -2.5f, 2.5f))]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gemm_in_QDQ_form_runs_on_integer_kernels(bool bias)
    {
        byte[] model = QdqModel("Gemm", [3, 50], [10, 50], perChannel: true, bias, channelAxis: 0, attributes: [("transB", 1)]);

        string text = GraphText(model);
        Assert.DoesNotContain("\nGemm(", text);
        Assert.DoesNotContain("DequantizeLinear(quantizelinear_0_0", text);

        // With a bias: one fused node (product, bias and requantization in the kernel's store).
        Assert.Contains(bias ? "QGemm(quantizelinear_0_0, =Gemm_" : "QLinearMatMul(quantizelinear_0_0, =xs, =xz, =Gemm_", text);
        AssertWithinOneStep(model, [("x", TensorAssert.Random([3, 50], 1, -2.5f, 2.5f))]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MaxPool_between_the_same_quantization_runs_on_the_bytes(bool sameParameters)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 1, 3, 7, 6);
        string xs = b.Initializer("xs", Tensor.FromFloats([], InputScale)), xz = b.Initializer("xz", QuantizationTests.Scalar(ElementType.UInt8, 100));
        string xd = b.Node("DequantizeLinear", [b.Node("QuantizeLinear", [x, xs, xz]), xs, xz]);
        string pooled = b.Node("MaxPool", [xd], ("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 0, 1, 1 }));
        string ys = sameParameters ? xs : b.Initializer("ys", Tensor.FromFloats([], OutputScale));
        string yq = b.Node("QuantizeLinear", [pooled, ys, xz]);
        b.Output(yq, ElementType.UInt8);
        byte[] model = b.Build();

        string text = GraphText(model);
        Assert.Equal(sameParameters, text.Contains("QMaxPool(quantizelinear_", StringComparison.Ordinal));
        Assert.Equal(!sameParameters, text.Contains("\nMaxPool(", StringComparison.Ordinal));
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random([1, 3, 7, 6], 1, -2.5f, 2.5f))]);
    }

    [Fact]
    public void A_run_time_scale_keeps_the_float_computation()
    {
        byte[] model = QdqModel("Conv", [1, 2, 7, 7], [4, 2, 3, 3], perChannel: true, bias: true, channelAxis: 0, runTimeScale: true);

        Assert.Equal(
            "QuantizeLinear(x, xs, =xz) -> quantizelinear_0_0\n" +
            "DequantizeLinear(quantizelinear_0_0, xs, =xz) -> dequantizelinear_1_0\n" +
            "Conv(dequantizelinear_1_0, =dequantizelinear_2_0, =dequantizelinear_3_0) -> conv_4_0\n" +
            "QuantizeLinear(conv_4_0, =ys, =yz) -> quantizelinear_5_0\n" +
            "DequantizeLinear(quantizelinear_5_0, =ys, =yz) -> dequantizelinear_6_0",
            GraphText(model));
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random([1, 2, 7, 7], 1, -2.5f, 2.5f)), ("xs", Tensor.FromFloats([], InputScale))], tolerance: 1e-4);
    }

    [Fact]
    public void A_float_result_read_twice_keeps_the_float_computation()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 4, 6);
        string xq = b.Node("QuantizeLinear", [x, b.Initializer("xs", Tensor.FromFloats([], InputScale)), b.Initializer("xz", QuantizationTests.Scalar(ElementType.UInt8, 128))]);
        string wd = b.Node("DequantizeLinear", [b.Initializer("w", QuantizationTests.Bytes(ElementType.Int8, [6, 3], 3)), b.Initializer("ws", Tensor.FromFloats([], 0.01f))]);
        string y = b.Node("MatMul", [b.Node("DequantizeLinear", [xq, "xs", "xz"]), wd]);
        b.Output(b.Node("QuantizeLinear", [y, b.Initializer("ys", Tensor.FromFloats([], OutputScale)), b.Initializer("yz", QuantizationTests.Scalar(ElementType.UInt8, 120))]), ElementType.UInt8);
        b.Output(y);

        string text = GraphText(b.Build());
        Assert.Contains("MatMul(dequantizelinear_", text);
        Assert.DoesNotContain("QLinearMatMul", text);
        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random([4, 6], 1, -2f, 2f))], tolerance: 1e-4);
    }
}
