using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class MaxUnpoolTests
{
    // MaxPool gives the values and their flat indices; MaxUnpool puts them back.
    [Theory]
    [InlineData(9, new[] { 1, 1, 4, 4 }, new[] { 2, 2 }, new[] { 2, 2 }, new[] { 0, 0, 0, 0 }, false)]
    [InlineData(11, new[] { 2, 3, 7, 5 }, new[] { 3, 2 }, new[] { 2, 1 }, new[] { 0, 0, 0, 0 }, false)]
    [InlineData(11, new[] { 2, 3, 8, 8 }, new[] { 2, 2 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, false)]
    [InlineData(11, new[] { 2, 3, 9, 8 }, new[] { 2, 2 }, new[] { 2, 2 }, new[] { 1, 0, 1, 0 }, true)] // the computed shape would be 8×8
    [InlineData(11, new[] { 2, 2, 9 }, new[] { 3 }, new[] { 2 }, new[] { 0, 0 }, true)] // output_shape restores the odd length
    [InlineData(11, new[] { 1, 2, 5, 4, 6 }, new[] { 2, 2, 2 }, new[] { 2, 2, 2 }, new[] { 0, 0, 0, 0, 0, 0 }, true)]
    [InlineData(9, new[] { 2, 2, 7, 7 }, new[] { 2, 2 }, new[] { 2, 2 }, new[] { 0, 0, 0, 0 }, true)]
    public void MaxUnpool_of_MaxPool_matches_onnxruntime(int opset, int[] shape, int[] kernel, int[] strides, int[] pads, bool withOutputShape)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        (string, object)[] window = [("kernel_shape", kernel), ("strides", strides), ("pads", pads)];
        string[] pooled = b.NodeMulti("MaxPool", [x], 2, window);
        string? outputShape = withOutputShape ? b.Initializer("output_shape", Tensor.FromInt64s([shape.Length], shape.Select(d => (long)d).ToArray())) : null;
        b.Output(b.Node("MaxUnpool", outputShape is null ? [pooled[0], pooled[1]] : [pooled[0], pooled[1], outputShape], window));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, seed: 6))]);
    }

    [Fact]
    public void Indices_are_whole_tensor_positions_and_a_later_duplicate_wins()
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 2, 2, 1, 2);
        string i = b.Input("i", ElementType.Int64, 2, 2, 1, 2);
        b.Output(b.Node("MaxUnpool", [x, i], ("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })));
        Tensor indices = Tensor.FromInt64s([2, 2, 1, 2], 31, 0, 12, 5, 20, 27, 12, 17); // 12 twice; positions across channels and images

        AssertMatches(b.Build(), [("x", TensorAssert.Random([2, 2, 1, 2])), ("i", indices)]);
    }

    [Fact]
    public void An_index_outside_the_output_fails_at_run_time()
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 1, 1, 2, 2);
        string i = b.Input("i", ElementType.Int64, 1, 1, 2, 2);
        b.Output(b.Node("MaxUnpool", [x, i], ("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })));

        Assert.Throws<ArgumentOutOfRangeException>(() => ModelRunner.Run(b.Build(), [TensorAssert.Random([1, 1, 2, 2]), Tensor.FromInt64s([1, 1, 2, 2], 0, 5, 16, 3)]));
    }

    [Fact]
    public void Bad_unpooling_gets_msdk_diagnostics()
    {
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error([1, 1, 2, 2], null, null));
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error([1, 1, 2, 2], null, null, ("kernel_shape", new[] { 2 })));
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error([1, 1, 2, 2], null, null, ("kernel_shape", new[] { 2, 2 }), ("pads", new[] { 1, 1 })));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error([1, 1, 2, 2], null, Tensor.FromInt64s([4], 1, 2, 4, 4), ("kernel_shape", new[] { 2, 2 })));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error([1, 1, 2, 2], Tensor.FromInt64s([1, 1, 2, 2], 0, 1, 2, 9), null, ("kernel_shape", new[] { 2, 2 })));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error([1, 1, 1, 1], null, null, ("kernel_shape", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 })));

        var runTimeShape = new OnnxModelBuilder(11);
        string[] inputs = [runTimeShape.Input("x", ElementType.Float32, 1, 1, 2, 2), runTimeShape.Input("i", ElementType.Int64, 1, 1, 2, 2), runTimeShape.Input("s", ElementType.Int64, 4)];
        runTimeShape.Output(runTimeShape.Node("MaxUnpool", inputs, ("kernel_shape", new[] { 2, 2 })));
        Assert.Equal(DiagnosticCodes.NotConstant, ModelRunner.CompileError(runTimeShape.Build()).Code);
    }

    [Fact]
    public void Steps_name_their_kernel_parameters_in_order()
    {
        var b = new OnnxModelBuilder(11);
        b.Output(b.Node("MaxUnpool", [b.Input("x", ElementType.Float32, 1, 2, 3, 3), b.Input("i", ElementType.Int64, 1, 2, 3, 3)], ("kernel_shape", new[] { 2, 2 })));

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(b.Build()).Plan!.Steps;

        Assert.Equal(["Fill", "ElementOffsets", "ScatterBlocks"], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    private static string Error(int[] shape, Tensor? indices, Tensor? outputShape, params (string, object)[] attributes)
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string i = indices is null ? b.Input("i", ElementType.Int64, Dims(shape)) : b.Initializer("i", indices);
        string? s = outputShape is null ? null : b.Initializer("s", outputShape);
        b.Output(b.Node("MaxUnpool", [x, i, s], attributes));
        return ModelRunner.CompileError(b.Build()).Code;
    }
}
