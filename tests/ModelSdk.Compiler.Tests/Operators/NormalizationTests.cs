using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class NormalizationTests
{
    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 }, -1, new[] { 5 })]
    [InlineData(new[] { 2, 3, 4, 5 }, 1, new[] { 3, 4, 5 })]
    [InlineData(new[] { 2, 3, 4, 5 }, -2, new[] { 4, 5 })]
    [InlineData(new[] { 3, 37 }, 1, new[] { 37 })] // a row past the vector width with a tail
    [InlineData(new[] { 4, 6 }, 0, new[] { 4, 6 })]
    [InlineData(new[] { 2, 5, 7 }, -2, new[] { 1, 7 })] // scale broadcast along the normalized axes
    [InlineData(new[] { 2, 5, 7 }, 1, new[] { 1 })]
    public void LayerNormalization_matches_onnxruntime(int[] shape, int axis, int[] parameterShape)
    {
        Tensor x = TensorAssert.Random(shape, 1, -3, 5), scale = TensorAssert.Random(parameterShape, 2), bias = TensorAssert.Random(parameterShape, 3);

        // Parameters as initializers (expanded at compile time when broadcast) ...
        var constant = new OnnxModelBuilder(17);
        string xi = constant.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        constant.Output(constant.Node("LayerNormalization", [xi, constant.Initializer("scale", scale), constant.Initializer("bias", bias)], ("axis", axis), ("epsilon", 1e-3f)));
        OrtAgreement.AssertMatches(constant.Build(), [("x", x)]);

        // ... and computed at run time (expanded by a broadcast step).
        var runtime = new OnnxModelBuilder(17);
        string[] inputs =
        [
            runtime.Input("x", ElementType.Float32, OrtAgreement.Dims(shape)),
            runtime.Input("scale", ElementType.Float32, OrtAgreement.Dims(parameterShape)),
            runtime.Input("bias", ElementType.Float32, OrtAgreement.Dims(parameterShape)),
        ];
        runtime.Output(runtime.Node("LayerNormalization", inputs, ("axis", axis)));
        OrtAgreement.AssertMatches(runtime.Build(), [("x", x), ("scale", scale), ("bias", bias)]);
    }

    [Fact]
    public void LayerNormalization_without_bias_returns_mean_and_inverse_deviation()
    {
        var b = new OnnxModelBuilder(17);
        string x = b.Input("x", ElementType.Float32, 3, 4, 10);
        string[] outputs = b.NodeMulti("LayerNormalization", [x, b.Initializer("scale", TensorAssert.Random([4, 10], 2))], 3, ("axis", 1));
        foreach (string output in outputs)
        {
            b.Output(output);
        }

        Tensor[] results = OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random([3, 4, 10], 1, 100, 104))]);

        Assert.Equal([3, 1, 1], results[1].Shape);
        Assert.Equal([3, 1, 1], results[2].Shape);
    }

    [Fact]
    public void LayerNormalization_is_one_step()
    {
        var b = new OnnxModelBuilder(17);
        string x = b.Input("x", ElementType.Float32, 2, 8);
        b.Output(b.Node("LayerNormalization", [x, b.Initializer("scale", TensorAssert.Random([8], 2)), b.Initializer("bias", TensorAssert.Random([8], 3))]));

        PlanStep step = Assert.Single(ModelRunner.Compile(b.Build()).Plan!.Steps);

        Assert.Equal("Normalization", step.Kernel);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 }, 2, null, DiagnosticCodes.ShapeMismatch)] // scale [4] does not fit [5]
    [InlineData(new[] { 2, 3, 5 }, 3, null, DiagnosticCodes.ShapeMismatch)] // axis out of range
    [InlineData(new[] { 2, 3, 5 }, -1, 11L, DiagnosticCodes.UnsupportedAttribute)] // stash_type double
    public void Invalid_layer_normalization_is_reported(int[] shape, int axis, long? stash, string code)
    {
        var b = new OnnxModelBuilder(17);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        string scale = b.Initializer("scale", TensorAssert.Random([shape[^1] == 5 && shape.Length == 4 ? 4 : shape[^1]], 2));
        (string, object)[] attributes = stash is { } s ? [("axis", axis), ("stash_type", s)] : [("axis", axis)];
        b.Output(b.Node("LayerNormalization", [x, scale], attributes));

        Assert.Equal(code, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void LayerNormalization_before_opset_17_is_MSDK2001()
    {
        var b = new OnnxModelBuilder(16);
        string x = b.Input("x", ElementType.Float32, 2, 5);
        b.Output(b.Node("LayerNormalization", [x, b.Initializer("scale", TensorAssert.Random([5], 2))]));

        Assert.Equal(DiagnosticCodes.UnsupportedOperator, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData(6, new[] { 2, 3, 4, 5 })]
    [InlineData(6, new[] { 1, 4, 37 })]
    [InlineData(6, new[] { 2, 2, 3, 3, 3 })]
    public void InstanceNormalization_matches_onnxruntime(int opset, int[] shape)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        b.Output(b.Node("InstanceNormalization", [x, b.Initializer("scale", TensorAssert.Random([shape[1]], 2)), b.Initializer("bias", TensorAssert.Random([shape[1]], 3))], ("epsilon", 1e-2f)));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, 1, -2, 6))]);
    }

    [Fact]
    public void InstanceNormalization_with_misshapen_scale_is_MSDK2003()
    {
        var b = new OnnxModelBuilder(6);
        string x = b.Input("x", ElementType.Float32, 1, 3, 4, 4);
        b.Output(b.Node("InstanceNormalization", [x, b.Initializer("scale", TensorAssert.Random([4], 2)), b.Initializer("bias", TensorAssert.Random([3], 3))]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData(18, new[] { 2, 6, 4, 5 }, 3)]
    [InlineData(18, new[] { 1, 4, 9 }, 4)]
    [InlineData(21, new[] { 2, 6, 4, 5 }, 3)]
    [InlineData(21, new[] { 3, 8, 11 }, 2)]
    [InlineData(21, new[] { 2, 6 }, 2)]
    public void GroupNormalization_matches_onnxruntime(int opset, int[] shape, int groups)
    {
        int parameters = opset >= 21 ? shape[1] : groups;
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        b.Output(b.Node("GroupNormalization", [x, b.Initializer("scale", TensorAssert.Random([parameters], 2)), b.Initializer("bias", TensorAssert.Random([parameters], 3))],
            ("num_groups", groups), ("epsilon", 1e-4f)));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, 1, -2, 6))]);
    }

    [Theory]
    [InlineData(4, 4)] // opset-21 parameters at opset 18
    [InlineData(5, 3)] // groups do not divide the channels
    public void Invalid_group_normalization_is_reported(int groups, int parameters)
    {
        var b = new OnnxModelBuilder(18);
        string x = b.Input("x", ElementType.Float32, 1, 6, 4);
        b.Output(b.Node("GroupNormalization", [x, b.Initializer("scale", TensorAssert.Random([parameters], 2)), b.Initializer("bias", TensorAssert.Random([parameters], 3))],
            ("num_groups", groups == 4 ? 2 : groups)));

        Assert.Equal(groups == 4 ? DiagnosticCodes.ShapeMismatch : DiagnosticCodes.InvalidAttribute, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData(13, new[] { 2, 7, 5, 5 }, 3, 0.75f)]
    [InlineData(13, new[] { 1, 5, 1, 37 }, 3, 0.5f)]
    [InlineData(12, new[] { 2, 6, 3, 4 }, 5, 0.6f)]
    [InlineData(13, new[] { 1, 3, 2, 2 }, 7, 0.75f)] // a window wider than the channels
    public void Lrn_matches_onnxruntime(int opset, int[] shape, int size, float beta)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        b.Output(b.Node("LRN", [x], ("size", size), ("alpha", 2e-3f), ("beta", beta), ("bias", 1.5f)));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, 1, -4, 4))]);
    }

    [Fact]
    public void Lrn_with_an_even_size_takes_the_larger_half_after_the_channel()
    {
        // ONNX Runtime accepts odd sizes only; the specification's window for size 4 is [c−1, c+2].
        int[] shape = [1, 5, 3];
        var b = new OnnxModelBuilder(13);
        b.Output(b.Node("LRN", [b.Input("x", ElementType.Float32, 1, 5, 3)], ("size", 4), ("alpha", 0.5f), ("beta", 0.6f), ("bias", 2f)));
        Tensor x = TensorAssert.Random(shape, 1, -4, 4);
        float[] v = x.Span<float>().ToArray();
        var expected = new float[v.Length];
        for (int c = 0; c < 5; c++)
        {
            for (int i = 0; i < 3; i++)
            {
                double sum = 0;
                for (int k = Math.Max(0, c - 1); k <= Math.Min(4, c + 2); k++)
                {
                    sum += v[k * 3 + i] * v[k * 3 + i];
                }

                expected[c * 3 + i] = (float)(v[c * 3 + i] / Math.Pow(2 + 0.5 / 4 * sum, 0.6));
            }
        }

        TensorAssert.Close(Tensor.FromFloats(shape, expected), ModelRunner.Run(b.Build(), [x])[0]);
    }

    [Fact]
    public void Lrn_without_size_is_MSDK2002()
    {
        var b = new OnnxModelBuilder(13);
        b.Output(b.Node("LRN", [b.Input("x", ElementType.Float32, 1, 3, 2, 2)]));

        Assert.Equal(DiagnosticCodes.InvalidAttribute, ModelRunner.CompileError(b.Build()).Code);
    }
}
