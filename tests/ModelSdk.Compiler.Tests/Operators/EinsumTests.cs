using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class EinsumTests
{
    [Theory]
    [InlineData("bij,bjk->bik", new[] { 5, 2, 3 }, new[] { 5, 3, 4 })] // batched matmul
    [InlineData("bhqd,bhkd->bhqk", new[] { 2, 3, 5, 8 }, new[] { 2, 3, 7, 8 })] // attention scores (B read transposed)
    [InlineData("bhqk,bhkd->bhqd", new[] { 2, 3, 5, 7 }, new[] { 2, 3, 7, 8 })]
    [InlineData("ij,jk", new[] { 3, 4 }, new[] { 4, 5 })] // implicit output
    [InlineData("ji,jk->ik", new[] { 4, 3 }, new[] { 4, 5 })] // A read transposed
    [InlineData("ij,kj->ki", new[] { 3, 4 }, new[] { 5, 4 })] // result permuted
    [InlineData("i,i", new[] { 5 }, new[] { 5 })] // inner product
    [InlineData("i,j->ij", new[] { 3 }, new[] { 4 })] // outer product
    [InlineData("ij,ij->ij", new[] { 3, 4 }, new[] { 3, 4 })] // elementwise
    [InlineData("bi,bj->bij", new[] { 2, 3 }, new[] { 2, 4 })] // batched outer product
    [InlineData("ik,jkl->ijl", new[] { 2, 3 }, new[] { 4, 3, 5 })]
    [InlineData("abc,cd->", new[] { 2, 3, 4 }, new[] { 4, 5 })] // everything summed
    [InlineData("ijk,ik->j", new[] { 2, 3, 4 }, new[] { 2, 4 })] // sum over two contracted labels
    [InlineData("ij,jk->i", new[] { 3, 4 }, new[] { 4, 5 })] // k summed from B alone first
    [InlineData("...ij,...jk->...ik", new[] { 2, 3, 4, 5 }, new[] { 2, 3, 5, 6 })] // ellipsis broadcast
    [InlineData("...ij,...jk", new[] { 2, 1, 4, 5 }, new[] { 2, 3, 5, 6 })] // size-1 ellipsis dimension
    [InlineData("bIJ,bJK->bIK", new[] { 2, 3, 4 }, new[] { 2, 4, 3 })] // upper-case labels
    [InlineData("b i j , b j k -> b i k", new[] { 2, 3, 4 }, new[] { 2, 4, 3 })] // spaces
    public void Two_operand_einsum_matches_onnxruntime(string equation, int[] aShape, int[] bShape)
    {
        var b = new OnnxModelBuilder(12);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(aShape));
        string y = b.Input("y", ElementType.Float32, OrtAgreement.Dims(bShape));
        b.Output(b.Node("Einsum", [x, y], ("equation", equation)));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random(aShape, 1)), ("y", TensorAssert.Random(bShape, 2))]);
    }

    [Theory]
    [InlineData("ij->ji", new[] { 3, 4 })]
    [InlineData("ij->i", new[] { 3, 4 })]
    [InlineData("ij->j", new[] { 3, 37 })]
    [InlineData("ijk->", new[] { 2, 3, 4 })]
    [InlineData("ijk->ki", new[] { 2, 3, 4 })] // sum over j, then permute
    [InlineData("ij", new[] { 3, 4 })] // implicit: identity
    [InlineData("ba", new[] { 3, 4 })] // implicit: alphabetical, a transpose
    [InlineData("...ij->...ji", new[] { 2, 3, 4, 5 })]
    [InlineData("i...->...", new[] { 3, 4, 5 })]
    public void One_operand_einsum_matches_onnxruntime(string equation, int[] shape)
    {
        var b = new OnnxModelBuilder(12);
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        b.Output(b.Node("Einsum", [x], ("equation", equation)));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, 1))]);
    }

    [Fact]
    public void Three_operands_contract_left_to_right()
    {
        var b = new OnnxModelBuilder(12);
        string x = b.Input("x", ElementType.Float32, 3, 4);
        string y = b.Input("y", ElementType.Float32, 4, 5);
        string z = b.Input("z", ElementType.Float32, 5, 2);
        b.Output(b.Node("Einsum", [x, y, z], ("equation", "ij,jk,kl->il")));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random([3, 4], 1)), ("y", TensorAssert.Random([4, 5], 2)), ("z", TensorAssert.Random([5, 2], 3))]);
    }

    [Theory]
    [InlineData(ElementType.Int64, "ij->i")]
    [InlineData(ElementType.Int32, "ij->ji")]
    public void Integer_operand_may_be_summed_or_permuted(ElementType type, string equation)
    {
        var b = new OnnxModelBuilder(12);
        string x = b.Input("x", type, 3, 4);
        b.Output(b.Node("Einsum", [x], ("equation", equation)), type);

        OrtAgreement.AssertMatches(b.Build(), [("x", OrtAgreement.Random(type, [3, 4]))]);
    }

    [Fact]
    public void Batched_matmul_is_one_gemm_without_transposes()
    {
        var b = new OnnxModelBuilder(12);
        string x = b.Input("x", ElementType.Float32, 2, 3, 5, 8);
        string y = b.Input("y", ElementType.Float32, 2, 3, 7, 8);
        b.Output(b.Node("Einsum", [x, y], ("equation", "bhqd,bhkd->bhqk")));

        PlanStep step = Assert.Single(ModelRunner.Compile(b.Build()).Plan!.Steps);

        Assert.Equal("Gemm", step.Kernel);
        Assert.Equal(1, step["transB"].IntValue);
    }

    [Theory]
    [InlineData("ii->i", new[] { 3, 3 }, DiagnosticCodes.UnsupportedAttribute)] // diagonal
    [InlineData("ij->k", new[] { 3, 4 }, DiagnosticCodes.InvalidAttribute)] // output label in no input
    [InlineData("ij->ii", new[] { 3, 4 }, DiagnosticCodes.InvalidAttribute)] // repeated output label
    [InlineData("ij,jk->ik", new[] { 3, 4 }, DiagnosticCodes.InvalidAttribute)] // two terms, one input
    [InlineData("ijk->i", new[] { 3, 4 }, DiagnosticCodes.ShapeMismatch)] // term longer than the rank
    [InlineData("i1->i", new[] { 3, 4 }, DiagnosticCodes.InvalidAttribute)] // not a letter
    [InlineData("i->j->i", new[] { 3 }, DiagnosticCodes.InvalidAttribute)]
    public void Invalid_einsum_is_reported(string equation, int[] shape, string code)
    {
        var b = new OnnxModelBuilder(12);
        b.Output(b.Node("Einsum", [b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape))], ("equation", equation)));

        Assert.Equal(code, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Mismatched_label_sizes_are_MSDK2003()
    {
        var b = new OnnxModelBuilder(12);
        string x = b.Input("x", ElementType.Float32, 3, 4);
        string y = b.Input("y", ElementType.Float32, 5, 6);
        b.Output(b.Node("Einsum", [x, y], ("equation", "ij,jk->ik")));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Integer_contraction_is_MSDK2005()
    {
        var b = new OnnxModelBuilder(12);
        string x = b.Input("x", ElementType.Int64, 3, 4);
        string y = b.Input("y", ElementType.Int64, 4, 5);
        b.Output(b.Node("Einsum", [x, y], ("equation", "ij,jk->ik")), ElementType.Int64);

        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }
}
