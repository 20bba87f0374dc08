using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class ConvTests
{
    public static TheoryData<ConvCase> Cases => new()
    {
        new ConvCase("2d", [1, 3, 9, 11], [4, 3, 3, 3], true, []),
        new ConvCase("2d asymmetric pads, strides", [2, 3, 10, 9], [5, 3, 3, 2], true, [("pads", new[] { 1, 0, 2, 1 }), ("strides", new[] { 2, 3 })]),
        new ConvCase("2d dilations", [1, 2, 12, 12], [3, 2, 3, 3], true, [("dilations", new[] { 2, 3 }), ("pads", new[] { 2, 2, 2, 2 })]),
        new ConvCase("groups", [1, 6, 8, 8], [9, 2, 3, 3], true, [("group", 3), ("pads", new[] { 1, 1, 1, 1 })]),
        new ConvCase("depthwise", [2, 5, 9, 7], [5, 1, 3, 3], true, [("group", 5), ("pads", new[] { 1, 1, 1, 1 }), ("strides", new[] { 2, 1 })]),
        new ConvCase("depthwise multiplier", [1, 3, 8, 8], [6, 1, 3, 3], false, [("group", 3)]),
        new ConvCase("single input channel", [1, 1, 10, 10], [8, 1, 5, 5], true, [("pads", new[] { 2, 2, 2, 2 })]),
        new ConvCase("pointwise", [1, 16, 7, 5], [8, 16, 1, 1], true, []),
        new ConvCase("pointwise groups", [1, 8, 5, 5], [6, 4, 1, 1], false, [("group", 2)]),
        new ConvCase("1x1 strided", [1, 4, 9, 9], [3, 4, 1, 1], true, [("strides", new[] { 2, 2 })]),
        new ConvCase("1d", [2, 4, 17], [6, 4, 5], true, [("pads", new[] { 2, 1 }), ("strides", new[] { 2 })]),
        new ConvCase("3d", [1, 2, 6, 7, 5], [4, 2, 3, 2, 3], true, [("pads", new[] { 1, 0, 1, 1, 1, 0 }), ("strides", new[] { 1, 2, 1 }), ("dilations", new[] { 1, 1, 2 })]),
        new ConvCase("SAME_UPPER", [1, 2, 7, 8], [3, 2, 4, 3], true, [("auto_pad", "SAME_UPPER"), ("strides", new[] { 2, 2 })]),
        new ConvCase("SAME_LOWER", [1, 2, 7, 8], [3, 2, 4, 3], true, [("auto_pad", "SAME_LOWER"), ("strides", new[] { 2, 2 })]),
        new ConvCase("VALID", [1, 2, 7, 8], [3, 2, 3, 3], false, [("auto_pad", "VALID"), ("strides", new[] { 2, 2 })]),
        new ConvCase("kernel_shape given", [1, 2, 6, 6], [2, 2, 3, 3], true, [("kernel_shape", new[] { 3, 3 })]),
        new ConvCase("deep (im2col)", [1, 40, 9, 9], [8, 40, 3, 3], true, [("pads", new[] { 1, 1, 1, 1 })]),
        new ConvCase("wider", [1, 16, 20, 20], [32, 16, 3, 3], true, [("pads", new[] { 1, 1, 1, 1 })]),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conv_matches_onnxruntime(ConvCase c)
    {
        (int[] xShape, int[] wShape, bool bias, (string, object)[] attributes) = (c.X, c.W, c.Bias, c.Attributes);
        Tensor x = TensorAssert.Random(xShape, 1), w = TensorAssert.Random(wShape, 2), b = TensorAssert.Random([wShape[0]], 3);

        // Weights computed at run time (as ONNX's own tests feed them) ...
        var runtime = new OnnxModelBuilder();
        string[] inputs =
        [
            runtime.Input("x", ElementType.Float32, Dims(xShape)),
            runtime.Input("w", ElementType.Float32, Dims(wShape)),
            .. bias ? [runtime.Input("b", ElementType.Float32, wShape[0])] : Array.Empty<string>(),
        ];
        runtime.Output(runtime.Node("Conv", inputs, attributes));
        OrtAgreement.AssertMatches(runtime.Build(), [("x", x), ("w", w), .. bias ? [("b", b)] : Array.Empty<(string, Tensor)>()]);

        // ... and stored as initializers, as exported models have them.
        var constant = new OnnxModelBuilder();
        string xi = constant.Input("x", ElementType.Float32, Dims(xShape));
        string wi = constant.Initializer("w", w);
        constant.Output(constant.Node("Conv", bias ? [xi, wi, constant.Initializer("b", b)] : [xi, wi], attributes));
        OrtAgreement.AssertMatches(constant.Build(), [("x", x)]);
    }

    [Theory]
    [InlineData(new[] { 1, 4, 6, 6 }, new[] { 4, 1, 3, 3 }, 4, "Direct")]
    [InlineData(new[] { 1, 3, 16, 16 }, new[] { 8, 3, 3, 3 }, 1, "Direct")]
    [InlineData(new[] { 1, 4, 6, 6 }, new[] { 8, 4, 1, 1 }, 1, "Pointwise")]
    [InlineData(new[] { 1, 64, 6, 6 }, new[] { 8, 32, 3, 3 }, 2, "Im2Col")]
    public void Conv_picks_the_algorithm_from_the_geometry(int[] xShape, int[] wShape, int group, string algorithm)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, Dims(xShape));
        string w = b.Initializer("w", TensorAssert.Random(wShape, 2));
        b.Output(b.Node("Conv", [x, w], ("group", group)));

        PlanStep step = Assert.Single(ModelRunner.Compile(b.Build()).Plan!.Steps);

        Assert.Equal("ConvAlgorithm." + algorithm, step["algorithm"].Symbol);
        Assert.Equal(algorithm == "Im2Col" ? PlanArgKind.TensorOut : PlanArgKind.None, step["col"].Kind);
    }

    [Fact]
    public void Conv_counts_macs()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string w = b.Initializer("w", TensorAssert.Random([4, 3, 3, 3], 2));
        b.Output(b.Node("Conv", [x, w]));

        Assert.Equal(4L * 7 * 9 * (3 * 3 * 3), ModelRunner.Compile(b.Build()).Plan!.Cost.Macs);
    }

    [Theory]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 2, 3, 3, 3 }, "group", 1, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 3, 2, 3, 3 }, "group", 2, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 2, 4, 3, 3 }, "kernel_shape", new[] { 3, 2 }, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 2, 4, 3, 3 }, "strides", new[] { 1, 1, 1 }, DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 2, 4, 3, 3 }, "dilations", new[] { 0, 1 }, DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 2, 4, 3, 3 }, "pads", new[] { -1, 0, 0, 0 }, DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 2, 4, 3, 3 }, "auto_pad", "SAME", DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 2, 5 }, new[] { 2, 4, 3, 3 }, "group", 1, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5 }, new[] { 2, 4, 3, 3 }, "group", 1, DiagnosticCodes.ShapeMismatch)]
    public void Invalid_conv_is_reported(int[] xShape, int[] wShape, string attribute, object value, string code)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, Dims(xShape));
        string w = b.Input("w", ElementType.Float32, Dims(wShape));
        b.Output(b.Node("Conv", [x, w], (attribute, value)));

        Assert.Equal(code, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Conv_with_a_misshapen_bias_is_MSDK2003()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 2, 5, 5);
        string w = b.Input("w", ElementType.Float32, 3, 2, 3, 3);
        string bias = b.Input("b", ElementType.Float32, 2);
        b.Output(b.Node("Conv", [x, w, bias]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    /// <summary>One convolution configuration, shown by its name in test results.</summary>
    public sealed record ConvCase(string Name, int[] X, int[] W, bool Bias, (string, object)[] Attributes)
    {
        public override string ToString() => Name;
    }

    private static int?[] Dims(int[] shape) => shape.Select(d => (int?)d).ToArray();
}
