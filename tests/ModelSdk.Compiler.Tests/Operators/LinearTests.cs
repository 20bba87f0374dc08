using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class LinearTests
{
    [Theory]
    [InlineData(new[] { 3, 5 }, new[] { 5, 7 })]
    [InlineData(new[] { 1, 17 }, new[] { 17, 33 })]
    [InlineData(new[] { 9, 300 }, new[] { 300, 35 })] // two k panels, a ragged column strip, a ragged row block
    [InlineData(new[] { 2, 3, 4 }, new[] { 4, 5 })] // batch folded into rows
    [InlineData(new[] { 4 }, new[] { 4, 6 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 5 }, new[] { 5 })]
    [InlineData(new[] { 2, 1, 3, 4 }, new[] { 5, 4, 6 })] // batch dimensions broadcast both ways
    [InlineData(new[] { 3, 4 }, new[] { 2, 4, 6 })]
    [InlineData(new[] { 2, 7, 19, 6 }, new[] { 2, 7, 6, 21 })]
    public void MatMul_matches_onnxruntime(int[] aShape, int[] bShape)
    {
        var b = new OnnxModelBuilder();
        string a = b.Input("a", ElementType.Float32, Dims(aShape));
        string w = b.Input("b", ElementType.Float32, Dims(bShape));
        b.Output(b.Node("MatMul", [a, w]));

        OrtAgreement.AssertMatches(b.Build(), [("a", TensorAssert.Random(aShape, 1)), ("b", TensorAssert.Random(bShape, 2))]);
    }

    [Fact]
    public void MatMul_with_constant_weights_matches_onnxruntime()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 3, 10, 24);
        string w = b.Initializer("w", TensorAssert.Random([24, 40], 5));
        b.Output(b.Node("MatMul", [x, w]));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random([3, 10, 24], 6))]);
    }

    [Fact]
    public void MatMul_counts_macs()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string w = b.Input("w", ElementType.Float32, 4, 5);
        b.Output(b.Node("MatMul", [x, w]));

        Assert.Equal(2 * 3 * 5 * 4, ModelRunner.Compile(b.Build()).Plan!.Cost.Macs);
    }

    [Fact]
    public void MatMul_with_mismatched_inner_dimension_is_MSDK2003()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 3, 4);
        string w = b.Input("w", ElementType.Float32, 5, 6);
        b.Output(b.Node("MatMul", [x, w]));

        Diagnostic error = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.ShapeMismatch, error.Code);
        Assert.Contains("inner dimensions", error.Message);
    }

    [Fact]
    public void MatMul_with_unbroadcastable_batches_is_MSDK2003()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string w = b.Input("w", ElementType.Float32, 3, 4, 5);
        b.Output(b.Node("MatMul", [x, w]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void MatMul_of_integers_is_MSDK2005()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Int32, 2, 3);
        string w = b.Input("w", ElementType.Int32, 3, 2);
        b.Output(b.Node("MatMul", [x, w]), ElementType.Int32);

        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData(0, 0, 1.0f, 1.0f, "none")]
    [InlineData(0, 0, 1.0f, 1.0f, "scalar")]
    [InlineData(0, 0, 1.0f, 1.0f, "[1]")]
    [InlineData(0, 1, 0.5f, 2.0f, "[N]")]
    [InlineData(1, 0, 1.0f, -1.0f, "[1,N]")]
    [InlineData(1, 1, 0.25f, 1.0f, "[M,1]")]
    [InlineData(0, 0, 2.0f, 0.5f, "[M,N]")]
    [InlineData(1, 1, -1.5f, 0.0f, "[M,N]")]
    public void Gemm_matches_onnxruntime(int transA, int transB, float alpha, float beta, string bias)
    {
        const int M = 7, N = 19, K = 13;
        var b = new OnnxModelBuilder();
        int[] aShape = transA == 0 ? [M, K] : [K, M], bShape = transB == 0 ? [K, N] : [N, K];
        int[]? cShape = bias switch
        {
            "none" => null,
            "scalar" => [],
            "[1]" => [1],
            "[N]" => [N],
            "[1,N]" => [1, N],
            "[M,1]" => [M, 1],
            _ => [M, N],
        };
        var inputs = new List<(string, Tensor)> { ("a", TensorAssert.Random(aShape, 1)), ("b", TensorAssert.Random(bShape, 2)) };
        string a = b.Input("a", ElementType.Float32, Dims(aShape));
        string w = b.Input("b", ElementType.Float32, Dims(bShape));
        string? c = null;
        if (cShape is not null)
        {
            c = b.Input("c", ElementType.Float32, Dims(cShape));
            inputs.Add(("c", TensorAssert.Random(cShape, 3)));
        }

        b.Output(b.Node("Gemm", c is null ? [a, w] : [a, w, c], ("transA", transA), ("transB", transB), ("alpha", alpha), ("beta", beta)));

        OrtAgreement.AssertMatches(b.Build(), inputs);
    }

    [Fact]
    public void Gemm_with_constant_transposed_weights_pretransposes_them()
    {
        // The Linear layer pattern: x · Wᵀ + b with W [out, in] stored as an initializer.
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 5, 33);
        string w = b.Initializer("w", TensorAssert.Random([21, 33], 7));
        string bias = b.Initializer("bias", TensorAssert.Random([21], 8));
        b.Output(b.Node("Gemm", [x, w, bias], ("transB", 1)));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(ModelRunner.Compile(model).Plan!.Steps);
        Assert.Equal(0, step["transB"].IntValue);
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random([5, 33], 9))]);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    public void Gemm_at_early_opsets_matches_onnxruntime(int opset)
    {
        var b = new OnnxModelBuilder(opset);
        string a = b.Input("a", ElementType.Float32, 4, 6);
        string w = b.Input("b", ElementType.Float32, 6, 3);
        string c = b.Input("c", ElementType.Float32, 3);
        b.Output(b.Node("Gemm", [a, w, c], ("alpha", 0.5f)));

        OrtAgreement.AssertMatches(b.Build(), [("a", TensorAssert.Random([4, 6], 1)), ("b", TensorAssert.Random([6, 3], 2)), ("c", TensorAssert.Random([3], 3))]);
    }

    [Fact]
    public void Gemm_ignores_the_bias_when_beta_is_zero()
    {
        var b = new OnnxModelBuilder();
        string a = b.Input("a", ElementType.Float32, 2, 3);
        string w = b.Input("b", ElementType.Float32, 3, 2);
        string c = b.Initializer("c", [2], [float.NaN, float.PositiveInfinity]);
        b.Output(b.Node("Gemm", [a, w, c], ("beta", 0f)));

        Tensor[] y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([2, 3], 1, 2, 3, 4, 5, 6), Tensor.FromFloats([3, 2], 1, 0, 0, 1, 1, 1)]);

        Assert.Equal(new float[] { 4, 5, 10, 11 }, y[0].Span<float>().ToArray());
    }

    [Fact]
    public void Gemm_without_bias_before_opset_11_is_MSDK2003()
    {
        var b = new OnnxModelBuilder(9);
        string a = b.Input("a", ElementType.Float32, 2, 3);
        string w = b.Input("b", ElementType.Float32, 3, 2);
        b.Output(b.Node("Gemm", [a, w]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Gemm_with_unbroadcastable_bias_is_MSDK2003()
    {
        var b = new OnnxModelBuilder();
        string a = b.Input("a", ElementType.Float32, 2, 3);
        string w = b.Input("b", ElementType.Float32, 3, 4);
        string c = b.Input("c", ElementType.Float32, 3);
        b.Output(b.Node("Gemm", [a, w, c]));

        Diagnostic error = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.ShapeMismatch, error.Code);
        Assert.Contains("does not broadcast", error.Message);
    }

    [Fact]
    public void Gemm_with_mismatched_inner_dimension_is_MSDK2003()
    {
        var b = new OnnxModelBuilder();
        string a = b.Input("a", ElementType.Float32, 2, 3);
        string w = b.Input("b", ElementType.Float32, 4, 3);
        b.Output(b.Node("Gemm", [a, w]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    private static int?[] Dims(int[] shape) => shape.Select(d => (int?)d).ToArray();
}
