using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Runs a model with ModelSdk and with ONNX Runtime and requires every output to agree.</summary>
public static class OrtAgreement
{
    /// <summary>
    /// Feeds <paramref name="inputs"/> (graph inputs, in order) to both and compares each output with
    /// <see cref="TensorAssert.Close"/>; returns ModelSdk's outputs for further checks.
    /// </summary>
    public static Tensor[] Check(byte[] model, IReadOnlyList<(string Name, Tensor Value)> inputs, double tolerance = 1e-5)
    {
        Tensor[] expected = OrtReference.Run(model, inputs);
        Tensor[] actual = ModelRunner.Run(model, inputs.Select(i => i.Value).ToList());
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            TensorAssert.Close(expected[i], actual[i], tolerance);
        }

        return actual;
    }
}
