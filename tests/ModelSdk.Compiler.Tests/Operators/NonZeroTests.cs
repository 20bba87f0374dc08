using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class NonZeroTests
{
    public static TheoryData<Tensor> ConstantInputs() => new()
    {
        Tensor.FromFloats([2, 3], 0, 1.5f, -0f, float.NaN, 0, -2),
        Tensor.From<int>(ElementType.Int32, [3, 1, 4], [0, 1, 0, 0, 7, 0, 0, -3, 0, 0, 0, 9]),
        Tensor.From<bool>(ElementType.Bool, [5], [true, false, false, true, true]),
        Tensor.From<Half>(ElementType.Float16, [2, 2], [Half.Zero, Half.NegativeZero, (Half)0.25f, Half.One]),
        Tensor.FromInt64s([2, 2, 2], 0, 0, 0, 0, 0, 0, 0, 0),
        Tensor.From<byte>(ElementType.UInt8, [4], [0, 128, 0, 255]),
        Tensor.FromFloats([], 3),
    };

    [Theory]
    [MemberData(nameof(ConstantInputs))]
    public void NonZero_of_a_constant_folds_and_matches_onnxruntime(Tensor value)
    {
        var b = new OnnxModelBuilder(13);
        b.Output(b.Node("NonZero", [b.Initializer("x", value)]), ElementType.Int64);
        byte[] model = b.Build();

        Tensor[] actual = AssertMatches(model, []);
        Assert.DoesNotContain(ModelRunner.Compile(model).Plan!.Steps, s => s.NodeName.StartsWith("NonZero", StringComparison.Ordinal) && s.Kernel != "Copy");
        Assert.Equal(value.Shape.Length == 0 ? 1 : value.Shape.Length, actual[0].Shape[0]);
    }

    [Fact]
    public void NonZero_feeding_a_shape_computation_folds_away()
    {
        // The common exporter pattern: the count of a constant mask sizes a later tensor.
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 5);
        string mask = b.Initializer("mask", Tensor.From<bool>(ElementType.Bool, [5], [true, false, true, true, false]));
        string idx = b.Node("Squeeze", [b.Node("NonZero", [mask]), b.Initializer("axes", Tensor.FromInt64s([1], 0))]);
        b.Output(b.Node("Gather", [x, idx], ("axis", 1)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random([2, 5]))]);
    }

    [Fact]
    public void NonZero_of_a_run_time_tensor_is_MSDK2004()
    {
        var b = new OnnxModelBuilder(13);
        b.Output(b.Node("NonZero", [b.Input("x", ElementType.Float32, 2, 3)]), ElementType.Int64);

        Diagnostic error = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.NotConstant, error.Code);
        Assert.Contains("non-zero count", error.Message);
    }
}
