using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Folds an inference-mode BatchNormalization with constant parameters into the Conv before it when the
/// convolution's weights (and bias, if any) are constants and nothing else reads the convolution's output:
/// <c>f = scale / √(var + ε)</c>, <c>W' = W · f</c> per output channel, <c>b' = (b − mean) · f + B</c>.
/// The normalization then costs nothing at run time, and the convolution can take a fused epilogue.
/// </summary>
public sealed class BatchNormalizationFoldingPass : IGraphPass
{
    /// <inheritdoc/>
    public string Name => "batchnorm-folding";

    /// <inheritdoc/>
    public void Run(Graph graph) => Fusion.InEveryGraph(graph, Fuse);

    private static void Fuse(Graph graph)
    {
        var fusion = new Fusion(graph);
        foreach (Node bn in graph.Nodes)
        {
            if (!Fusion.Is(bn, "BatchNormalization") || Fusion.Producer(bn.Inputs[0], "Conv") is not { } conv
                || fusion.SoleReader(bn.Inputs[0]!) != bn || Folded(fusion, conv, bn) is not { } folded)
            {
                continue;
            }

            fusion.Replace([conv, bn], folded);
        }

        fusion.Apply();
    }

    /// <summary>The Conv computing <paramref name="bn"/>'s output with the normalization in its weights and bias, or null when it cannot fold.</summary>
    private static Node? Folded(Fusion fusion, Node conv, Node bn)
    {
        if (conv.Inputs[1] is not { Constant: { Type: ElementType.Float32 } w }
            || (conv.Inputs.Count > 2 && conv.Inputs[2] is { } b && b.Constant is null)
            || bn.Inputs.Count != 5 || Int(bn, "training_mode", 0) != 0 || Int(bn, "spatial", 1) != 1
            || bn.Outputs.Skip(1).Any(o => o.Name.Length != 0 && !fusion.OnlyReadBy(o)))
        {
            return null;
        }

        int channels = w.Shape[0];
        float[]?[] parameters = bn.Inputs.Skip(1).Select(p => p is { Constant: { Type: ElementType.Float32, ElementCount: var n } c } && n == channels ? c.ToFloats() : null).ToArray();
        if (parameters.Any(p => p is null))
        {
            return null;
        }

        (float[] scale, float[] shift, float[] mean, float[] variance) = (parameters[0]!, parameters[1]!, parameters[2]!, parameters[3]!);
        double epsilon = bn.Attributes.TryGetValue("epsilon", out Attribute? e) && e.Kind == AttributeKind.Float ? e.Float : 1e-5;
        float[] bias = conv.Inputs.Count > 2 && conv.Inputs[2]?.Constant is { } cb ? cb.ToFloats() : new float[channels];
        float[] weights = w.ToFloats();
        int perChannel = weights.Length / channels;
        var newBias = new float[channels];
        for (int m = 0; m < channels; m++)
        {
            // In double, so that folding adds no rounding of its own beyond the final float32 store.
            double factor = scale[m] / Math.Sqrt(variance[m] + epsilon);
            for (int i = m * perChannel; i < (m + 1) * perChannel; i++)
            {
                weights[i] = (float)(weights[i] * factor);
            }

            newBias[m] = (float)((bias[m] - mean[m]) * factor + shift[m]);
        }

        Value foldedWeights = Constant($"{bn.Name}/foldedWeights", Tensor.FromFloats(w.Shape, weights));
        Value foldedBias = Constant($"{bn.Name}/foldedBias", Tensor.FromFloats([channels], newBias));
        return new Node(conv.Name, conv.OpType, conv.Domain, [conv.Inputs[0], foldedWeights, foldedBias], [bn.Outputs[0]], conv.Attributes);
    }

    private static long Int(Node node, string name, long fallback)
        => node.Attributes.TryGetValue(name, out Attribute? a) && a.Kind == AttributeKind.Int ? a.Int : fallback;

    private static Value Constant(string name, Tensor tensor)
    {
        var v = new Value(name);
        v.SetConstant(tensor);
        return v;
    }
}
