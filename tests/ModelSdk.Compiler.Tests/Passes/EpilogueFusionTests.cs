using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Tests.Passes;

public class EpilogueFusionTests
{
    private static readonly int[] XShape = [1, 3, 9, 11];
    private static readonly int[] YShape = [1, 4, 9, 11];
    private static readonly Tensor X = TensorAssert.Random(XShape, 1, -2, 2);

    /// <summary>A 3×3 same-padded Conv from x (3 channels) to 4 channels, with or without bias.</summary>
    private static string Conv(OnnxModelBuilder b, string x, bool bias = true, int seed = 2)
    {
        string w = b.Initializer($"w{seed}", TensorAssert.Random([4, 3, 3, 3], seed));
        string?[] inputs = bias ? [x, w, b.Initializer($"b{seed}", TensorAssert.Random([4], seed + 100))] : [x, w];
        return b.Node("Conv", inputs, ("pads", new[] { 1, 1, 1, 1 }));
    }

    private static PlanStep[] Steps(byte[] model) => ModelRunner.Compile(model).Plan!.Steps.ToArray();

    private static string Symbol(PlanStep step, string arg) => step[arg].Symbol!;

    public static TheoryData<string, int, Activation> Activations => new()
    {
        { "Relu", 13, Activation.Relu },
        { "LeakyRelu", 13, Activation.LeakyRelu },
        { "Sigmoid", 13, Activation.Sigmoid },
        { "Tanh", 13, Activation.Tanh },
        { "HardSigmoid", 13, Activation.HardSigmoid },
        { "HardSwish", 14, Activation.HardSwish },
        { "Clip", 13, Activation.Clip },
        { "Clip", 6, Activation.Clip },
        { "Gelu", 20, Activation.Gelu },
        { "GeluTanh", 20, Activation.GeluTanh },
    };

    [Theory]
    [MemberData(nameof(Activations))]
    public void Each_activation_folds_into_the_conv(string op, int opset, Activation expected)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string y = Conv(b, x);
        string output = op switch
        {
            "LeakyRelu" => b.Node(op, [y], ("alpha", 0.3f)),
            "HardSigmoid" => b.Node(op, [y], ("alpha", 0.3f), ("beta", 0.4f)),
            "Clip" when opset < 11 => b.Node(op, [y], ("min", -0.5f), ("max", 0.75f)),
            "Clip" => b.Node(op, [y, b.Initializer("lo", Tensor.FromFloats([], -0.5f)), b.Initializer("hi", Tensor.FromFloats([], 0.75f))]),
            "Gelu" => b.Node(op, [y]),
            "GeluTanh" => b.Node("Gelu", [y], ("approximate", "tanh")),
            _ => b.Node(op, [y]),
        };
        b.Output(output);
        byte[] model = b.Build();

