namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Writes blocks of updates into a tensor at precomputed offsets, in order, so a later duplicate wins
/// (ScatterElements and ScatterND without reduction; the output already holds a copy of the data).
/// </summary>
public static class ScatterBlocks
{
    /// <summary><c>y[offsets[i] … offsets[i]+block) = updates[i·block … (i+1)·block)</c>.</summary>
    /// <typeparam name="T">Element type; only copied.</typeparam>
    /// <param name="offsets">Where each block goes in <paramref name="y"/>.</param>
    /// <param name="updates">The blocks, <c>offsets.Length · block</c> elements.</param>
    /// <param name="y">The tensor updated in place.</param>
    /// <param name="block">Elements per block.</param>
    public static void Run<T>(ReadOnlySpan<int> offsets, ReadOnlySpan<T> updates, Span<T> y, int block)
        where T : unmanaged
    {
        if (block < 0 || (long)offsets.Length * block != updates.Length)
        {
            throw new ArgumentException($"ScatterBlocks of {offsets.Length} blocks of {block} got {updates.Length} updates.");
        }

        for (int i = 0; i < offsets.Length; i++)
        {
            updates.Slice(i * block, block).CopyTo(y.Slice(offsets[i], block));
        }
    }
}
