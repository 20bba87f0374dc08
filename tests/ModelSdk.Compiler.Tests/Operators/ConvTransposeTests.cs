using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class ConvTransposeTests
{
    public static TheoryData<ConvTransposeCase> Cases => new()
    {
        new ConvTransposeCase("2d", [1, 3, 5, 6], [3, 4, 3, 3], true, []),
        new ConvTransposeCase("2d strides, pads", [2, 3, 5, 4], [3, 2, 3, 2], true, [("strides", new[] { 2, 3 }), ("pads", new[] { 1, 0, 2, 1 })]),
        new ConvTransposeCase("output_padding", [1, 2, 4, 5], [2, 3, 3, 3], true, [("strides", new[] { 3, 2 }), ("output_padding", new[] { 2, 1 })]),
        new ConvTransposeCase("dilations", [1, 2, 5, 5], [2, 3, 3, 2], false, [("dilations", new[] { 2, 3 }), ("strides", new[] { 2, 1 })]),
        new ConvTransposeCase("groups", [1, 6, 4, 4], [6, 2, 3, 3], true, [("group", 3), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 })]),
        new ConvTransposeCase("depthwise", [2, 4, 5, 3], [4, 1, 2, 2], true, [("group", 4), ("strides", new[] { 2, 2 })]),
        new ConvTransposeCase("pointwise", [1, 8, 5, 7], [8, 5, 1, 1], true, []),
        new ConvTransposeCase("pointwise groups", [2, 8, 3, 3], [8, 3, 1, 1], false, [("group", 2)]),
        new ConvTransposeCase("1x1 strided", [1, 3, 4, 4], [3, 2, 1, 1], true, [("strides", new[] { 2, 2 })]),
        new ConvTransposeCase("1d", [2, 4, 9], [4, 3, 5], true, [("strides", new[] { 2 }), ("pads", new[] { 2, 1 })]),
        new ConvTransposeCase("3d", [1, 2, 3, 4, 3], [2, 3, 2, 3, 2], true, [("strides", new[] { 2, 1, 2 }), ("pads", new[] { 0, 1, 1, 1, 0, 0 })]),
        new ConvTransposeCase("output_shape", [1, 1, 3, 3], [1, 2, 3, 3], true, [("strides", new[] { 3, 2 }), ("output_shape", new[] { 10, 8 })]),
        new ConvTransposeCase("output_shape cropping", [1, 2, 4, 4], [2, 3, 3, 3], true, [("strides", new[] { 2, 2 }), ("output_shape", new[] { 8, 7 })]),
        new ConvTransposeCase("VALID", [1, 2, 4, 3], [2, 2, 3, 3], false, [("auto_pad", "VALID"), ("strides", new[] { 2, 2 })]),
        new ConvTransposeCase("SAME_UPPER even padding", [1, 2, 4, 3], [2, 2, 4, 4], true, [("auto_pad", "SAME_UPPER"), ("strides", new[] { 2, 2 })]),
        new ConvTransposeCase("kernel_shape given", [1, 2, 5, 5], [2, 2, 3, 3], true, [("kernel_shape", new[] { 3, 3 })]),
        new ConvTransposeCase("wider", [1, 16, 9, 11], [16, 24, 4, 4], true, [("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 })]),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvTranspose_matches_onnxruntime(ConvTransposeCase c)
    {
        (int[] xShape, int[] wShape, bool bias, (string, object)[] attributes) = (c.X, c.W, c.Bias, c.Attributes);
        int group = attributes.Where(a => a.Item1 == "group").Select(a => (int)a.Item2).FirstOrDefault(1);
        int outChannels = wShape[1] * group;
        Tensor x = TensorAssert.Random(xShape, 1), w = TensorAssert.Random(wShape, 2), b = TensorAssert.Random([outChannels], 3);

        // Weights computed at run time ...
        var runtime = new OnnxModelBuilder(11);
        string[] inputs =
        [
            runtime.Input("x", ElementType.Float32, OrtAgreement.Dims(xShape)),
            runtime.Input("w", ElementType.Float32, OrtAgreement.Dims(wShape)),
            .. bias ? [runtime.Input("b", ElementType.Float32, outChannels)] : Array.Empty<string>(),
        ];
        runtime.Output(runtime.Node("ConvTranspose", inputs, attributes));
        OrtAgreement.AssertMatches(runtime.Build(), [("x", x), ("w", w), .. bias ? [("b", b)] : Array.Empty<(string, Tensor)>()]);

        // ... and stored as initializers.
        var constant = new OnnxModelBuilder(11);
        string xi = constant.Input("x", ElementType.Float32, OrtAgreement.Dims(xShape));
        string wi = constant.Initializer("w", w);
        constant.Output(constant.Node("ConvTranspose", bias ? [xi, wi, constant.Initializer("b", b)] : [xi, wi], attributes));
        OrtAgreement.AssertMatches(constant.Build(), [("x", x)]);
    }

    [Theory]
    [InlineData("SAME_UPPER", new[] { 0, 0, 1, 1 })]
    [InlineData("SAME_LOWER", new[] { 1, 1, 0, 0 })]
    public void Odd_same_padding_crops_as_the_onnx_specification_says(string autoPad, int[] explicitPads)
    {
        // x 3×3, kernel 3, stride 2: the scatter covers 7, SAME asks for 6, so one element is cropped,
        // at the end for SAME_UPPER and at the start for SAME_LOWER.
        Tensor x = TensorAssert.Random([1, 1, 3, 3], 1), w = TensorAssert.Random([1, 2, 3, 3], 2);
        var same = new OnnxModelBuilder(11);
        same.Output(same.Node("ConvTranspose", [same.Input("x", ElementType.Float32, 1, 1, 3, 3), same.Initializer("w", w)],
            ("auto_pad", autoPad), ("strides", new[] { 2, 2 })));
        var padded = new OnnxModelBuilder(11);
        padded.Output(padded.Node("ConvTranspose", [padded.Input("x", ElementType.Float32, 1, 1, 3, 3), padded.Initializer("w", w)],
            ("pads", explicitPads), ("strides", new[] { 2, 2 })));

        Tensor expected = OrtReference.Run(padded.Build(), [("x", x)])[0];
        Tensor actual = ModelRunner.Run(same.Build(), [x])[0];

        Assert.Equal([1, 2, 6, 6], actual.Shape);
        TensorAssert.Close(expected, actual);
    }

    [Fact]
    public void Pointwise_kernel_needs_no_column_buffer()
    {
        var b = new OnnxModelBuilder(11);
        b.Output(b.Node("ConvTranspose", [b.Input("x", ElementType.Float32, 1, 4, 5, 5), b.Initializer("w", TensorAssert.Random([4, 6, 1, 1], 2))]));

        PlanStep step = Assert.Single(ModelRunner.Compile(b.Build()).Plan!.Steps);

        Assert.Equal("ConvTranspose", step.Kernel);
        Assert.Equal(PlanArgKind.None, step["col"].Kind);
    }

    [Fact]
    public void ConvTranspose_counts_macs()
    {
        var b = new OnnxModelBuilder(11);
        b.Output(b.Node("ConvTranspose", [b.Input("x", ElementType.Float32, 1, 3, 4, 5), b.Initializer("w", TensorAssert.Random([3, 2, 3, 3], 2))]));

        Assert.Equal(3L * 4 * 5 * (2 * 3 * 3), ModelRunner.Compile(b.Build()).Plan!.Cost.Macs);
    }

    [Theory]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 3, 2, 3, 3 }, "group", 1, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 4, 2, 3, 3 }, "group", 3, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 4, 2, 3, 3 }, "group", 0, DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 4, 2, 3, 3 }, "kernel_shape", new[] { 3, 2 }, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 4, 2, 3, 3 }, "strides", new[] { 1 }, DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 4, 2, 3, 3 }, "output_padding", new[] { -1, 0 }, DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 4, 2, 3, 3 }, "output_shape", new[] { 10 }, DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 5, 5 }, new[] { 4, 2, 3, 3 }, "auto_pad", "SAME", DiagnosticCodes.InvalidAttribute)]
    [InlineData(new[] { 1, 4, 2, 2 }, new[] { 4, 2, 2, 2 }, "pads", new[] { 2, 2, 2, 2 }, DiagnosticCodes.ShapeMismatch)]
    [InlineData(new[] { 1, 4, 5 }, new[] { 4, 2, 3, 3 }, "group", 1, DiagnosticCodes.ShapeMismatch)]
    public void Invalid_conv_transpose_is_reported(int[] xShape, int[] wShape, string attribute, object value, string code)
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(xShape));
        string w = b.Input("w", ElementType.Float32, OrtAgreement.Dims(wShape));
        b.Output(b.Node("ConvTranspose", [x, w], (attribute, value)));

        Assert.Equal(code, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void ConvTranspose_with_a_misshapen_bias_is_MSDK2003()
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 1, 2, 5, 5);
        string w = b.Input("w", ElementType.Float32, 2, 3, 3, 3);
        string bias = b.Input("b", ElementType.Float32, 2);
        b.Output(b.Node("ConvTranspose", [x, w, bias]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    /// <summary>One transposed-convolution configuration, shown by its name in test results.</summary>
    public sealed record ConvTransposeCase(string Name, int[] X, int[] W, bool Bias, (string, object)[] Attributes)
    {
        public override string ToString() => Name;
    }
}
