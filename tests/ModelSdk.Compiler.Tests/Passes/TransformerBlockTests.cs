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

        string[] kernels = PassHarness.Kernels(model);
        OrtAgreement.AssertMatches(model, [("ids", ids)]);

        Assert.Equal(3, kernels.Count(k => k == "Normalization"));
        Assert.Equal(1, kernels.Count(k => k == "Attention"));
        Assert.Equal(1, kernels.Count(k => k == "Gelu"));
        Assert.DoesNotContain("Softmax", kernels);
        Assert.DoesNotContain("Reduce", kernels);
        Assert.DoesNotContain("Unary", kernels);
    }
}
