using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Passes;

/// <summary>The fusions on a whole encoder block (<see cref="TransformerBlock"/>), against ONNX Runtime's unfused run.</summary>
public class TransformerBlockTests
{
    [Fact]
    public void Encoder_block_fuses_and_matches_onnxruntime()
    {
        byte[] model = TransformerBlock.Build();
        Tensor ids = TransformerBlock.Ids();

        string[] kernels = PassHarness.KernelsWithActivations(model);
        OrtAgreement.AssertMatches(model, [("ids", ids)]);

        Assert.Equal(3, kernels.Count(k => k == "Normalization"));
        Assert.Equal(1, kernels.Count(k => k == "Attention"));
        Assert.Equal(1, kernels.Count(k => k == "Gemm+Gelu")); // the feed-forward MatMul, its bias Add and GELU: one step
        Assert.DoesNotContain("Softmax", kernels);
        Assert.DoesNotContain("Reduce", kernels);
        Assert.DoesNotContain("Unary", kernels);
    }

    [Theory]
    [InlineData("bert_tiny", 128, true)] // LayerNorm decomposed (opset 14)
    [InlineData("bert_tiny_opset17", 32, false)] // LayerNormalization already one node
    public void Exported_bert_fuses_and_matches_onnxruntime(string name, int sequence, bool decomposedNorms)
    {
        // PyTorch's export: K reaches the product through one Transpose (perm 0,2,3,1) of its reshape,
        // and the mask comes from the int64 attention_mask through Cast, Sub and Mul.
        byte[] model = File.ReadAllBytes(Path.Combine(RepositoryPaths.Fixtures, "real", name + ".onnx"));
        Tensor ids = Tensor.FromInt64s([1, sequence], Enumerable.Range(0, sequence).Select(i => (long)(i * 37 % 1000)).ToArray());
        Tensor mask = Tensor.FromInt64s([1, sequence], Enumerable.Range(0, sequence).Select(i => i < sequence - 7 ? 1L : 0L).ToArray());

        string[] kernels = PassHarness.KernelsWithActivations(model);
        OrtAgreement.AssertMatches(model, [("input_ids", ids), ("attention_mask", mask)]);

        Assert.Equal(2, kernels.Count(k => k == "Attention"));
        Assert.DoesNotContain("Transpose", kernels); // heads split and merged in place by the attention kernel
        Assert.Equal(2, kernels.Count(k => k == "Gemm+Gelu"));
        Assert.Equal(5, kernels.Count(k => k == "Normalization"));
        Assert.DoesNotContain("Softmax", kernels);
        if (decomposedNorms)
        {
            Assert.DoesNotContain("Reduce", kernels);
        }
    }
}
