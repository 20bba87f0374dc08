using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// One ONNX operator (or a small family sharing a shape rule): validation and shape inference, and
/// lowering onto runtime kernels. Implementations are stateless singletons registered with
/// <see cref="OnnxOperatorAttribute"/>; see docs/architecture.md, "Adding an operator".
/// </summary>
public interface IOperator
{
    /// <summary>
    /// Checks attributes and input types, and sets the type and shape of every output. May set an
    /// output's compile-time value directly (Shape, Constant). Called once per node, in graph order,
    /// with every input's type and shape known.
    /// </summary>
    void Infer(InferenceContext ctx);

    /// <summary>Emits the kernel steps (or aliases) that compute the node's outputs.</summary>
    void Lower(LoweringContext ctx);

    /// <summary>Multiply-accumulate operations of the node once shapes are known (for reports and budgets).</summary>
    long CountMacs(Node node) => 0;
}

/// <summary>
/// An operator that can be replaced by other nodes once its inputs are known at compile time (an If
/// with a constant condition becomes its chosen branch). Checked before <see cref="IOperator.Infer"/>.
/// </summary>
public interface IInliningOperator
{
    /// <summary>The nodes that replace this one, in order, or null to keep it.</summary>
    IReadOnlyList<Node>? Inline(InferenceContext ctx);
}

/// <summary>Registers an <see cref="IOperator"/> implementation for an ONNX operator type.</summary>
/// <param name="opType">The ONNX operator name, e.g. <c>Conv</c>.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class OnnxOperatorAttribute(string opType) : System.Attribute
{
    /// <summary>The operator name.</summary>
    public string OpType { get; } = opType;

    /// <summary>The operator domain; empty for the default ONNX domain.</summary>
    public string Domain { get; init; } = string.Empty;

    /// <summary>The lowest opset version the implementation handles.</summary>
    public int MinOpset { get; init; } = 1;
}
