using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class ReverseSequenceTests
{
    [Theory]
    [InlineData(new[] { 4, 3 }, 1, 0, new long[] { 4, 0, 2 }, ElementType.Float32)]
    [InlineData(new[] { 3, 5 }, 0, 1, new long[] { 1, 5, 3 }, ElementType.Int64)]
    [InlineData(new[] { 5, 2, 3, 2 }, 1, 0, new long[] { 3, 5 }, ElementType.Float64)]
    [InlineData(new[] { 2, 6, 7 }, 0, 1, new long[] { 6, 2 }, ElementType.Int8)]
    [InlineData(new[] { 2, 6, 7 }, 0, 1, new long[] { 4, 1 }, ElementType.Bool)]
    [InlineData(new[] { 2, 6, 3 }, 0, 1, new long[] { 0, 6 }, ElementType.Float16)]
    public void ReverseSequence_matches_onnxruntime(int[] shape, int batchAxis, int timeAxis, long[] lens, ElementType type)
    {
        var b = new OnnxModelBuilder(10);
        string x = b.Input("x", type, Dims(shape));
        string l = b.Input("lens", ElementType.Int64, lens.Length);
        b.Output(b.Node("ReverseSequence", [x, l], ("batch_axis", batchAxis), ("time_axis", timeAxis)), type);

        AssertMatches(b.Build(), [("x", Random(type, shape)), ("lens", Tensor.FromInt64s([lens.Length], lens))]);
    }

    [Fact]
    public void Run_time_lengths_are_checked_when_the_kernel_runs()
    {
        var b = new OnnxModelBuilder(10);
        string x = b.Input("x", ElementType.Float32, 4, 2);
        b.Output(b.Node("ReverseSequence", [x, b.Input("lens", ElementType.Int64, 2)]));

        Assert.Throws<ArgumentOutOfRangeException>(() => ModelRunner.Run(b.Build(), [TensorAssert.Random([4, 2]), Tensor.FromInt64s([2], 1, 5)]));
    }

    [Fact]
    public void Bad_axes_and_lengths_get_msdk_diagnostics()
    {
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error([3, 4], 1, 1, Tensor.FromInt64s([4], 1, 1, 1, 1)));
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error([3, 4, 2], 2, 0, Tensor.FromInt64s([2], 1, 1)));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error([3, 4], 1, 0, Tensor.FromInt64s([3], 1, 1, 1)));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error([3, 4], 1, 0, Tensor.FromInt64s([4], 1, 4, 1, 1)));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error([3, 4], 1, 0, Tensor.FromInt64s([4], 1, -1, 1, 1)));
        Assert.Equal(DiagnosticCodes.UnsupportedType, Error([3, 4], 1, 0, Tensor.From<int>(ElementType.Int32, [4], [1, 1, 1, 1])));
    }

    [Fact]
    public void Steps_name_their_kernel_parameters_in_order()
    {
        var b = new OnnxModelBuilder(10);
        b.Output(b.Node("ReverseSequence", [b.Input("x", ElementType.Float32, 3, 4, 2), b.Input("lens", ElementType.Int64, 4)]));

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(b.Build()).Plan!.Steps;

        Assert.Equal(["ReverseSequence"], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    private static string Error(int[] shape, int batchAxis, int timeAxis, Tensor lens)
    {
        var b = new OnnxModelBuilder(10);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(b.Node("ReverseSequence", [x, b.Initializer("lens", lens)], ("batch_axis", batchAxis), ("time_axis", timeAxis)));
        return ModelRunner.CompileError(b.Build()).Code;
    }
}
