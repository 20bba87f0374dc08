namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Nearest-neighbour resize of an N-D tensor. The compiler resolves the coordinate transformation and
/// rounding once: per output axis, a table gives the input offset (index × input stride) each output
/// position reads, or -1 where tf_crop_and_resize falls outside the input and the output is the
/// extrapolation value.
/// </summary>
public static class ResizeNearest
{
    /// <summary>Writes the resized <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <typeparam name="T">Element type; only copied.</typeparam>
    /// <param name="x">Input, dense.</param>
    /// <param name="offsets">The tables of all axes one after another: <c>outputShape[d]</c> offsets for axis <c>d</c>.</param>
    /// <param name="extrapolation">The value of positions outside the input: one element, or empty for zero.</param>
    /// <param name="y">Output, dense in <paramref name="outputShape"/>.</param>
    /// <param name="outputShape">Output shape, at least one dimension.</param>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> offsets, ReadOnlySpan<T> extrapolation, Span<T> y, ReadOnlySpan<int> outputShape)
        where T : unmanaged
    {
        int rank = outputShape.Length;
        long count = 1, tables = 0;
        foreach (int d in outputShape)
        {
            count *= d;
            tables += d;
        }

        if (rank == 0 || rank > Odometer.MaxRank || count != y.Length || tables != offsets.Length || extrapolation.Length > 1)
        {
            throw new ArgumentException($"ResizeNearest of {y.Length} elements got {offsets.Length} offsets for a shape of rank {rank}.");
        }

        if (count == 0)
        {
            return;
        }

        T outside = extrapolation.IsEmpty ? default : extrapolation[0];
        int last = rank - 1, width = outputShape[last];
        ReadOnlySpan<int> lastTable = offsets[^width..];
        Span<int> index = stackalloc int[last];
        index.Clear();
        for (int row = 0, rows = y.Length / width; row < rows; row++)
        {
            int source = 0;
            for (int d = 0, table = 0; d < last; table += outputShape[d], d++)
            {
                int offset = offsets[table + index[d]];
                if (offset < 0)
                {
                    source = -1;
                    break;
                }

                source += offset;
            }

            Span<T> dst = y.Slice(row * width, width);
            if (source < 0)
            {
                dst.Fill(outside);
            }
            else
            {
                for (int o = 0; o < width; o++)
                {
                    int offset = lastTable[o];
                    dst[o] = offset < 0 ? outside : x[source + offset];
                }
            }

            for (int d = last - 1; d >= 0; d--)
            {
                if (++index[d] < outputShape[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }
    }
}
