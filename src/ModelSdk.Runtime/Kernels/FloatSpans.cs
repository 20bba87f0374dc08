using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Vectorised float32 span primitives shared by the convolution, normalization and transposed-convolution kernels.</summary>
internal static class FloatSpans
{
    /// <summary><c>y[i] += x[i]</c>.</summary>
    public static void Add(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths(x.Length, y.Length);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            (Vector256.LoadUnsafe(ref ry, (nuint)i) + Vector256.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }

        for (; i < x.Length; i++)
        {
            Unsafe.Add(ref ry, i) += Unsafe.Add(ref rx, i);
        }
    }

    /// <summary><c>y[i] += factor · x[i]</c>.</summary>
    public static void MultiplyAdd(ReadOnlySpan<float> x, float factor, Span<float> y)
    {
        CheckLengths(x.Length, y.Length);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        var f = Vector256.Create(factor);
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref rx, (nuint)i), f, Vector256.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }

        for (; i < x.Length; i++)
        {
            Unsafe.Add(ref ry, i) += factor * Unsafe.Add(ref rx, i);
        }
    }

    /// <summary>Σ x[i].</summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        Vector256<float> acc = Vector256<float>.Zero;
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            acc += Vector256.LoadUnsafe(ref rx, (nuint)i);
        }

        float sum = Vector256.Sum(acc);
        for (; i < x.Length; i++)
        {
            sum += Unsafe.Add(ref rx, i);
        }

        return sum;
    }

    /// <summary>Σ (x[i] − centre)².</summary>
    public static float SumOfSquaredDeviations(ReadOnlySpan<float> x, float centre)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        var c = Vector256.Create(centre);
        Vector256<float> acc = Vector256<float>.Zero;
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> d = Vector256.LoadUnsafe(ref rx, (nuint)i) - c;
            acc = Vector256.MultiplyAddEstimate(d, d, acc);
        }

        float sum = Vector256.Sum(acc);
        for (; i < x.Length; i++)
        {
            float d = Unsafe.Add(ref rx, i) - centre;
            sum += d * d;
        }

        return sum;
    }

    private static void CheckLengths(int source, int destination)
    {
        if (source > destination)
        {
            throw new ArgumentException("Operand lengths differ.");
        }
    }
}
