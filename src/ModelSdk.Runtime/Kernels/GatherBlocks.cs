namespace ModelSdk.Runtime.Kernels;

/// <summary>Copies blocks of the data at precomputed offsets, in order, into a dense output (GatherElements, GatherND).</summary>
public static class GatherBlocks
{
    /// <summary><c>y[i·block … (i+1)·block) = data[offsets[i] … offsets[i]+block)</c>.</summary>
    /// <typeparam name="T">Element type; only copied.</typeparam>
    /// <param name="data">The data.</param>
    /// <param name="offsets">Where each block starts in <paramref name="data"/>.</param>
    /// <param name="y">Output, <c>offsets.Length · block</c> elements.</param>
    /// <param name="block">Elements per block.</param>
    public static void Run<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> offsets, Span<T> y, int block)
        where T : unmanaged
    {
        if (block < 0 || (long)offsets.Length * block != y.Length)
        {
            throw new ArgumentException($"GatherBlocks of {offsets.Length} blocks of {block} got an output of {y.Length}.");
        }

        if (block == 1)
        {
            for (int i = 0; i < offsets.Length; i++)
            {
                y[i] = data[offsets[i]];
            }

            return;
        }

        for (int i = 0; i < offsets.Length; i++)
        {
            data.Slice(offsets[i], block).CopyTo(y.Slice(i * block, block));
        }
    }
}
