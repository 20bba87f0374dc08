using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Vectorised float32 span primitives shared by the convolution and transposed-convolution kernels.</summary>
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

    private static void CheckLengths(int source, int destination)
    {
        if (source > destination)
        {
            throw new ArgumentException("Operand lengths differ.");
        }
    }
}
