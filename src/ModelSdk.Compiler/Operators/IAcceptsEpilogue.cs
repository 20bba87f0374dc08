using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// An operator whose lowering honours <see cref="Node.Epilogue"/>: its kernel applies the fused residual and
/// activation in its store. The epilogue fusion pass folds following nodes only into these, and only into
/// nodes for which <see cref="AcceptsEpilogue"/> is true.
/// </summary>
public interface IAcceptsEpilogue : IOperator
{
    /// <summary>
    /// Whether this node's lowering can apply an epilogue (for example: float32 output and a kernel path that
    /// supports it). Called after shape inference, so types and shapes are known.
    /// </summary>
    bool AcceptsEpilogue(Node node);
}
