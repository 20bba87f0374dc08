using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class CumSumTests
{
    [Theory]
    [InlineData(new[] { 23 }, 0, 0, 0, ElementType.Float32)]
    [InlineData(new[] { 23 }, -1, 1, 1, ElementType.Float32)]
    [InlineData(new[] { 4, 37 }, 0, 0, 1, ElementType.Float32)] // rows of 37: vector body and tail
    [InlineData(new[] { 4, 37 }, 0, 1, 0, ElementType.Float64)]
    [InlineData(new[] { 3, 5, 9 }, 1, 1, 1, ElementType.Int32)]
    [InlineData(new[] { 3, 5, 9 }, -1, 0, 1, ElementType.Int64)]
    [InlineData(new[] { 3, 5, 9 }, -3, 1, 0, ElementType.Float32)]
    public void CumSum_matches_onnxruntime(int[] shape, int axis, int exclusive, int reverse, ElementType type)
    {
        foreach (ElementType axisType in new[] { ElementType.Int32, ElementType.Int64 })
        {
            var b = new OnnxModelBuilder(14);
            string x = b.Input("x", type, Dims(shape));
            string a = b.Initializer("axis", axisType == ElementType.Int32 ? Tensor.From<int>(axisType, [], [axis]) : Tensor.FromInt64s([1], axis));
            b.Output(b.Node("CumSum", [x, a], ("exclusive", exclusive), ("reverse", reverse)), type);

            AssertMatches(b.Build(), [("x", Random(type, shape))]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-2)]
    public void CumSum_axis_may_be_computed_at_run_time(int axis)
    {
        // The axis never changes the output shape, so the kernel reads it when it runs.
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 3, 4, 5);
        string a = b.Input("axis", ElementType.Int32);
        b.Output(b.Node("CumSum", [x, a], ("reverse", 1)));
        byte[] model = b.Build();

        AssertMatches(model, [("x", TensorAssert.Random([3, 4, 5])), ("axis", Tensor.From<int>(ElementType.Int32, [], [axis]))]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelRunner.Run(model, [TensorAssert.Random([3, 4, 5]), Tensor.From<int>(ElementType.Int32, [], [3])]));
    }

    [Theory]
    [InlineData(new long[] { 2 })]
    [InlineData(new long[] { 0, 1 })]
    public void CumSum_with_a_bad_constant_axis_is_MSDK2003(long[] axis)
    {
        var b = new OnnxModelBuilder(14);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node("CumSum", [x, b.Initializer("axis", Tensor.FromInt64s([axis.Length], axis))]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }
}
