using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class ReduceTests
{
    [Fact]
    public void Empty_axes_with_noop_is_the_identity()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string relu = b.Node("Relu", [x]);
        b.Output(b.Node("ReduceSum", [relu, b.Initializer("axes", Tensor.FromInt64s([0]))], ("noop_with_empty_axes", 1)));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(ModelRunner.Compile(model).Plan!.Steps);
        Assert.Equal("Relu", step.OpType);
        AssertMatches(model, [("x", TensorAssert.Random([2, 3]))]);
    }

    [Fact]
    public void Empty_axes_computed_at_run_time_are_still_known()
    {
        // A zero-element tensor has one possible value, so a run-time axes input of shape [0] is not MSDK2004.
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string axes = b.Input("axes", ElementType.Int64, 0);
        b.Output(b.Node("ReduceSum", [x, axes], ("keepdims", 0)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random([2, 3])), ("axes", Tensor.FromInt64s([0]))]);
    }

    [Fact]
    public void Reducing_size_1_axes_is_a_view()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 1, 3);
        string relu = b.Node("Relu", [x]);
        b.Output(b.Node("ReduceMean", [relu], ("axes", new[] { 1 })));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(ModelRunner.Compile(model).Plan!.Steps);
        Assert.Equal("Relu", step.OpType);
        AssertMatches(model, [("x", TensorAssert.Random([2, 1, 3]))]);
    }

    [Fact]
    public void Reduce_of_an_empty_axis_gives_zero_sum_and_nan_mean()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 0, 3);
        b.Output(b.Node("ReduceSum", [x, b.Initializer("axes", Tensor.FromInt64s([1], 0))], ("keepdims", 0)));
        b.Output(b.Node("ReduceMean", [x], ("axes", new[] { 0 }), ("keepdims", 0)));

        Tensor[] y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([0, 3])]);

        Assert.Equal([0f, 0f, 0f], y[0].Span<float>().ToArray());
        Assert.All(y[1].Span<float>().ToArray(), v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void ReduceMean_of_integers_is_MSDK2005()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Int64, 2, 3);
        b.Output(b.Node("ReduceMean", [x]), ElementType.Int64);

        Assert.Equal(Diagnostics.DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData("ReduceSum", 11, new long[] { 1, 3 }, 0, ElementType.Float32)]
    [InlineData("ReduceSum", 13, new long[] { 0 }, 1, ElementType.Int64)]
    [InlineData("ReduceSum", 13, new long[] { -1, -3 }, 1, ElementType.Int32)]
    [InlineData("ReduceSum", 13, null, 0, ElementType.Float32)]
    [InlineData("ReduceSum", 11, new long[] { 2, 1 }, 0, ElementType.Int64)]
    [InlineData("ReduceMean", 13, new long[] { 1, 3 }, 1, ElementType.Float32)]
    [InlineData("ReduceMean", 13, new long[] { -1 }, 0, ElementType.Float32)]
    [InlineData("ReduceMean", 13, null, 1, ElementType.Float32)]
    [InlineData("ReduceMean", 18, new long[] { 0, -2 }, 0, ElementType.Float32)]
    [InlineData("ReduceMean", 18, null, 0, ElementType.Float32)]
    [InlineData("ReduceMax", 13, new long[] { 1, 3 }, 0, ElementType.Float32)]
    [InlineData("ReduceMax", 18, new long[] { -1 }, 1, ElementType.Float64)]
    [InlineData("ReduceMax", 11, null, 0, ElementType.Int32)]
    [InlineData("ReduceMax", 13, new long[] { 2 }, 1, ElementType.Int64)]
    [InlineData("ReduceMax", 13, new long[] { 0, 2 }, 0, ElementType.Int8)]
    [InlineData("ReduceMax", 18, new long[] { 3 }, 0, ElementType.UInt8)]
    [InlineData("ReduceMin", 13, new long[] { 1, 3 }, 1, ElementType.Float32)]
    [InlineData("ReduceMin", 18, null, 0, ElementType.Float64)]
    [InlineData("ReduceMin", 13, new long[] { -3 }, 0, ElementType.Int32)]
    [InlineData("ReduceMin", 12, new long[] { 3 }, 1, ElementType.Int8)]
    [InlineData("ReduceMin", 13, new long[] { 0 }, 0, ElementType.UInt8)]
    [InlineData("ReduceProd", 13, new long[] { 3 }, 1, ElementType.Float32)]
    [InlineData("ReduceProd", 18, new long[] { 0, 2 }, 0, ElementType.Int32)]
    [InlineData("ReduceProd", 11, null, 1, ElementType.Int64)]
    [InlineData("ReduceL1", 13, new long[] { 1, 3 }, 0, ElementType.Float32)]
    [InlineData("ReduceL1", 18, null, 1, ElementType.Float32)]
    [InlineData("ReduceL1", 13, new long[] { -1 }, 1, ElementType.Int32)]
    [InlineData("ReduceL2", 13, new long[] { 2 }, 0, ElementType.Float32)]
    [InlineData("ReduceL2", 18, new long[] { 0, 1, 2, 3 }, 1, ElementType.Float32)]
    [InlineData("ReduceLogSum", 11, new long[] { 1 }, 1, ElementType.Float32)]
    [InlineData("ReduceLogSum", 18, new long[] { -1, 0 }, 0, ElementType.Float32)]
    [InlineData("ReduceLogSumExp", 13, new long[] { 3 }, 0, ElementType.Float32)]
    [InlineData("ReduceLogSumExp", 13, new long[] { 0, 2 }, 1, ElementType.Float64)]
    [InlineData("ReduceLogSumExp", 18, null, 0, ElementType.Float32)]
    [InlineData("ReduceSumSquare", 13, new long[] { 1, 3 }, 1, ElementType.Float32)]
    [InlineData("ReduceSumSquare", 18, new long[] { 2 }, 0, ElementType.Float64)]
    [InlineData("ReduceSumSquare", 13, null, 0, ElementType.Int32)]
    [InlineData("ReduceSum", 13, new long[] { 1 }, 0, ElementType.Float64)]
    [InlineData("ReduceMean", 18, new long[] { 1, 2 }, 1, ElementType.Float64)]
    public void Reductions_match_onnxruntime(string op, int opset, long[]? axes, int keepDims, ElementType type)
    {
        // Odd sizes: vector bodies and scalar tails both run, along the last axis and across it.
        int[] shape = [3, 5, 4, 11];
        bool axesAsInput = opset >= (op == "ReduceSum" ? 13 : 18);
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", type, Dims(shape));
        string y = axesAsInput
            ? b.Node(op, axes is null ? [x] : [x, b.Initializer("axes", Tensor.FromInt64s([axes.Length], axes))], ("keepdims", keepDims))
            : axes is null ? b.Node(op, [x], ("keepdims", keepDims)) : b.Node(op, [x], ("axes", axes), ("keepdims", keepDims));
        b.Output(y, type);

        AssertMatches(b.Build(), [("x", Input(op, type, shape))]);
    }

    [Theory]
    [InlineData("ReduceL1")]
    [InlineData("ReduceL2")]
    [InlineData("ReduceSumSquare")]
    [InlineData("ReduceLogSum")]
    [InlineData("ReduceLogSumExp")]
    [InlineData("ReduceMax")]
    public void Reducing_only_size_1_axes_still_maps_each_element(string op)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 1, 7);
        b.Output(b.Node(op, [x], ("axes", new[] { 1 }), ("keepdims", 0)));

        AssertMatches(b.Build(), [("x", Input(op, ElementType.Float32, [2, 1, 7]))]);
    }

    [Fact]
    public void ReduceLogSumExp_is_stable_for_large_inputs()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 3, 40);
        b.Output(b.Node("ReduceLogSumExp", [x], ("axes", new[] { 1 })));
        b.Output(b.Node("ReduceLogSumExp", [b.Node("Neg", [x])], ("axes", new[] { 0 })));

        Tensor[] y = AssertMatches(b.Build(), [("x", TensorAssert.Random([3, 40], 5, 9_000, 10_000))]);

        Assert.All(y.SelectMany(t => t.Span<float>().ToArray()), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ReduceLogSumExp_handles_infinite_maxima()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 3, 2);
        b.Output(b.Node("ReduceLogSumExp", [x], ("axes", new[] { 1 }), ("keepdims", 0)));
        float inf = float.PositiveInfinity;

        Tensor y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([3, 2], -inf, -inf, inf, 1, 0, 0)])[0];

        Assert.Equal([-inf, inf, MathF.Log(2)], y.Span<float>().ToArray());
    }

    [Fact]
    public void Empty_reductions_give_the_identity_of_each_operation()
    {
        string[] ops = ["ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"];
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 0, 2);
        foreach (string op in ops)
        {
            b.Output(b.Node(op, [x], ("axes", new[] { 0 }), ("keepdims", 0)));
        }

        byte[] model = b.Build();

        Tensor[] y = ModelRunner.Run(model, [Tensor.FromFloats([0, 2])]);

        // Compared exactly: infinities have no relative error.
        Tensor[] ort = OrtReference.Run(model, [("x", Tensor.FromFloats([0, 2]))]);
        float inf = float.PositiveInfinity;
        float[] expected = [-inf, inf, 1, 0, 0, -inf, -inf, 0];
        for (int i = 0; i < ops.Length; i++)
        {
            Assert.Equal([2], y[i].Shape);
            Assert.Equal([expected[i], expected[i]], y[i].Span<float>().ToArray());
            Assert.Equal(ort[i].Span<float>().ToArray(), y[i].Span<float>().ToArray());
        }
    }

    [Fact]
    public void Empty_integer_max_and_min_are_the_type_limits()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Int32, 2, 0);
        b.Output(b.Node("ReduceMax", [x], ("axes", new[] { 1 }), ("keepdims", 0)), ElementType.Int32);
        b.Output(b.Node("ReduceMin", [x], ("axes", new[] { 1 }), ("keepdims", 0)), ElementType.Int32);

        Tensor[] y = ModelRunner.Run(b.Build(), [Tensor.From<int>(ElementType.Int32, [2, 0], [])]);

        Assert.Equal([int.MinValue, int.MinValue], y[0].Span<int>().ToArray());
        Assert.Equal([int.MaxValue, int.MaxValue], y[1].Span<int>().ToArray());
    }

    [Theory]
    [InlineData("ReduceMax")]
    [InlineData("ReduceSumSquare")]
    [InlineData("ReduceL1")]
    [InlineData("ReduceL2")]
    public void Noop_with_empty_axes_keeps_the_shape_and_maps_each_element(string op)
    {
        // ONNX 18: "no reduction is applied, but other operations will be performed" (ReduceSumSquare squares).
        var b = new OnnxModelBuilder(18);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node(op, [x, b.Initializer("axes", Tensor.FromInt64s([0]))], ("noop_with_empty_axes", 1)));

        Tensor y = AssertMatches(b.Build(), [("x", Tensor.FromFloats([2, 3], -2, 1, 3, 1, 1, 1))])[0];

        Assert.Equal([2, 3], y.Shape);
        Assert.Equal(op switch { "ReduceMax" => -2f, "ReduceSumSquare" => 4f, _ => 2f }, y.Span<float>()[0]);
    }

    [Fact]
    public void Expanded_softmax_runs_on_reductions()
    {
        // The function body ONNX gives for Softmax-13: max, subtract, exp, sum, divide.
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 3, 4, 5);
        string axes = b.Initializer("axes", Tensor.FromInt64s([1], 1));
        string max = b.Node("ReduceMax", [x], ("axes", new[] { 1 }), ("keepdims", 1));
        string e = b.Node("Exp", [b.Node("Sub", [x, max])]);
        b.Output(b.Node("Div", [e, b.Node("ReduceSum", [e, axes], ("keepdims", 1))]));

        AssertMatches(b.Build(), [("x", TensorAssert.Random([3, 4, 5], 2, -50, 50))]);
    }

    [Theory]
    [InlineData("ReduceL2", ElementType.Int32)]
    [InlineData("ReduceLogSumExp", ElementType.Int64)]
    [InlineData("ReduceProd", ElementType.UInt8)]
    public void Reductions_of_unsupported_types_are_MSDK2005(string op, ElementType type)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", type, 2, 3);
        b.Output(b.Node(op, [x]), type);

        Assert.Equal(Diagnostics.DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData(new long[] { 1, -1 }, "MSDK2002")]
    [InlineData(new long[] { 2 }, "MSDK2003")]
    public void Bad_axes_are_reported(long[] axes, string code)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node("ReduceMax", [x], ("axes", axes)));

        Assert.Equal(code, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void ReduceMax_with_run_time_axes_is_MSDK2004()
    {
        var b = new OnnxModelBuilder(18);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node("ReduceMax", [x, b.Input("axes", ElementType.Int64, 1)]));

        Assert.Equal(Diagnostics.DiagnosticCodes.NotConstant, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData(11, new[] { 2, 3, 4 }, null)] // coerced to 2-D at axis 1: one winner per batch row
    [InlineData(11, new[] { 2, 3, 4 }, 2)]
    [InlineData(12, new[] { 3, 7 }, 0)]
    [InlineData(13, new[] { 2, 3, 4 }, null)]
    [InlineData(13, new[] { 2, 3, 4 }, 1)]
    [InlineData(13, new[] { 5, 3, 4 }, -3)]
    public void Hardmax_matches_onnxruntime(int opset, int[] shape, int? axis)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(axis is { } a ? b.Node("Hardmax", [x], ("axis", a)) : b.Node("Hardmax", [x]));

        // Few distinct values, so most rows tie and the first of the largest must win.
        AssertMatches(b.Build(), [("x", Ties(shape, 3))]);
    }

    [Fact]
    public void Hardmax_of_doubles_marks_the_first_largest()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float64, 2, 3);
        b.Output(b.Node("Hardmax", [x], ("axis", 0)), ElementType.Float64);

        Tensor y = ModelRunner.Run(b.Build(), [Tensor.From<double>(ElementType.Float64, [2, 3], [1, 5, -1, 1, 7, -2])])[0];

        Assert.Equal([1, 0, 1, 0, 1, 0], y.Span<double>().ToArray());
    }

    [Fact]
    public void Steps_of_the_family_name_their_kernel_parameters_in_order()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        b.Output(b.Node("ReduceLogSumExp", [x], ("axes", new[] { 1 })));
        b.Output(b.Node("ArgMin", [x], ("axis", 2)), ElementType.Int64);
        b.Output(b.Node("Hardmax", [x]));
        string[] top = b.NodeMulti("TopK", [x, b.Initializer("k", Tensor.FromInt64s([1], 2))], 2);
        b.Output(top[0]);
        b.Output(top[1], ElementType.Int64);
        b.Output(b.Node("CumSum", [x, b.Input("axis", ElementType.Int64)]));

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(b.Build()).Plan!.Steps;

        Assert.Equal(["Reduce", "LogSumExp", "ArgReduce", "Hardmax", "TopK", "CumSum"], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    /// <summary>Test values each reduction is defined and well-conditioned on.</summary>
    private static Tensor Input(string op, ElementType type, int[] shape, int seed = 1) => (op, type) switch
    {
        ("ReduceLogSum", _) => TensorAssert.Random(shape, seed, 0.1f, 2),
        ("ReduceProd", ElementType.Float32) => TensorAssert.Random(shape, seed, 0.8f, 1.25f),
        ("ReduceProd", _) => SelectionTests.Cast(SmallFactors(shape, seed), type),
        _ => Random(type, shape, seed),
    };

    /// <summary>Mostly ±1 with a few 2s: integer products that do not overflow (ONNX Runtime's overflow is undefined).</summary>
    private static Tensor SmallFactors(int[] shape, int seed)
    {
        var rng = new Random(seed);
        return Tensor.FromFloats(shape, Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => rng.Next(20) == 0 ? 2f : rng.Next(2) * 2 - 1f).ToArray());
    }

    /// <summary>Float32 integers in [0, <paramref name="distinct"/>), so that equal values are common.</summary>
    internal static Tensor Ties(int[] shape, int distinct, int seed = 1)
    {
        var rng = new Random(seed);
        return Tensor.FromFloats(shape, Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => (float)rng.Next(distinct)).ToArray());
    }

    [Theory]
    [InlineData("Softmax", 13, new[] { 3, 37 }, null)] // row path with a tail past the vector width
    [InlineData("Softmax", 13, new[] { 2, 70, 3 }, 1)] // narrow inner block
    [InlineData("LogSoftmax", 13, new[] { 3, 5, 100 }, 1)] // inner block wider than one chunk
    [InlineData("Softmax", 13, new[] { 4, 3, 5 }, 0)]
    [InlineData("LogSoftmax", 13, new[] { 2, 3, 4, 5 }, -3)]
    [InlineData("Softmax", 11, new[] { 2, 3, 4, 5 }, null)] // coerced to 2-D at axis 1
    [InlineData("LogSoftmax", 11, new[] { 2, 3, 4, 5 }, 2)]
    [InlineData("Softmax", 11, new[] { 2, 3, 4 }, -1)]
    [InlineData("LogSoftmax", 12, new[] { 6, 9 }, 0)]
    public void Softmax_matches_onnxruntime(string op, int opset, int[] shape, int? axis)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(axis is { } a ? b.Node(op, [x], ("axis", a)) : b.Node(op, [x]));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, 7, -5, 5))]);
    }

    [Theory]
    [InlineData("Softmax")]
    [InlineData("LogSoftmax")]
    public void Softmax_is_stable_for_large_inputs(string op)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 20);
        b.Output(b.Node(op, [x]));
        Tensor input = TensorAssert.Random([2, 20], 3, 9_000, 10_000);

        Tensor y = AssertMatches(b.Build(), [("x", input)])[0];

        Assert.All(y.Span<float>().ToArray(), v => Assert.True(float.IsFinite(v)));
    }
}