        PlanStep step = Assert.Single(Steps(model));
        Assert.Equal("Activation." + expected, Symbol(step, "activation"));
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void Residual_add_then_relu_fold_into_the_conv_and_keep_the_output_name()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string r = b.Input("r", ElementType.Float32, 1, 4, 9, 11);
        string sum = b.Node("Add", [r, Conv(b, x)]);
        b.Output(b.Node("Relu", [sum]));
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new EpilogueFusionPass(OperatorRegistry.Default));

        Assert.Equal(
            """
            input x: float32[1,3,9,11]
            input r: float32[1,4,9,11]
            relu_2_0: float32[1,4,9,11] = Conv(x, w2, b2) pads=[1,1,1,1] epilogue=Relu residual=r
            output relu_2_0

            """.ReplaceLineEndings("\n"), after);
        PlanStep step = Assert.Single(Steps(model));
        Assert.Equal(PlanArgKind.TensorIn, step["residual"].Kind);
        OrtAgreement.AssertMatches(model, [("x", X), ("r", TensorAssert.Random(YShape, 5))]);
    }

    [Fact]
    public void A_residual_computed_after_the_producer_is_refused_and_the_later_conv_takes_it()
    {
        // Projection shortcut: both branches are convs of x; the sum folds into the one computed second.
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string first = Conv(b, x, seed: 2);
        string second = Conv(b, x, seed: 3);
        b.Output(b.Node("Relu", [b.Node("Add", [first, second])]));
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new EpilogueFusionPass(OperatorRegistry.Default));

        Assert.Equal(
            """
            input x: float32[1,3,9,11]
            conv_0_0: float32[1,4,9,11] = Conv(x, w2, b2) pads=[1,1,1,1]
            relu_3_0: float32[1,4,9,11] = Conv(x, w3, b3) pads=[1,1,1,1] epilogue=Relu residual=conv_0_0
            output relu_3_0

            """.ReplaceLineEndings("\n"), after);
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void An_output_read_by_another_node_is_not_fused()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string y = Conv(b, x);
        b.Output(b.Node("Relu", [y]));
        b.Output(b.Node("Sigmoid", [y]));
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new EpilogueFusionPass(OperatorRegistry.Default));

        Assert.Equal(before, after);
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void A_graph_output_is_not_fused_away()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string r = b.Input("r", ElementType.Float32, 1, 4, 9, 11);
        string y = Conv(b, x);
        string sum = b.Node("Add", [y, r]);
        b.Output(y);
        b.Output(b.Node("Relu", [sum]));
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new EpilogueFusionPass(OperatorRegistry.Default));

        Assert.Equal(before, after);
        OrtAgreement.AssertMatches(model, [("x", X), ("r", TensorAssert.Random(YShape, 5))]);
    }

    [Fact]
    public void The_residual_stops_at_a_graph_output_and_the_activation_is_not_folded_past_it()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string r = b.Input("r", ElementType.Float32, 1, 4, 9, 11);
        string sum = b.Node("Add", [Conv(b, x), r]);
        b.Output(sum);
        b.Output(b.Node("Relu", [sum]));
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new EpilogueFusionPass(OperatorRegistry.Default));

        Assert.Contains("add_1_0: float32[1,4,9,11] = Conv(x, w2, b2) pads=[1,1,1,1] epilogue=None residual=r\n", after, StringComparison.Ordinal);
        Assert.Contains("relu_2_0: float32[1,4,9,11] = Relu(add_1_0)\n", after, StringComparison.Ordinal);
        OrtAgreement.AssertMatches(model, [("x", X), ("r", TensorAssert.Random(YShape, 5))]);
    }

    [Fact]
    public void Clip_with_bounds_computed_at_run_time_is_not_fused()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string lo = b.Input("lo", ElementType.Float32);
        b.Output(b.Node("Clip", [Conv(b, x), lo, b.Initializer("hi", Tensor.FromFloats([], 0.5f))]));
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new EpilogueFusionPass(OperatorRegistry.Default));

        Assert.Equal(before, after);
        OrtAgreement.AssertMatches(model, [("x", X), ("lo", Tensor.FromFloats([], -0.25f))]);
    }

    [Fact]
    public void Hard_sigmoid_times_x_becomes_hard_swish()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string y = Conv(b, x);
        b.Output(b.Node("Mul", [y, b.Node("HardSigmoid", [y], ("alpha", 1f / 6), ("beta", 0.5f))]));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(Steps(model));
        Assert.Equal("Activation.HardSwish", Symbol(step, "activation"));
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void Hard_sigmoid_with_other_constants_times_x_is_not_hard_swish()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string y = Conv(b, x);
        b.Output(b.Node("Mul", [y, b.Node("HardSigmoid", [y])]));
        byte[] model = b.Build();

        // Not HardSwish: the Conv keeps its plain store, and the gate and the product become one elementwise chain.
        Assert.Equal(["Conv", "ElementwiseChain"], Steps(model).Select(s => s.Kernel));
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void Gelu_decomposition_fused_by_the_gelu_pass_folds_into_the_conv()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string y = Conv(b, x);
        string erf = b.Node("Erf", [b.Node("Div", [y, b.Initializer("sqrt2", Tensor.FromFloats([], MathF.Sqrt(2)))])]);
        string sum = b.Node("Add", [erf, b.Initializer("one", Tensor.FromFloats([], 1))]);
        b.Output(b.Node("Mul", [b.Node("Mul", [y, sum]), b.Initializer("half", Tensor.FromFloats([], 0.5f))]));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(Steps(model));
        Assert.Equal("Activation.Gelu", Symbol(step, "activation"));
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Theory]
    [InlineData(new[] { 4, 1, 1 })]
    [InlineData(new[] { 1, 4, 1, 1 })]
    public void A_per_channel_constant_added_after_a_conv_without_bias_becomes_its_bias(int[] shape)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        b.Output(b.Node("Relu", [b.Node("Add", [Conv(b, x, bias: false), b.Initializer("c", TensorAssert.Random(shape, 9))])]));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(Steps(model));
        Assert.Equal(PlanArgKind.TensorIn, step["b"].Kind);
        Assert.Equal(PlanArgKind.None, step["residual"].Kind);
        Assert.Equal("Activation.Relu", Symbol(step, "activation"));
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Theory]
    [InlineData(new[] { 2, 5, 7 }, new[] { 7, 6 }, new[] { 6 }, false)]
    [InlineData(new[] { 2, 5, 7 }, new[] { 7, 6 }, new[] { 1, 1, 6 }, true)]
    [InlineData(new[] { 3, 7 }, new[] { 7, 6 }, new[] { 1, 6 }, true)]
    [InlineData(new[] { 2, 5, 7 }, new[] { 2, 7, 6 }, new[] { 6 }, false)] // a batch of right-hand matrices
    public void A_per_column_constant_added_after_a_matmul_becomes_its_bias_with_the_residual_and_activation(int[] aShape, int[] wShape, int[] biasShape, bool constantFirst)
    {
        var b = new OnnxModelBuilder();
        int[] yShape = [.. aShape[..^1], 6];
        string a = b.Input("a", ElementType.Float32, [.. aShape.Select(d => (int?)d)]);
        string r = b.Input("r", ElementType.Float32, [.. yShape.Select(d => (int?)d)]);
        string product = b.Node("MatMul", [a, b.Initializer("w", TensorAssert.Random(wShape, 3))]);
        string bias = b.Initializer("c", TensorAssert.Random(biasShape, 4));
        string sum = b.Node("Add", constantFirst ? [bias, product] : [product, bias]);
        b.Output(b.Node("Tanh", [b.Node("Add", [r, sum])]));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(Steps(model));
        Assert.Equal("Gemm", step.Kernel);
        Assert.Equal(PlanArgKind.TensorIn, step["c"].Kind);
        Assert.Equal(PlanArgKind.TensorIn, step["residual"].Kind);
        Assert.Equal("Activation.Tanh", Symbol(step, "activation"));
        OrtAgreement.AssertMatches(model, [("a", TensorAssert.Random(aShape, 5)), ("r", TensorAssert.Random(yShape, 6))]);
    }

    [Fact]
    public void A_constant_added_after_a_matmul_that_varies_along_rows_is_not_a_bias()
    {
        var b = new OnnxModelBuilder();
        string a = b.Input("a", ElementType.Float32, 3, 7);
        string product = b.Node("MatMul", [a, b.Initializer("w", TensorAssert.Random([7, 6], 3))]);
        b.Output(b.Node("Add", [product, b.Initializer("c", TensorAssert.Random([3, 1], 4))]));
        byte[] model = b.Build();

        Assert.Equal(["Gemm", "Binary"], Steps(model).Select(s => s.Kernel));
        OrtAgreement.AssertMatches(model, [("a", TensorAssert.Random([3, 7], 5))]);
    }

    [Fact]
    public void A_constant_that_is_not_per_channel_is_not_a_bias()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        b.Output(b.Node("Add", [Conv(b, x, bias: false), b.Initializer("c", TensorAssert.Random([11], 9))]));
        byte[] model = b.Build();

        Assert.Equal(["Conv", "Binary"], Steps(model).Select(s => s.Kernel));
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void Batch_normalization_folds_into_the_conv_weights()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string scale = b.Initializer("scale", TensorAssert.Random([4], 11, 0.5f, 2));
        string shift = b.Initializer("shift", TensorAssert.Random([4], 12));
        string mean = b.Initializer("mean", TensorAssert.Random([4], 13));
        string variance = b.Initializer("var", TensorAssert.Random([4], 14, 0.1f, 3));
        string bn = b.Node("BatchNormalization", [Conv(b, x), scale, shift, mean, variance], ("epsilon", 1e-3f));
        b.Output(b.Node("Relu", [bn]));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(Steps(model));
        Assert.Equal("Conv", step.Kernel);
        Assert.Equal("Activation.Relu", Symbol(step, "activation"));
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void Batch_normalization_with_parameters_computed_at_run_time_stays()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string scale = b.Input("scale", ElementType.Float32, 4);
        string shift = b.Initializer("shift", TensorAssert.Random([4], 12));
        string mean = b.Initializer("mean", TensorAssert.Random([4], 13));
        string variance = b.Initializer("var", TensorAssert.Random([4], 14, 0.1f, 3));
        b.Output(b.Node("BatchNormalization", [Conv(b, x), scale, shift, mean, variance]));
        byte[] model = b.Build();

        Assert.True(Steps(model).Length > 1, "The normalization was folded, but its scale is an input.");
        OrtAgreement.AssertMatches(model, [("x", X), ("scale", TensorAssert.Random([4], 11))]);
    }

    /// <summary>
    /// The pass folds into any operator that declares <see cref="IAcceptsEpilogue"/>, and only into the nodes it accepts:
    /// a test operator stands in for Gemm and MatMul, and refuses nodes named "refused".
    /// </summary>
    [Fact]
    public void Any_operator_that_accepts_an_epilogue_gets_one()
    {
        Graph accepted = Producer("p"), refused = Producer("refused");
        var pass = new EpilogueFusionPass((node, opset) => node.OpType == "TestProducer" ? new TestProducer() : OperatorRegistry.Default.Find(node.Domain, node.OpType, opset));

        pass.Run(accepted);
        pass.Run(refused);

        Assert.Equal(
            """
            input a: float32[2,8]
            input r: float32[2,8]
            y: float32[2,8] = test.TestProducer(a) epilogue=Clip(0,6) residual=r
            output y

            """.ReplaceLineEndings("\n"), GraphPrinter.Print(accepted));
        Assert.Equal(3, refused.Nodes.Count);
    }

    private static Graph Producer(string name)
    {
        Value Typed(string n) => new(n) { Type = ElementType.Float32, Shape = [2, 8] };
        Value a = Typed("a"), r = Typed("r"), p = Typed("p"), s = Typed("s"), y = Typed("y");
        a.IsGraphInput = r.IsGraphInput = true;
        var clip = new Dictionary<string, Attribute>
        {
            ["min"] = new("min", AttributeKind.Float) { Float = 0 },
            ["max"] = new("max", AttributeKind.Float) { Float = 6 },
        };
        var nodes = new List<Node>
        {
            new(name, "TestProducer", "test", [a], [p], new Dictionary<string, Attribute>()),
            new("add", "Add", string.Empty, [p, r], [s], new Dictionary<string, Attribute>()),
            new("clip", "Clip", string.Empty, [s], [y], clip),
        };
        foreach (Node n in nodes)
        {
            n.Outputs[0].Producer = n;
        }

        return new Graph("g", 6, [a, r], [y], nodes);
    }

    private sealed class TestProducer : IAcceptsEpilogue
    {
        public bool AcceptsEpilogue(Node node) => node.Name != "refused";

        public void Infer(InferenceContext ctx) => throw new NotSupportedException();

        public void Lower(LoweringContext ctx) => throw new NotSupportedException();
    }
}
