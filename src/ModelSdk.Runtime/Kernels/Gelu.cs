using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The Gaussian error linear unit (float32), <c>y = x · Φ(x)</c>: exactly,
/// <c>0.5 · x · (1 + erf(x / √2))</c>, or with the tanh approximation
/// <c>0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))</c>. The compiler fuses both exporter
/// decompositions into this kernel; the functions are <see cref="FastMath.Gelu{TV, TS}"/> and
/// <see cref="FastMath.GeluTanh{TV, TS}"/>.
/// </summary>
public static class Gelu
{
    /// <summary>Computes <paramref name="y"/>; <paramref name="x"/> and <paramref name="y"/> may be the same memory.</summary>
    /// <param name="x">Input.</param>
    /// <param name="y">Output, as long as <paramref name="x"/>.</param>
    /// <param name="approximate">Whether to use the tanh approximation instead of erf.</param>
    /// <param name="context">The worker threads that share large inputs.</param>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, bool approximate, KernelContext context)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Input and output lengths differ.");
        }

        Unary.Apply(approximate ? UnaryOp.GeluTanh : UnaryOp.Gelu, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length, 0, 0, context);
    }
}
