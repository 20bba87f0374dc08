using System.Runtime.CompilerServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>An activation fused into the store of a kernel (GEMM, convolution).</summary>
public enum Activation
{
    /// <summary>No activation.</summary>
    None,
    /// <summary><c>max(x, 0)</c></summary>
    Relu,
    /// <summary><c>x &gt;= 0 ? x : alpha * x</c></summary>
    LeakyRelu,
    /// <summary><c>min(max(x, alpha), beta)</c></summary>
    Clip,
    /// <summary><c>1 / (1 + exp(-x))</c></summary>
    Sigmoid,
    /// <summary><c>tanh(x)</c></summary>
    Tanh,
    /// <summary><c>max(0, min(1, alpha * x + beta))</c></summary>
    HardSigmoid,
    /// <summary><c>x * max(0, min(1, x / 6 + 1 / 2))</c></summary>
    HardSwish,
    /// <summary>GELU, <c>x * Φ(x)</c> with the error function.</summary>
    Gelu,
    /// <summary>GELU with the tanh approximation.</summary>
    GeluTanh,
}

/// <summary>Applies an <see cref="Activation"/> in place.</summary>
public static class ActivationFunctions
{
    /// <summary>Applies <paramref name="activation"/> to every element of <paramref name="y"/>.</summary>
    public static void Apply(Activation activation, Span<float> y, float alpha, float beta)
    {
        switch (activation)
        {
            case Activation.None:
                return;
            case Activation.Relu:
                Unary.Run<float>(UnaryOp.Relu, y, y, 0, 0, KernelContext.SingleThreaded);
                return;
            case Activation.LeakyRelu:
                Unary.Run<float>(UnaryOp.LeakyRelu, y, y, alpha, 0, KernelContext.SingleThreaded);
                return;
            case Activation.Clip:
                Unary.Run<float>(UnaryOp.Clip, y, y, alpha, beta, KernelContext.SingleThreaded);
                return;
            case Activation.Sigmoid:
                Unary.Run<float>(UnaryOp.Sigmoid, y, y, 0, 0, KernelContext.SingleThreaded);
                return;
            case Activation.Tanh:
                Unary.Run<float>(UnaryOp.Tanh, y, y, 0, 0, KernelContext.SingleThreaded);
                return;
            case Activation.HardSigmoid:
                Unary.Run<float>(UnaryOp.HardSigmoid, y, y, alpha, beta, KernelContext.SingleThreaded);
                return;
            case Activation.HardSwish:
                Unary.Run<float>(UnaryOp.HardSwish, y, y, 0, 0, KernelContext.SingleThreaded);
                return;
            case Activation.Gelu:
                Gelu.Run(y, y, approximate: false, KernelContext.SingleThreaded);
                return;
            case Activation.GeluTanh:
                Gelu.Run(y, y, approximate: true, KernelContext.SingleThreaded);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    /// <summary>Applies <paramref name="activation"/> to one value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(Activation activation, float x, float alpha, float beta) => activation switch
    {
        Activation.None => x,
        Activation.Relu => MathF.Max(x, 0),
        Activation.LeakyRelu => x >= 0 ? x : alpha * x,
        Activation.Clip => MathF.Min(MathF.Max(x, alpha), beta),
        Activation.Sigmoid => Unary.Sigmoid(x),
        Activation.Tanh => MathF.Tanh(x),
        Activation.HardSigmoid => MathF.Max(0, MathF.Min(1, alpha * x + beta)),
        Activation.HardSwish => x * MathF.Max(0, MathF.Min(1, x / 6 + 0.5f)),
        Activation.Gelu => (float)(0.5 * x * (1 + ErrorFunction.Erf(x * 0.70710678118654752))),
        Activation.GeluTanh => 0.5f * x * (1 + MathF.Tanh(0.7978845608f * (x + 0.044715f * x * x * x))),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
