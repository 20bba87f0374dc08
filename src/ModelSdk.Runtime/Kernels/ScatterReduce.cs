using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>How <see cref="ScatterReduce"/> combines an update with the value already there.</summary>
public enum ScatterReduction
{
    /// <summary>Sum.</summary>
    Add,
    /// <summary>Product.</summary>
    Mul,
    /// <summary>Larger of the two.</summary>
    Max,
    /// <summary>Smaller of the two.</summary>
    Min,
}

/// <summary>
/// Combines blocks of updates into a tensor at precomputed offsets, in order (ScatterElements and
/// ScatterND with a reduction; the output already holds a copy of the data).
/// </summary>
public static class ScatterReduce
{
    /// <summary><c>y[offsets[i] + j] = reduce(y[offsets[i] + j], updates[i·block + j])</c>.</summary>
    /// <typeparam name="T">A numeric element type.</typeparam>
    /// <param name="offsets">Where each block goes in <paramref name="y"/>.</param>
    /// <param name="updates">The blocks, <c>offsets.Length · block</c> elements.</param>
    /// <param name="y">The tensor updated in place.</param>
    /// <param name="block">Elements per block.</param>
    /// <param name="reduction">How values combine.</param>
    public static void Run<T>(ReadOnlySpan<int> offsets, ReadOnlySpan<T> updates, Span<T> y, int block, ScatterReduction reduction)
        where T : unmanaged, INumber<T>
    {
        if (block < 0 || (long)offsets.Length * block != updates.Length)
        {
            throw new ArgumentException($"ScatterReduce of {offsets.Length} blocks of {block} got {updates.Length} updates.");
        }

        for (int i = 0; i < offsets.Length; i++)
        {
            ReadOnlySpan<T> src = updates.Slice(i * block, block);
            Span<T> dst = y.Slice(offsets[i], block);
            for (int j = 0; j < block; j++)
            {
                dst[j] = reduction switch
                {
                    ScatterReduction.Add => dst[j] + src[j],
                    ScatterReduction.Mul => dst[j] * src[j],
                    ScatterReduction.Max => T.Max(dst[j], src[j]),
                    _ => T.Min(dst[j], src[j]),
                };
            }
        }
    }
}
