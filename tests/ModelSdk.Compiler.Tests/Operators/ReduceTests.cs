using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class ReduceTests
{
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
    public void Reduce_matches_onnxruntime(string op, int opset, long[]? axes, int keepDims, ElementType type)
    {
        int[] shape = [3, 4, 5, 6];
        bool axesAsInput = opset >= (op == "ReduceSum" ? 13 : 18);
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", type, Dims(shape));
        string y = axesAsInput
            ? b.Node(op, axes is null ? [x] : [x, b.Initializer("axes", Tensor.FromInt64s([axes.Length], axes))], ("keepdims", keepDims))
            : axes is null ? b.Node(op, [x], ("keepdims", keepDims)) : b.Node(op, [x], ("axes", axes), ("keepdims", keepDims));
        b.Output(y, type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

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
