using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class MeanVarianceNormalizationTests
{
    [Theory]
    [InlineData(9, new[] { 3, 3, 3, 1 }, null)]
    [InlineData(13, new[] { 2, 5, 7, 9 }, null)]
    [InlineData(13, new[] { 2, 5, 7, 9 }, new long[] { 1 })]
    [InlineData(9, new[] { 4, 6, 11 }, new long[] { -1 })]
    [InlineData(13, new[] { 3, 37 }, new long[] { 0, 1 })]
    [InlineData(13, new[] { 2, 3, 4, 5, 3 }, new long[] { 0, 3, 4 })]
    public void MeanVarianceNormalization_matches_onnxruntime(int opset, int[] shape, long[]? axes)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(b.Node("MeanVarianceNormalization", [x], axes is null ? [] : [("axes", axes)]));

        // An offset and scale of the data that the normalisation must remove.
        Tensor input = TensorAssert.Random(shape, seed: 5, lo: 3, hi: 7);
        AssertMatches(b.Build(), [("x", input)]);
    }

    [Fact]
    public void Float64_agrees_with_float32()
    {
        int[] shape = [2, 3, 4, 5];
        Tensor x32 = TensorAssert.Random(shape, seed: 8);
        Tensor x64 = Tensor.From<double>(ElementType.Float64, shape, x32.Span<float>().ToArray().Select(v => (double)v).ToArray());
        var b = new OnnxModelBuilder(13);
        b.Output(b.Node("MeanVarianceNormalization", [b.Input("x", ElementType.Float64, Dims(shape))]), ElementType.Float64);

        Tensor y64 = ModelRunner.Run(b.Build(), [x64])[0];
        Tensor expected = OrtReference.Run(Float32Model(shape), [("x", x32)])[0];

        TensorAssert.Close(expected, Tensor.FromFloats(shape, y64.Span<double>().ToArray().Select(v => (float)v).ToArray()));
    }

    [Fact]
    public void Bad_axes_and_types_get_msdk_diagnostics()
    {
        var rank3 = new OnnxModelBuilder(13);
        rank3.Output(rank3.Node("MeanVarianceNormalization", [rank3.Input("x", ElementType.Float32, 2, 3, 4)])); // default axes name axis 3
        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(rank3.Build()).Code);

        var repeated = new OnnxModelBuilder(13);
        repeated.Output(repeated.Node("MeanVarianceNormalization", [repeated.Input("x", ElementType.Float32, 2, 3)], ("axes", new long[] { 1, -1 })));
        Assert.Equal(DiagnosticCodes.InvalidAttribute, ModelRunner.CompileError(repeated.Build()).Code);

        var integers = new OnnxModelBuilder(13);
        integers.Output(integers.Node("MeanVarianceNormalization", [integers.Input("x", ElementType.Int32, 2, 3, 4, 5)]), ElementType.Int32);
        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(integers.Build()).Code);
    }

    [Fact]
    public void Steps_name_their_kernel_parameters_in_order()
    {
        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(Float32Model([2, 3, 4, 5])).Plan!.Steps;

        Assert.Equal(["Reduce", "Binary", "Binary", "Reduce", "Binary", "Unary", "Binary"], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    private static byte[] Float32Model(int[] shape)
    {
        var b = new OnnxModelBuilder(13);
        b.Output(b.Node("MeanVarianceNormalization", [b.Input("x", ElementType.Float32, Dims(shape))]));
        return b.Build();
    }
}
