using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Ir;

/// <summary>
/// Work fused into the store of a GEMM-like node (Conv, Gemm, MatMul) by a fusion pass, applied to each
/// result element in this order: the node's own bias, then <see cref="Residual"/> added (same shape as
/// the output), then <see cref="Activation"/> with <see cref="Alpha"/> and <see cref="Beta"/>.
/// The operators that honour it read <see cref="Node.Epilogue"/> when they lower.
/// </summary>
public sealed record Epilogue(Activation Activation, float Alpha = 0, float Beta = 0, Value? Residual = null);
