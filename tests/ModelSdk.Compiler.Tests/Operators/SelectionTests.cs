using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary>ArgMax, ArgMin and TopK: positions of extreme elements, ties included.</summary>
public class SelectionTests
{
    [Theory]
    [InlineData("ArgMax", 13, 0, 1, 0, ElementType.Float32)]
    [InlineData("ArgMax", 13, 2, 0, 1, ElementType.Float32)]
    [InlineData("ArgMax", 12, -1, 1, 1, ElementType.Float32)]
    [InlineData("ArgMax", 11, 1, 0, 0, ElementType.Float32)]
    [InlineData("ArgMax", 13, -2, 1, 0, ElementType.Float64)]
    [InlineData("ArgMax", 13, 1, 0, 1, ElementType.Int32)]
    [InlineData("ArgMin", 13, 0, 0, 0, ElementType.Float32)]
    [InlineData("ArgMin", 13, 1, 1, 1, ElementType.Float32)]
    [InlineData("ArgMin", 12, 2, 0, 1, ElementType.Float64)]
    [InlineData("ArgMin", 11, -3, 1, 0, ElementType.Int32)]
    public void ArgMax_and_ArgMin_match_onnxruntime(string op, int opset, int axis, int keepDims, int selectLast, ElementType type)
    {
        int[] shape = [3, 9, 5];
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", type, Dims(shape));
        var attributes = new List<(string, object)> { ("axis", axis), ("keepdims", keepDims) };
        if (opset >= 12)
        {
            attributes.Add(("select_last_index", selectLast));
        }

        b.Output(b.Node(op, [x], [.. attributes]), ElementType.Int64);

        // Few distinct values: ties are everywhere, so first and last index differ.
        AssertMatches(b.Build(), [("x", Cast(ReduceTests.Ties(shape, 4), type))]);
    }

    [Fact]
    public void ArgMax_default_axis_is_0_and_keeps_it()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 4, 3);
        b.Output(b.Node("ArgMax", [x]), ElementType.Int64);

        Tensor y = AssertMatches(b.Build(), [("x", TensorAssert.Random([4, 3]))])[0];

        Assert.Equal([1, 3], y.Shape);
    }

    [Fact]
    public void ArgMax_over_an_empty_axis_is_MSDK2003()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 0);
        b.Output(b.Node("ArgMax", [x], ("axis", 1)), ElementType.Int64);

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData(9, new[] { 3, 20 }, -1, 5, 1, ElementType.Float32)] // k as an attribute
    [InlineData(10, new[] { 4, 7, 3 }, 1, 7, 1, ElementType.Float32)]
    [InlineData(11, new[] { 4, 7, 3 }, -2, 3, 0, ElementType.Float32)]
    [InlineData(11, new[] { 2, 50 }, 1, 1, 1, ElementType.Float64)]
    [InlineData(11, new[] { 6, 5 }, 0, 4, 0, ElementType.Int64)]
    [InlineData(11, new[] { 37 }, 0, 12, 1, ElementType.Int32)]
    [InlineData(11, new[] { 3, 4 }, 1, 0, 1, ElementType.Float32)]
    public void TopK_matches_onnxruntime(int opset, int[] shape, int axis, int k, int largest, ElementType type)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", type, Dims(shape));
        string[] outputs = opset < 10
            ? b.NodeMulti("TopK", [x], 2, ("axis", axis), ("k", k))
            : opset < 11
                ? b.NodeMulti("TopK", [x, b.Initializer("k", Tensor.FromInt64s([1], k))], 2, ("axis", axis))
                : b.NodeMulti("TopK", [x, b.Initializer("k", Tensor.FromInt64s([1], k))], 2, ("axis", axis), ("largest", largest));
        b.Output(outputs[0], type);
        b.Output(outputs[1], ElementType.Int64);

        // Ties everywhere: the lower position must come first.
        AssertMatches(b.Build(), [("x", Cast(ReduceTests.Ties(shape, 6), type))]);
    }

    [Fact]
    public void TopK_unsorted_gives_the_sorted_selection()
    {
        // sorted=0 leaves the order to the implementation; ModelSdk always sorts.
        byte[] Model(int sorted)
        {
            var b = new OnnxModelBuilder(11);
            string x = b.Input("x", ElementType.Float32, 5, 30);
            string[] outputs = b.NodeMulti("TopK", [x, b.Initializer("k", Tensor.FromInt64s([1], 7))], 2, ("sorted", sorted));
            b.Output(outputs[0]);
            b.Output(outputs[1], ElementType.Int64);
            return b.Build();
        }

        var input = ReduceTests.Ties([5, 30], 10);
        Tensor[] expected = OrtReference.Run(Model(1), [("x", input)]);
        Tensor[] actual = ModelRunner.Run(Model(0), [input]);

        TensorAssert.Close(expected[0], actual[0]);
        TensorAssert.Close(expected[1], actual[1]);
    }

    [Fact]
    public void TopK_with_run_time_k_is_MSDK2004()
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 2, 5);
        string[] outputs = b.NodeMulti("TopK", [x, b.Input("k", ElementType.Int64, 1)], 2);
        b.Output(outputs[0]);

        Diagnostic d = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.NotConstant, d.Code);
        Assert.Equal("k", d.Tensor);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(-1)]
    public void TopK_with_k_outside_the_axis_is_MSDK2003(long k)
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 2, 5);
        b.Output(b.NodeMulti("TopK", [x, b.Initializer("k", Tensor.FromInt64s([1], k))], 2)[0]);

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    /// <summary>Float32 test values in another numeric type (they are small integers, so exactly).</summary>
    internal static Tensor Cast(Tensor floats, ElementType type)
    {
        float[] v = floats.Span<float>().ToArray();
        return type switch
        {
            ElementType.Float32 => floats,
            ElementType.Float64 => Tensor.From<double>(type, floats.Shape, v.Select(f => (double)f).ToArray()),
            ElementType.Int32 => Tensor.From<int>(type, floats.Shape, v.Select(f => (int)f).ToArray()),
            ElementType.Int64 => Tensor.From<long>(type, floats.Shape, v.Select(f => (long)f).ToArray()),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }
}
