namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Copies a strided view of a tensor into a dense output: <c>y[i0,…,in] = x[xOffset + Σ i_d · xStrides[d]]</c>.
/// Strides may be negative (a slice with negative steps) or zero (a broadcast dimension), so one kernel
/// serves Slice, Split, Expand and Tile; the compiler drops size-1 dimensions and merges contiguous ones first.
/// </summary>
public static class StridedCopy
{
    // Edge of the square tiles used when the output's last axis is strided in the input: a tile of
    // both the source and the destination stays in L1, so neither side is walked with a cache miss per element.
    private const int Tile = 16;

    /// <summary>Writes the view of <paramref name="x"/> described by the offset and strides into <paramref name="y"/>.</summary>
    /// <typeparam name="T">Element type; only copied, never interpreted.</typeparam>
    /// <param name="x">Input, dense.</param>
    /// <param name="y">Output, dense in <paramref name="shape"/>; must not overlap <paramref name="x"/>.</param>
    /// <param name="shape">The (collapsed) output shape, at least one dimension.</param>
    /// <param name="xStrides">Element stride of <paramref name="x"/> along each dimension of <paramref name="shape"/>; may be negative or zero.</param>
    /// <param name="xOffset">Position in <paramref name="x"/> of the output's first element.</param>
    /// <exception cref="ArgumentException">The sizes disagree, or the view reaches outside <paramref name="x"/>.</exception>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides, int xOffset)
        where T : unmanaged
    {
        long count = Count(shape, xStrides);
        if (count != y.Length)
        {
            throw new ArgumentException($"A strided copy of {count} elements got an output of {y.Length}.");
        }

        if (count == 0)
        {
            return;
        }

        long lowest = xOffset, highest = xOffset;
        for (int d = 0; d < shape.Length; d++)
        {
            long reach = (long)xStrides[d] * (shape[d] - 1);
            lowest += Math.Min(reach, 0);
            highest += Math.Max(reach, 0);
        }

        if (lowest < 0 || highest >= x.Length)
        {
            throw new ArgumentException($"A strided view reaching elements {lowest} to {highest} does not fit an input of {x.Length}.");
        }

        Walk(x, xOffset, y, shape, xStrides);
    }

    /// <summary>The element count of <paramref name="shape"/> after checking the ranks (shared with <see cref="Transpose"/>).</summary>
    internal static long Count(ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides)
    {
        int rank = shape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || xStrides.Length != rank)
        {
            throw new ArgumentException($"Shape and strides must have the same rank, from 1 to {Odometer.MaxRank}.");
        }

        return ElementCount(shape);
    }

    /// <summary>The product of the dimensions (in 64 bits, so a bad shape cannot wrap); throws on a negative one.</summary>
    internal static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException("A dimension is negative.");
            }

            count = Math.Min(count * d, long.MaxValue / int.MaxValue);
        }

        return count;
    }

    /// <summary>The copy itself, for a view already checked to lie inside <paramref name="x"/>.</summary>
    internal static void Walk<T>(ReadOnlySpan<T> x, int xOffset, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides)
        where T : unmanaged
    {
        int rank = shape.Length;

        // A true 2-D transpose at the end (the output's second-last axis is the input's contiguous one):
        // copy tiles instead of rows.
        bool tiled = rank >= 2 && xStrides[rank - 1] != 1 && xStrides[rank - 2] == 1;
        int loopRank = tiled ? rank - 2 : rank - 1;
        int block = tiled ? shape[rank - 2] * shape[rank - 1] : shape[rank - 1];
        int outer = y.Length / block;
        Span<int> index = stackalloc int[loopRank];
        index.Clear();
        int xOff = xOffset;
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
        switch (stride)
        {
            case 1:
                x.Slice(offset, dst.Length).CopyTo(dst);
                return;
            case 0:
                dst.Fill(x[offset]);
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
