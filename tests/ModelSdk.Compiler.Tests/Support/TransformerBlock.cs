using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>
/// A small BERT-style encoder built the way PyTorch exports one at opset 13: embeddings (Gather),
/// LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div, multi-head self-attention with an additive
/// mask, and a GELU (erf) MLP, each sub-layer with a residual connection. Shared with the generator
/// tests, so it depends on nothing but <see cref="OnnxModelBuilder"/>.
/// </summary>
public static class TransformerBlock
{
    private const int Vocabulary = 50, Sequence = 11, Hidden = 32, Heads = 4, HeadSize = Hidden / Heads, Intermediate = 64;

    /// <summary>Token ids for the block's input "ids".</summary>
    public static Tensor Ids() => Tensor.FromInt64s([1, Sequence], Enumerable.Range(0, Sequence).Select(i => (long)(i * 7 % Vocabulary)).ToArray());

    /// <summary>The encoder block; its input is "ids" (int64 [1, 11]).</summary>
    public static byte[] Build()
    {
        var b = new OnnxModelBuilder(13);
        int seed = 10;
        string Weight(params int[] shape) => b.Initializer($"w{seed}", Random(shape, seed++, -0.3f, 0.3f));
        string Scalar(float value) => b.Initializer($"c{seed++}", Tensor.FromFloats([], value));
        string Shape(params long[] dims) => b.Initializer($"shape{seed++}", Tensor.FromInt64s([dims.Length], dims));
        string Linear(string x, int inputs, int outputs) => b.Node("Add", [b.Node("MatMul", [x, Weight(inputs, outputs)]), Weight(outputs)]);

        string LayerNorm(string x)
        {
            string d = b.Node("Sub", [x, b.Node("ReduceMean", [x], ("axes", new[] { -1 }))]);
            string variance = b.Node("ReduceMean", [b.Node("Pow", [d, Scalar(2)])], ("axes", new[] { -1 }));
            string n = b.Node("Div", [d, b.Node("Sqrt", [b.Node("Add", [variance, Scalar(1e-12f)])])]);
            return b.Node("Add", [b.Node("Mul", [n, Weight(Hidden)]), Weight(Hidden)]);
        }

        string Heads4(string x, int[] perm) => b.Node("Transpose", [b.Node("Reshape", [x, Shape(1, Sequence, Heads, HeadSize)])], ("perm", perm));

        string ids = b.Input("ids", ElementType.Int64, 1, Sequence);
        string embedded = b.Node("Add", [b.Node("Gather", [Weight(Vocabulary, Hidden), ids]), Weight(Sequence, Hidden)]);
        string h = LayerNorm(embedded);

        // Self-attention: K goes to [B, H, S, D] and is then transposed for the product, as HF BERT does.
        string q = Heads4(Linear(h, Hidden, Hidden), [0, 2, 1, 3]);
        string k = Heads4(Linear(h, Hidden, Hidden), [0, 2, 1, 3]);
        string v = Heads4(Linear(h, Hidden, Hidden), [0, 2, 1, 3]);
        string scores = b.Node("MatMul", [q, b.Node("Transpose", [k], ("perm", new[] { 0, 1, 3, 2 }))]);
        string scaled = b.Node("Div", [scores, Scalar(MathF.Sqrt(HeadSize))]);
        float[] mask = Enumerable.Range(0, Sequence).Select(i => i < Sequence - 2 ? 0f : -10000f).ToArray();
        string masked = b.Node("Add", [scaled, b.Initializer("mask", Tensor.FromFloats([1, 1, 1, Sequence], mask))]);
        string context = b.Node("MatMul", [b.Node("Softmax", [masked], ("axis", -1)), v]);
        string merged = b.Node("Reshape", [b.Node("Transpose", [context], ("perm", new[] { 0, 2, 1, 3 })), Shape(1, Sequence, Hidden)]);
        h = LayerNorm(b.Node("Add", [Linear(merged, Hidden, Hidden), h]));

        // MLP with exact GELU.
        string up = Linear(h, Hidden, Intermediate);
        string erf = b.Node("Erf", [b.Node("Div", [up, Scalar(1.4142135f)])]);
        string gelu = b.Node("Mul", [b.Node("Mul", [up, b.Node("Add", [erf, Scalar(1)])]), Scalar(0.5f)]);
        h = LayerNorm(b.Node("Add", [Linear(gelu, Intermediate, Hidden), h]));
        b.Output(h);
        return b.Build();
    }

    private static Tensor Random(int[] shape, int seed, float lo, float hi)
    {
        var rng = new Random(seed);
        return Tensor.FromFloats(shape, Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => lo + (float)rng.NextDouble() * (hi - lo)).ToArray());
    }
}
