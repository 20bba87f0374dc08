namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// One input of a concatenation: copies it into its slice of the output. A concatenation is one
/// call per non-empty input, each writing a disjoint part of the output.
/// </summary>
public static class Concat
{
    /// <summary>
    /// Views <paramref name="x"/> and <paramref name="y"/> as <paramref name="outer"/> blocks each and copies
    /// block <c>o</c> of <paramref name="x"/> to <paramref name="offset"/> elements into block <c>o</c> of <paramref name="y"/>.
    /// </summary>
    /// <typeparam name="T">Element type; only copied, never interpreted.</typeparam>
    /// <param name="x">The input, dense.</param>
    /// <param name="y">The whole output, dense.</param>
    /// <param name="outer">Product of the dimensions before the concatenation axis.</param>
    /// <param name="offset">Where the input's block starts in each output block: the earlier inputs' axis lengths times the inner size.</param>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int offset)
        where T : unmanaged
    {
        if (outer <= 0)
        {
            if (x.Length != 0 || outer < 0)
            {
                throw new ArgumentException($"Concat of {x.Length} elements in {outer} blocks.");
            }

            return;
        }

        if (x.Length % outer != 0 || y.Length % outer != 0)
        {
            throw new ArgumentException($"Concat input ({x.Length}) and output ({y.Length}) do not split into {outer} blocks.");
        }

        int xBlock = x.Length / outer, yBlock = y.Length / outer;
        if (offset < 0 || offset > yBlock - xBlock)
        {
            throw new ArgumentException($"Concat block of {xBlock} elements at {offset} does not fit an output block of {yBlock}.");
        }

        for (int o = 0; o < outer; o++)
        {
            x.Slice(o * xBlock, xBlock).CopyTo(y.Slice(o * yBlock + offset, xBlock));
        }
    }
}
