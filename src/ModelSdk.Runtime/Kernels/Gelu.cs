using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The Gaussian error linear unit (float32), <c>y = x · Φ(x)</c>: exactly,
/// <c>0.5 · x · (1 + erf(x / √2))</c>, or with the tanh approximation
/// <c>0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))</c>. The compiler fuses both exporter
/// decompositions into this kernel.
/// </summary>
public static class Gelu
{
    private const float InverseSqrt2 = 0.70710678118654752f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;
    private const float Cubic = 0.044715f;

    /// <summary>Computes <paramref name="y"/>; <paramref name="x"/> and <paramref name="y"/> may be the same memory.</summary>
    /// <param name="x">Input.</param>
    /// <param name="y">Output, as long as <paramref name="x"/>.</param>
    /// <param name="approximate">Whether to use the tanh approximation instead of erf.</param>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, bool approximate)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Input and output lengths differ.");
        }

        int w = Vector256<float>.Count;
        int i = 0;
        for (; i <= x.Length - w; i += w)
        {
            Vector256<float> v = Vector256.Create(x.Slice(i, w));
            (approximate ? Tanh(v) : Exact(v)).CopyTo(y.Slice(i));
        }

        if (i < x.Length)
        {
            // The tail goes through the same vector code, so every element is computed alike.
            Span<float> tail = stackalloc float[w];
            tail.Clear();
            x.Slice(i).CopyTo(tail);
            Vector256<float> v = Vector256.Create(tail);
            (approximate ? Tanh(v) : Exact(v)).CopyTo(tail);
            tail.Slice(0, x.Length - i).CopyTo(y.Slice(i));
        }
    }

    // Φ(x) = ½·erfc(−x/√2). erfc of a non-negative argument comes from the Chebyshev-fitted form of
    // Numerical Recipes (erfcc, relative error below 1.2e-7 everywhere), so Φ keeps its relative
    // accuracy in the negative tail, where 1 + erf(x/√2) would cancel.
    private static Vector256<float> Exact(Vector256<float> x)
    {
        Vector256<float> z = Vector256.Abs(x) * Vector256.Create(InverseSqrt2);
        Vector256<float> t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(0.5f) * z);
        Vector256<float> p = Vector256.Create(0.17087277f);
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(-0.82215223f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(1.48851587f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(-1.13520398f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(0.27886807f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(-0.18628806f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(0.09678418f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(0.37409196f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(1.00002368f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(-1.26551223f));
        Vector256<float> half = Vector256.Create(0.5f) * t * Vector256.Exp(p - z * z);
        Vector256<float> phi = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One - half, half);
        return x * phi;
    }

    // ½·(1 + tanh(u)) = 1 / (1 + e^(−2u)): no cancellation for negative u, and e^(−2u) saturating to
    // infinity gives the right limit 0.
    private static Vector256<float> Tanh(Vector256<float> x)
    {
        Vector256<float> inner = Vector256.MultiplyAddEstimate(Vector256.Create(Cubic) * x * x, x, x);
        Vector256<float> e = Vector256.Exp(Vector256.Create(-2 * SqrtTwoOverPi) * inner);
        return x / (Vector256<float>.One + e);
    }
}
