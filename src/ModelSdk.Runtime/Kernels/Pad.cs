namespace ModelSdk.Runtime.Kernels;

/// <summary>How <see cref="Pad"/> fills positions outside the input.</summary>
public enum PadMode
{
    /// <summary>A constant value.</summary>
    Constant,
    /// <summary>The input mirrored about its edge elements, which are not repeated (<c>[a,b,c]</c> → <c>…,c,b,a,b,c,b,a,…</c>).</summary>
    Reflect,
    /// <summary>The edge element repeated.</summary>
    Edge,
    /// <summary>The input repeated periodically, as if it wrapped around.</summary>
    Wrap,
}

/// <summary>
/// Pads (or, with negative pads, crops) a tensor: output position <c>o</c> along dimension <c>d</c>
/// reads input position <c>o - padsBefore[d]</c>, mapped into range by the <see cref="PadMode"/>.
/// Each output row copies its in-range middle in one block and maps only the padded borders.
/// </summary>
public static class Pad
{
    /// <summary>Writes the padded <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <typeparam name="T">Element type; only copied, never interpreted.</typeparam>
    /// <param name="x">Input, dense in <paramref name="shape"/>.</param>
    /// <param name="value">The constant of <see cref="PadMode.Constant"/>: one element, or empty for zero.</param>
    /// <param name="y">Output, dense in <paramref name="outputShape"/>; must not overlap <paramref name="x"/>.</param>
    /// <param name="shape">Input shape, at least one dimension.</param>
    /// <param name="padsBefore">Elements added before the input along each dimension (negative: removed).</param>
    /// <param name="outputShape">Output shape: input plus the pads on both sides.</param>
    /// <param name="mode">How positions outside the input are filled.</param>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> value, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> padsBefore, ReadOnlySpan<int> outputShape, PadMode mode)
        where T : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || padsBefore.Length != rank || outputShape.Length != rank || value.Length > 1)
        {
            throw new ArgumentException($"Pad needs shapes and pads of one rank from 1 to {Odometer.MaxRank}, and at most one constant.");
        }

        if (StridedCopy.ElementCount(shape) != x.Length || StridedCopy.ElementCount(outputShape) != y.Length)
        {
            throw new ArgumentException($"Pad sizes do not match: input {x.Length}, output {y.Length}.");
        }

        if (y.Length == 0)
        {
            return;
        }

        if (mode != PadMode.Constant && x.Length == 0)
        {
            throw new ArgumentException($"Pad in {mode} mode needs input elements to repeat.");
        }

        T fill = value.IsEmpty ? default : value[0];
        int last = rank - 1, width = outputShape[last], length = shape[last], before = padsBefore[last];

        // The output columns that read the input's row in order.
        int begin = Math.Clamp(before, 0, width), end = (int)Math.Clamp((long)before + length, begin, width);
        Span<int> index = stackalloc int[last];
        index.Clear();
        for (int row = 0, rows = y.Length / width; row < rows; row++)
        {
            Span<T> dst = y.Slice(row * width, width);
            int source = 0;
            for (int d = 0; d < last && source >= 0; d++)
            {
                int i = Map(index[d] - padsBefore[d], shape[d], mode);
                source = i < 0 ? -1 : source * shape[d] + i;
            }

            if (source < 0)
            {
                dst.Fill(fill);
            }
            else
            {
                ReadOnlySpan<T> src = x.Slice(source * length, length);
                for (int o = 0; o < begin; o++)
                {
                    int i = Map(o - before, length, mode);
                    dst[o] = i < 0 ? fill : src[i];
                }

                if (end > begin)
                {
                    src.Slice(begin - before, end - begin).CopyTo(dst[begin..end]);
                }

                for (int o = end; o < width; o++)
                {
                    int i = Map(o - before, length, mode);
                    dst[o] = i < 0 ? fill : src[i];
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

    // The input position that position i (possibly outside [0, n)) reads, or -1 for the constant.
    private static int Map(int i, int n, PadMode mode)
    {
        if ((uint)i < (uint)n)
        {
            return i;
        }

        switch (mode)
        {
            case PadMode.Edge:
                return i < 0 ? 0 : n - 1;
            case PadMode.Wrap:
                return ((i % n) + n) % n;
            case PadMode.Reflect:
                if (n == 1)
                {
                    return 0;
                }

                int period = 2 * (n - 1);
                int k = ((i % period) + period) % period;
                return k < n ? k : period - k;
            default:
                return -1;
        }
    }
}
