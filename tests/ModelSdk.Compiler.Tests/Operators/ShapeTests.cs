using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class ShapeTests
{
    [Theory]
    [InlineData(0, ElementType.Float32)]
    [InlineData(2, ElementType.Float32)]
    [InlineData(4, ElementType.Int64)]
    [InlineData(-1, ElementType.Int64)]
    [InlineData(-4, ElementType.Float32)]
    public void Flatten_matches_onnxruntime(int axis, ElementType type)
    {
        int[] shape = [2, 3, 4, 5];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", type, Dims(shape));
        b.Output(b.Node("Flatten", [x], ("axis", axis)), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    [Theory]
    [InlineData(new long[] { 4, -1 }, 0, ElementType.Float32)]
    [InlineData(new long[] { 0, -1, 2 }, 0, ElementType.Int64)]
    [InlineData(new long[] { -1 }, 0, ElementType.Int32)]
    [InlineData(new long[] { 2, 0, 4 }, 1, ElementType.Float32)]
    [InlineData(new long[] { 3, 2, 2, 2 }, 1, ElementType.Int64)]
    public void Reshape_with_constant_shape_matches_onnxruntime(long[] target, int allowZero, ElementType type)
    {
        int[] shape = allowZero == 1 && target.Contains(0) ? [2, 0, 4] : [2, 3, 4];
        var b = new OnnxModelBuilder(14);
        string x = b.Input("x", type, Dims(shape));
        string s = b.Initializer("shape", Tensor.FromInt64s([target.Length], target));
        b.Output(b.Node("Reshape", [x, s], ("allowzero", allowZero)), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    [Theory]
    [InlineData(11, new long[] { 0, -2 })]
    [InlineData(13, new long[] { -2, 0 })]
    [InlineData(13, null)]
    public void Squeeze_matches_onnxruntime(int opset, long[]? axes)
    {
        int[] shape = [1, 3, 1, 5];
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Int64, Dims(shape));
        string y = opset >= 13
            ? b.Node("Squeeze", axes is null ? [x] : [x, b.Initializer("axes", Tensor.FromInt64s([axes.Length], axes))])
            : b.Node("Squeeze", [x], ("axes", axes!));
        b.Output(y, ElementType.Int64);

        AssertMatches(b.Build(), [("x", Int64s(shape))]);
    }

    [Theory]
    [InlineData(11, new long[] { -1, 0 })]
    [InlineData(13, new long[] { 4, 1, -5 })]
    public void Unsqueeze_matches_onnxruntime(int opset, long[] axes)
    {
        int[] shape = [3, 5];
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string y = opset >= 13
            ? b.Node("Unsqueeze", [x, b.Initializer("axes", Tensor.FromInt64s([axes.Length], axes))])
            : b.Node("Unsqueeze", [x], ("axes", axes));
        b.Output(y);

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, null, ElementType.Float32)]
    [InlineData(new[] { 2, 3, 4 }, new[] { 1, 0, 2 }, ElementType.Int64)]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 0, 2, 3, 1 }, ElementType.Float32)] // NCHW → NHWC: tiled 2-D path
    [InlineData(new[] { 2, 37, 19 }, new[] { 0, 2, 1 }, ElementType.Int32)] // tiles with ragged edges
    [InlineData(new[] { 2, 3, 4, 5, 6 }, new[] { 4, 2, 3, 0, 1 }, ElementType.Float32)] // merges 2,3 and 0,1
    [InlineData(new[] { 3, 1, 4, 1 }, new[] { 2, 1, 3, 0 }, ElementType.Int64)]
    public void Transpose_matches_onnxruntime(int[] shape, int[]? perm, ElementType type)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", type, Dims(shape));
        b.Output(perm is null ? b.Node("Transpose", [x]) : b.Node("Transpose", [x], ("perm", perm)), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    [Fact]
    public void Transpose_that_only_moves_size_1_axes_is_a_view()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 1, 3, 1);
        string relu = b.Node("Relu", [x]);
        b.Output(b.Node("Transpose", [relu], ("perm", new[] { 1, 0, 3, 2 })));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(ModelRunner.Compile(model).Plan!.Steps);
        Assert.Equal("Relu", step.OpType);
        AssertMatches(model, [("x", TensorAssert.Random([2, 1, 3, 1]))]);
    }

    [Theory]
    [InlineData(1, ElementType.Float32)]
    [InlineData(-1, ElementType.Int64)]
    [InlineData(0, ElementType.Int32)]
    [InlineData(-3, ElementType.Float32)]
    public void Concat_matches_onnxruntime(int axis, ElementType type)
    {
        int a = axis < 0 ? axis + 3 : axis;
        int[] Shape(int length) => [.. new[] { 2, 3, 4 }.Select((d, k) => k == a ? length : d)];
        var b = new OnnxModelBuilder();
        string x0 = b.Input("x0", type, Dims(Shape(2)));
        string x1 = b.Input("x1", type, Dims(Shape(0)));
        string x2 = b.Input("x2", type, Dims(Shape(3)));
        b.Output(b.Node("Concat", [x0, x1, x2], ("axis", axis)), type);

        AssertMatches(b.Build(), [("x0", Random(type, Shape(2), 1)), ("x1", Random(type, Shape(0), 2)), ("x2", Random(type, Shape(3), 3))]);
    }

    [Theory]
    [InlineData(0, new[] { 3 }, ElementType.Int64, ElementType.Float32)]
    [InlineData(1, new[] { 2, 2 }, ElementType.Int32, ElementType.Int64)]
    [InlineData(-1, new[] { 4 }, ElementType.Int64, ElementType.Int32)]
    [InlineData(1, new int[0], ElementType.Int64, ElementType.Float32)] // scalar index drops the axis
    public void Gather_matches_onnxruntime(int axis, int[] indexShape, ElementType indexType, ElementType dataType)
    {
        int[] shape = [4, 5, 6];
        int length = shape[axis < 0 ? axis + 3 : axis];
        int count = indexShape.Aggregate(1, (p, d) => p * d);
        // Every position once from each end: negative indices must wrap.
        long[] values = Enumerable.Range(0, count).Select(i => (long)(i % 2 == 0 ? i % length : -1 - (i % length))).ToArray();
        Tensor indices = indexType == ElementType.Int64
            ? Tensor.FromInt64s(indexShape, values)
            : Tensor.From<int>(ElementType.Int32, indexShape, values.Select(v => (int)v).ToArray());
        var b = new OnnxModelBuilder();
        string data = b.Input("data", dataType, Dims(shape));
        string idx = b.Input("indices", indexType, Dims(indexShape));
        b.Output(b.Node("Gather", [data, idx], ("axis", axis)), dataType);

        AssertMatches(b.Build(), [("data", Random(dataType, shape)), ("indices", indices)]);
    }

    [Fact]
    public void Gather_index_out_of_range_at_run_time_throws()
    {
        var b = new OnnxModelBuilder();
        string data = b.Input("data", ElementType.Float32, 3, 2);
        string idx = b.Input("indices", ElementType.Int64, 2);
        b.Output(b.Node("Gather", [data, idx]));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ModelRunner.Run(b.Build(), [TensorAssert.Random([3, 2]), Tensor.FromInt64s([2], 1, 3)]));
        Assert.Contains("Gather index 3", e.Message);
    }

    [Fact]
    public void Exporter_shape_chain_folds_to_the_real_work()
    {
        // x.view(x.size(0), -1) as exporters write it: Shape → Gather → Unsqueeze → Concat → Reshape on int64.
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string shape = b.Node("Shape", [x]);
        string batch = b.Node("Gather", [shape, b.Initializer("zero", Tensor.FromInt64s([], 0))], ("axis", 0));
        string batch1 = b.Node("Unsqueeze", [batch, b.Initializer("axes", Tensor.FromInt64s([1], 0))]);
        string target = b.Node("Concat", [batch1, b.Initializer("rest", Tensor.FromInt64s([1], -1))], ("axis", 0));
        string relu = b.Node("Relu", [x]);
        string flat = b.Node("Reshape", [relu, target]);
        b.Output(flat);
        byte[] model = b.Build();

        CompileResult compiled = ModelRunner.Compile(model);

        PlanStep step = Assert.Single(compiled.Plan!.Steps);
        Assert.Equal("Relu", step.OpType);
        Assert.Equal([2, 12], compiled.Plan.Tensors[compiled.Plan.Outputs[0].TensorId].Shape);
        AssertMatches(model, [("x", TensorAssert.Random([2, 3, 4]))]);
    }

    [Fact]
    public void Int64_data_moves_at_run_time()
    {
        // The same operators on int64 values computed at run time, not folded.
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Int64, 3, 4);
        string t = b.Node("Transpose", [x]);
        string g = b.Node("Gather", [t, b.Initializer("idx", Tensor.FromInt64s([2], 3, -4))], ("axis", 0));
        string u = b.Node("Unsqueeze", [g, b.Initializer("axes", Tensor.FromInt64s([1], -1))]);
        string c = b.Node("Concat", [u, u], ("axis", -1));
        string s = b.Node("Squeeze", [b.Node("Reshape", [c, b.Initializer("shape", Tensor.FromInt64s([3], 1, 0, -1))])]);
        b.Output(s, ElementType.Int64);

        AssertMatches(b.Build(), [("x", Int64s([3, 4]))]);
    }

    [Fact]
    public void Steps_name_their_kernel_parameters_in_order()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string t = b.Node("Transpose", [x], ("perm", new[] { 2, 0, 1 }));
        string c = b.Node("Concat", [t, t], ("axis", 1));
        string g = b.Node("Gather", [c, b.Input("i", ElementType.Int32, 2)], ("axis", 2));
        string r = b.Node("ReduceSum", [g, b.Initializer("axes", Tensor.FromInt64s([1], 0))]);
        b.Output(b.Node("LogSoftmax", [r]));

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(b.Build()).Plan!.Steps;

        Assert.Equal(["Transpose", "Concat", "Concat", "Gather", "Reduce", "Softmax"], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    [Fact]
    public void Reshape_with_run_time_shape_is_MSDK2004()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string s = b.Input("shape", ElementType.Int64, 2);
        b.Output(b.Node("Reshape", [x, s]));

        Diagnostic d = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.NotConstant, d.Code);
        Assert.Equal("shape", d.Tensor);
    }

    [Theory]
    [InlineData(new long[] { 4, 2 })]
    [InlineData(new long[] { -1, -1 })]
    [InlineData(new long[] { 4, -1 })]
    [InlineData(new long[] { 2, 3, 0 })]
    [InlineData(new long[] { 2, -3 })]
    public void Incompatible_reshape_is_MSDK2003(long[] target)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node("Reshape", [x, b.Initializer("shape", Tensor.FromInt64s([target.Length], target))]));

        Diagnostic d = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.ShapeMismatch, d.Code);
        Assert.Contains("Reshape cannot turn [2,3]", d.Message);
    }

    [Fact]
    public void Invalid_models_get_clear_diagnostics()
    {
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(b => b.Node("Transpose", [X(b)], ("perm", new[] { 0, 0, 1 }))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Squeeze", [X(b), b.Initializer("axes", Tensor.FromInt64s([1], 1))])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Flatten", [X(b)], ("axis", 4))).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(b => b.Node("Unsqueeze", [X(b), b.Initializer("axes", Tensor.FromInt64s([2], 1, -4))])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Concat", [X(b), b.Input("z", ElementType.Float32, 2, 4, 4)], ("axis", 0))).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(b => b.Node("Concat", [X(b), X(b, "z")])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Gather", [X(b), b.Initializer("i", Tensor.FromInt64s([1], 3))], ("axis", 1))).Code);
        Assert.Equal(DiagnosticCodes.UnsupportedType, Error(b => b.Node("Gather", [X(b), b.Initializer("i", Tensor.FromFloats([1], 0))])).Code);

        static string X(OnnxModelBuilder b, string name = "x") => b.Input(name, ElementType.Float32, 2, 3, 4);
        static Diagnostic Error(Func<OnnxModelBuilder, string> build)
        {
            var b = new OnnxModelBuilder();
            b.Output(build(b));
            return ModelRunner.CompileError(b.Build());
        }
    }
}
