using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;

namespace ModelSdk.Compiler.Passes;

/// <summary>The graph passes, in the order they run. Lowering and memory planning follow (see <c>Lowering/</c>).</summary>
public static class PassPipeline
{
    /// <summary>The passes for one compilation.</summary>
    public static IReadOnlyList<IGraphPass> Create(OperatorRegistry registry, string? modelPath) => [.. Early(registry, modelPath), .. Late(registry)];

    /// <summary>Every pass before the <see cref="Late"/> ones.</summary>
    private static IReadOnlyList<IGraphPass> Early(OperatorRegistry registry, string? modelPath) =>
    [
        new ShapeInferencePass(registry, modelPath),
        new QdqFusionPass(registry, modelPath),
        new DeadCodePass(),

        // Fusions match exporters' decompositions, so they run once shapes are known and constant
        // sub-expressions (√2, 1/√d…) are folded into the constants they compare with.
        new LayerNormalizationFusionPass(),
        new GeluFusionPass(),
        new AttentionFusionPass(),

        new BatchNormalizationFoldingPass(),
    ];

    /// <summary>
    /// The passes that fold elementwise work into its neighbours: last, since the fusions above produce some of
    /// the activations (GELU) they fold, and in this order, so an activation goes into a producer's store
    /// before what remains is fused into chains.
    /// </summary>
    public static IReadOnlyList<IGraphPass> Late(OperatorRegistry registry) =>
    [
        new EpilogueFusionPass(registry),
        new ChannelScaleFoldingPass(),
        new ElementwiseChainFusionPass(),
    ];

    /// <summary>
    /// Runs every pass over <paramref name="graph"/>; without <paramref name="fuseEpilogues"/>, all but the
    /// <see cref="Late"/> ones: the int8 rewrite needs each layer's activation as its own node (its range
    /// becomes the layer's output range), and runs them itself (<see cref="RunLate"/>) once the graph is quantized.
    /// </summary>
    public static void Run(Graph graph, OperatorRegistry registry, string? modelPath, bool fuseEpilogues = true)
    {
        foreach (IGraphPass pass in Early(registry, modelPath))
        {
            pass.Run(graph);
        }

        if (fuseEpilogues)
        {
            RunLate(graph, registry);
        }
    }

    /// <summary>Runs the <see cref="Late"/> passes over <paramref name="graph"/>.</summary>
    public static void RunLate(Graph graph, OperatorRegistry registry)
    {
        foreach (IGraphPass pass in Late(registry))
        {
            pass.Run(graph);
        }
    }
}
