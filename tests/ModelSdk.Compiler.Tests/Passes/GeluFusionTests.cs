using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Passes;

public class GeluFusionTests
{
    private static readonly Tensor Input = TensorAssert.Random([2, 37], 1, -6, 6);

    [Fact]
    public void Exact_gelu_as_pytorch_exports_it_becomes_one_node()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 37);
        string erf = b.Node("Erf", [b.Node("Div", [x, Scalar(b, "sqrt2", MathF.Sqrt(2))])]);
        string sum = b.Node("Add", [erf, Scalar(b, "one", 1)]);
        b.Output(b.Node("Mul", [b.Node("Mul", [x, sum]), Scalar(b, "half", 0.5f)]));
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new GeluFusionPass());

        Assert.Equal(
            """
            input x: float32[2,37]
            div_0_0: float32[2,37] = Div(x, 1.4142135)
            erf_1_0: float32[2,37] = Erf(div_0_0)
            add_2_0: float32[2,37] = Add(erf_1_0, 1)
            mul_3_0: float32[2,37] = Mul(x, add_2_0)
            mul_4_0: float32[2,37] = Mul(mul_3_0, 0.5)
            output mul_4_0

            """.ReplaceLineEndings("\n"), before);
        Assert.Equal(
            """
            input x: float32[2,37]
            mul_4_0: float32[2,37] = modelsdk.fused.Gelu(x) approximate=0
            output mul_4_0

            """.ReplaceLineEndings("\n"), after);
        Assert.Equal(["Gelu"], PassHarness.Kernels(model));
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    /// <summary>Operand orders and associations of x · 0.5 · (1 + erf(x/√2)).</summary>
    [Theory]
    [InlineData("mul-by-inverse, (sum·x)·½")]
    [InlineData("one-first, ½·(x·sum)")]
    [InlineData("(x·½)·sum")]
    [InlineData("sum·(½·x)")]
    [InlineData("(sum·½)·x")]
    [InlineData("x·(½·sum)")]
    public void Exact_gelu_fuses_in_any_operand_order(string variant)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 37);
        string half = Scalar(b, "half", 0.5f), one = Scalar(b, "one", 1);
        string scaled = variant.StartsWith("mul-by-inverse", StringComparison.Ordinal)
            ? b.Node("Mul", [Scalar(b, "inverse", 0.70710678f), x])
            : b.Node("Div", [x, Scalar(b, "sqrt2", 1.41421356f)]);
        string erf = b.Node("Erf", [scaled]);
        string sum = variant.StartsWith("one-first", StringComparison.Ordinal) ? b.Node("Add", [one, erf]) : b.Node("Add", [erf, one]);
        string y = variant switch
        {
            "mul-by-inverse, (sum·x)·½" => b.Node("Mul", [b.Node("Mul", [sum, x]), half]),
            "one-first, ½·(x·sum)" => b.Node("Mul", [half, b.Node("Mul", [x, sum])]),
            "(x·½)·sum" => b.Node("Mul", [b.Node("Mul", [x, half]), sum]),
            "sum·(½·x)" => b.Node("Mul", [sum, b.Node("Mul", [half, x])]),
            "(sum·½)·x" => b.Node("Mul", [b.Node("Mul", [sum, half]), x]),
            _ => b.Node("Mul", [x, b.Node("Mul", [half, sum])]),
        };
        b.Output(y);
        byte[] model = b.Build();

        Assert.Equal(["Gelu"], PassHarness.Kernels(model));
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Tanh_approximation_becomes_one_node(bool pow, bool swapped)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 37);
        string cube = pow ? b.Node("Pow", [x, Scalar(b, "three", 3)]) : b.Node("Mul", [b.Node("Mul", [x, x]), x]);
        string cubic = swapped ? b.Node("Mul", [Scalar(b, "k", 0.044715f), cube]) : b.Node("Mul", [cube, Scalar(b, "k", 0.044715f)]);
        string inner = swapped ? b.Node("Add", [cubic, x]) : b.Node("Add", [x, cubic]);
        string tanh = b.Node("Tanh", [b.Node("Mul", [inner, Scalar(b, "c", MathF.Sqrt(2 / MathF.PI))])]);
        string sum = b.Node("Add", [tanh, Scalar(b, "one", 1)]);
        string y = b.Node("Mul", [b.Node("Mul", [Scalar(b, "half", 0.5f), x]), sum]);
        b.Output(y);
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new GeluFusionPass());

        Assert.Equal(
            $"""
            input x: float32[2,37]
            {y}: float32[2,37] = modelsdk.fused.Gelu(x) approximate=1
            output {y}

            """.ReplaceLineEndings("\n"), after);
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Fact]
    public void An_intermediate_used_elsewhere_prevents_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 37);
        string erf = b.Node("Erf", [b.Node("Div", [x, Scalar(b, "sqrt2", MathF.Sqrt(2))])]);
        string sum = b.Node("Add", [erf, Scalar(b, "one", 1)]);
        b.Output(b.Node("Mul", [b.Node("Mul", [x, sum]), Scalar(b, "half", 0.5f)]));
        b.Output(erf);
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new GeluFusionPass());

        Assert.Equal(before, after);
        OrtAgreement.AssertMatches(model, [("x", Input)]);
    }

    [Theory]
    [InlineData(0.6f, 1f)] // not ½
    [InlineData(0.5f, 2f)] // not 1 + erf
    public void Other_constants_prevent_the_fusion(float half, float one)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 37);
        string erf = b.Node("Erf", [b.Node("Div", [x, Scalar(b, "sqrt2", MathF.Sqrt(2))])]);
        string sum = b.Node("Add", [erf, Scalar(b, "one", one)]);
        b.Output(b.Node("Mul", [b.Node("Mul", [x, sum]), Scalar(b, "half", half)]));
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new GeluFusionPass());

        Assert.Equal(before, after);
        Assert.DoesNotContain("Gelu", PassHarness.Kernels(model));
    }

    [Fact]
    public void A_constant_that_widens_the_shape_prevents_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 37);
        string erf = b.Node("Erf", [b.Node("Div", [x, Scalar(b, "sqrt2", MathF.Sqrt(2))])]);
        string sum = b.Node("Add", [erf, Scalar(b, "one", 1)]);
        string half = b.Initializer("half", Tensor.FromFloats([2, 1], 0.5f, 0.5f));
        b.Output(b.Node("Mul", [b.Node("Mul", [x, sum]), half]));

        (string before, string after) = PassHarness.Run(b.Build(), new GeluFusionPass());

        Assert.Equal(before, after);
    }

    [Fact]
    public void Gelu_inside_an_if_branch_is_fused_there()
    {
        var branch = new OnnxModelBuilder(13);
        string erf = branch.Node("Erf", [branch.Node("Div", ["x", Scalar(branch, "sqrt2", MathF.Sqrt(2))])]);
        branch.Output(branch.Node("Mul", [branch.Node("Mul", ["x", branch.Node("Add", [erf, Scalar(branch, "one", 1)])]), Scalar(branch, "half", 0.5f)]));
        var otherwise = new OnnxModelBuilder(13);
        otherwise.Output(otherwise.Node("Neg", ["x"]));
        var b = new OnnxModelBuilder(13);
        b.Input("x", ElementType.Float32, 2, 37);
        string cond = b.Input("cond", ElementType.Bool);
        b.Output(b.Node("If", [cond], ("then_branch", branch.Subgraph("then")), ("else_branch", otherwise.Subgraph("else"))));
        byte[] model = b.Build();

        Graph graph = Compiled(model);

        Graph then = graph.Nodes.Single().Subgraphs.First();
        Assert.Equal("Gelu", Assert.Single(then.Nodes).OpType);
        foreach (byte flag in new byte[] { 1, 0 })
        {
            OrtAgreement.AssertMatches(model, [("x", Input), ("cond", Tensor.From<byte>(ElementType.Bool, [], [flag]))]);
        }
    }

    [Fact]
    public void An_intermediate_read_inside_an_if_branch_prevents_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 37);
        string cond = b.Input("cond", ElementType.Bool);
        string erf = b.Node("Erf", [b.Node("Div", [x, Scalar(b, "sqrt2", MathF.Sqrt(2))])]);
        string sum = b.Node("Add", [erf, Scalar(b, "one", 1)]);
        string gelu = b.Node("Mul", [b.Node("Mul", [x, sum]), Scalar(b, "half", 0.5f)]);
        var then = new OnnxModelBuilder(13);
        then.Output(then.Node("Add", [gelu, erf]));
        var otherwise = new OnnxModelBuilder(13);
        otherwise.Output(otherwise.Node("Neg", [gelu]));
        b.Output(b.Node("If", [cond], ("then_branch", then.Subgraph("then")), ("else_branch", otherwise.Subgraph("else"))));
        byte[] model = b.Build();

        Graph graph = Compiled(model);

        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "Gelu");
        OrtAgreement.AssertMatches(model, [("x", Input), ("cond", Tensor.From<byte>(ElementType.Bool, [], [1]))]);
    }

    /// <summary>The graph after every pass of a compilation.</summary>
    private static Graph Compiled(byte[] model)
    {
        AnalysisResult result = ModelCompiler.Analyze(new CompileOptions(ModelRunner.WriteTemp(model)));
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Graph!;
    }

    private static string Scalar(OnnxModelBuilder b, string name, float value) => b.Initializer(name, Tensor.FromFloats([], value));
}
