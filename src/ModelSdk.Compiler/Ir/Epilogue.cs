using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Ir;

/// <summary>
/// Work fused into the store of a GEMM-like node (Conv, Gemm, MatMul) by a fusion pass, applied to each
/// result element in this order: the node's own bias (or <see cref="Bias"/>, for operators that have none),
/// then <see cref="Residual"/> added (same shape as the output), then <see cref="Activation"/> with
/// <see cref="Alpha"/> and <see cref="Beta"/>. The operators that honour it read <see cref="Node.Epilogue"/>
/// when they lower.
/// </summary>
/// <param name="Bias">
/// A constant vector with one value per output column (the last axis), added first; only set on nodes whose
/// operator has no bias input of its own (MatMul followed by an Add, as exporters write a linear layer).
/// </param>
public sealed record Epilogue(Activation Activation, float Alpha = 0, float Beta = 0, Value? Residual = null, Value? Bias = null)
{
    /// <summary>Whether the epilogue does anything.</summary>
    public bool IsEmpty => Activation == Activation.None && Residual is null && Bias is null;
}
