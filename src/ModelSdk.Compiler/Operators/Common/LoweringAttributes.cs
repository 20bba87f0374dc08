namespace ModelSdk.Compiler.Operators.Common;

/// <summary>Typed attribute access while lowering.</summary>
internal static class LoweringAttributes
{
    /// <summary>
    /// The node's attributes through the same typed accessors (and shared resolvers such as
    /// <see cref="WindowGeometry"/>) that <see cref="IOperator.Infer"/> used. Infer has already
    /// validated them, so reading them again cannot fail.
    /// </summary>
    public static InferenceContext Attributes(this LoweringContext ctx) => new(ctx.Node, ctx.Opset, modelPath: null);
}
