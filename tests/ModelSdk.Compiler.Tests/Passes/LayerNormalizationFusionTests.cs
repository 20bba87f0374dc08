using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Passes;

public class LayerNormalizationFusionTests
{
    private static readonly Tensor Input = TensorAssert.Random([2, 5, 16], 1, -3, 7);

    [Fact]
    public void Decomposed_layer_normalization_becomes_one_node()
    {
        byte[] model = Decomposed(13, [-1], out string y);

        (string before, string after) = PassHarness.Run(model, new LayerNormalizationFusionPass());

        Assert.Equal(
            """
            input x: float32[2,5,16]
            reducemean_0_0: float32[2,5,1] = ReduceMean(x) axes=[-1]
            sub_1_0: float32[2,5,16] = Sub(x, reducemean_0_0)
            pow_2_0: float32[2,5,16] = Pow(sub_1_0, 2)
            reducemean_3_0: float32[2,5,1] = ReduceMean(pow_2_0) axes=[-1]
            add_4_0: float32[2,5,1] = Add(reducemean_3_0, 1E-05)
            sqrt_5_0: float32[2,5,1] = Sqrt(add_4_0)
            div_6_0: float32[2,5,16] = Div(sub_1_0, sqrt_5_0)
            mul_7_0: float32[2,5,16] = Mul(div_6_0, gamma)
            add_8_0: float32[2,5,16] = Add(beta, mul_7_0)
            output add_8_0

            """.ReplaceLineEndings("\n"), before);
        Assert.Equal(
            $"""
            input x: float32[2,5,16]
            {y}: float32[2,5,16] = modelsdk.fused.LayerNormalization(x, gamma, beta) axis=2 epsilon=1E-05
            output {y}

            """.ReplaceLineEndings("\n"), after);
        Assert.Equal(["Normalization"], PassHarness.Kernels(model));
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Theory]
    [InlineData(13, new long[] { -2, -1 }, true)]
    [InlineData(13, new long[] { 2 }, false)] // the square as d · d
    [InlineData(18, new long[] { -1 }, true)] // axes as an input
    [InlineData(18, new long[] { 1, 2 }, false)]
    public void Reduced_axes_decide_the_normalized_axis(int opset, long[] axes, bool pow)
    {
        byte[] model = Decomposed(opset, axes, out _, pow);

        (_, string after) = PassHarness.Run(model, new LayerNormalizationFusionPass());

        Assert.Contains($"modelsdk.fused.LayerNormalization(x, gamma, beta) axis={3 - axes.Length}", after);
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Fact]
    public void Without_scale_and_bias_the_division_ends_the_pattern()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 5, 16);
        string d = b.Node("Sub", [x, b.Node("ReduceMean", [x], ("axes", new[] { -1 }))]);
        string variance = b.Node("ReduceMean", [b.Node("Pow", [d, Scalar(b, "two", 2)])], ("axes", new[] { -1 }));
        string y = b.Node("Div", [d, b.Node("Sqrt", [b.Node("Add", [Scalar(b, "eps", 1e-3f), variance])])]);
        b.Output(b.Node("Relu", [y]));
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new LayerNormalizationFusionPass());

        Assert.Contains($"{y}: float32[2,5,16] = modelsdk.fused.LayerNormalization(x, -, -) axis=2 epsilon=0.001", after);
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Fact]
    public void A_scale_over_the_outer_axes_stays_outside_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 5, 16);
        string d = b.Node("Sub", [x, b.Node("ReduceMean", [x], ("axes", new[] { -1 }))]);
        string variance = b.Node("ReduceMean", [b.Node("Pow", [d, Scalar(b, "two", 2)])], ("axes", new[] { -1 }));
        string n = b.Node("Div", [d, b.Node("Sqrt", [b.Node("Add", [variance, Scalar(b, "eps", 1e-5f)])])]);
        string y = b.Node("Mul", [n, b.Initializer("rows", TensorAssert.Random([5, 1], 4))]);
        b.Output(y);
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new LayerNormalizationFusionPass());

        Assert.Contains($"{n}: float32[2,5,16] = modelsdk.fused.LayerNormalization(x, -, -) axis=2", after);
        Assert.Contains($"{y}: float32[2,5,16] = Mul({n}, rows)", after);
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Fact]
    public void Different_axes_in_the_two_means_prevent_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 5, 16);
        string d = b.Node("Sub", [x, b.Node("ReduceMean", [x], ("axes", new[] { -1 }))]);
        string variance = b.Node("ReduceMean", [b.Node("Pow", [d, Scalar(b, "two", 2)])], ("axes", new[] { -2, -1 }));
        b.Output(b.Node("Div", [d, b.Node("Sqrt", [b.Node("Add", [variance, Scalar(b, "eps", 1e-5f)])])]));

        (string before, string after) = PassHarness.Run(b.Build(), new LayerNormalizationFusionPass());

        Assert.Equal(before, after);
    }

    [Fact]
    public void Centred_values_used_elsewhere_prevent_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 5, 16);
        string d = b.Node("Sub", [x, b.Node("ReduceMean", [x], ("axes", new[] { -1 }))]);
        string variance = b.Node("ReduceMean", [b.Node("Pow", [d, Scalar(b, "two", 2)])], ("axes", new[] { -1 }));
        b.Output(b.Node("Div", [d, b.Node("Sqrt", [b.Node("Add", [variance, Scalar(b, "eps", 1e-5f)])])]));
        b.Output(d);
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new LayerNormalizationFusionPass());

        Assert.Equal(before, after);
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Fact]
    public void Means_over_a_leading_axis_prevent_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 5, 16);
        string d = b.Node("Sub", [x, b.Node("ReduceMean", [x], ("axes", new[] { 1 }))]);
        string variance = b.Node("ReduceMean", [b.Node("Pow", [d, Scalar(b, "two", 2)])], ("axes", new[] { 1 }));
        b.Output(b.Node("Div", [d, b.Node("Sqrt", [b.Node("Add", [variance, Scalar(b, "eps", 1e-5f)])])]));

        (string before, string after) = PassHarness.Run(b.Build(), new LayerNormalizationFusionPass());

        Assert.Equal(before, after);
    }

    /// <summary>The decomposition PyTorch exports for nn.LayerNorm before opset 17, over <paramref name="axes"/> of x [2, 5, 16].</summary>
    private static byte[] Decomposed(int opset, long[] axes, out string y, bool pow = true)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, 2, 5, 16);
        int[] shape = [2, 5, 16];
        int[] normalized = shape[(3 - axes.Length)..];
        string Mean(string input) => opset >= 18
            ? b.Node("ReduceMean", [input, b.Initializer($"axes{input}", Tensor.FromInt64s([axes.Length], axes))])
            : b.Node("ReduceMean", [input], ("axes", axes));
        string d = b.Node("Sub", [x, Mean(x)]);
        string square = pow ? b.Node("Pow", [d, Scalar(b, "two", 2)]) : b.Node("Mul", [d, d]);
        string std = b.Node("Sqrt", [b.Node("Add", [Mean(square), Scalar(b, "eps", 1e-5f)])]);
        string n = b.Node("Div", [d, std]);
        string scaled = b.Node("Mul", [n, b.Initializer("gamma", TensorAssert.Random(normalized, 2, 0.5f, 1.5f))]);
        y = b.Node("Add", [b.Initializer("beta", TensorAssert.Random(normalized, 3)), scaled]);
        b.Output(y);
        return b.Build();
    }

    private static string Scalar(OnnxModelBuilder b, string name, float value) => b.Initializer(name, Tensor.FromFloats([], value));
}
