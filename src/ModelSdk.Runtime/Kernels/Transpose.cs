namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Permutes the axes of a dense tensor. The compiler drops size-1 axes and merges input axes that
/// stay adjacent in the output, so the kernel sees the fewest dimensions the permutation allows;
/// it walks the output in order and reads the input through per-dimension strides.
/// </summary>
public static class Transpose
{
    // Edge of the square tiles used when the output's last axis is strided in the input: a tile of
    // both the source and the destination stays in L1, so neither side is walked with a cache miss per element.
    private const int Tile = 16;

    /// <summary>Writes <paramref name="x"/> with permuted axes into <paramref name="y"/>.</summary>
    /// <typeparam name="T">Element type; only copied, never interpreted.</typeparam>
    /// <param name="x">Input, dense.</param>
    /// <param name="y">Output, dense in <paramref name="shape"/>; must not overlap <paramref name="x"/>.</param>
    /// <param name="shape">The (collapsed) output shape, at least one dimension.</param>
    /// <param name="xStrides">Element stride of <paramref name="x"/> along each dimension of <paramref name="shape"/>.</param>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides)
        where T : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || xStrides.Length != rank)
        {
            throw new ArgumentException($"Shape and strides must have the same rank, from 1 to {Odometer.MaxRank}.");
        }

        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
        }

        if (count != x.Length || count != y.Length)
        {
            throw new ArgumentException($"Transpose of {count} elements got an input of {x.Length} and an output of {y.Length}.");
        }

        if (count == 0)
        {
            return;
        }

        // A true 2-D transpose at the end (the output's second-last axis is the input's contiguous one):
        // copy tiles instead of rows.
        bool tiled = rank >= 2 && xStrides[rank - 1] != 1 && xStrides[rank - 2] == 1;
        int loopRank = tiled ? rank - 2 : rank - 1;
        int block = tiled ? shape[rank - 2] * shape[rank - 1] : shape[rank - 1];
        int outer = y.Length / block;
        Span<int> index = stackalloc int[loopRank];
        index.Clear();
        int xOff = 0;
        for (int o = 0; o < outer; o++)
        {
            Span<T> dst = y.Slice(o * block, block);
            if (tiled)
            {
                Tiles(x, xOff, xStrides[rank - 1], dst, shape[rank - 2], shape[rank - 1]);
            }
            else
            {
                Row(x, xOff, xStrides[rank - 1], dst);
            }

            Odometer.Advance(index, shape, xStrides, ref xOff);
        }
    }

    private static void Row<T>(ReadOnlySpan<T> x, int offset, int stride, Span<T> dst)
        where T : unmanaged
    {
        if (stride == 1)
        {
            x.Slice(offset, dst.Length).CopyTo(dst);
            return;
        }

        for (int i = 0, k = offset; i < dst.Length; i++, k += stride)
        {
            dst[i] = x[k];
        }
    }

    // dst[r, c] = x[offset + r + c * stride] for r < rows, c < cols.
    private static void Tiles<T>(ReadOnlySpan<T> x, int offset, int stride, Span<T> dst, int rows, int cols)
        where T : unmanaged
    {
        for (int c0 = 0; c0 < cols; c0 += Tile)
        {
            int c1 = Math.Min(c0 + Tile, cols);
            for (int r0 = 0; r0 < rows; r0 += Tile)
            {
                int r1 = Math.Min(r0 + Tile, rows);
                for (int c = c0; c < c1; c++)
                {
                    int src = offset + c * stride;
                    for (int r = r0; r < r1; r++)
                    {
                        dst[r * cols + c] = x[src + r];
                    }
                }
            }
        }
    }
}
