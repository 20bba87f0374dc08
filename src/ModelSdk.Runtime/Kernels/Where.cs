namespace ModelSdk.Runtime.Kernels;

/// <summary>Elementwise selection with NumPy broadcasting of all three operands: <c>result = condition ? x : y</c>.</summary>
public static class Where
{
    /// <summary>Picks each element of <paramref name="result"/> from <paramref name="x"/> where <paramref name="condition"/> holds, else from <paramref name="y"/>.</summary>
    /// <typeparam name="T">Element type; only copied, never interpreted.</typeparam>
    /// <param name="condition">The selector.</param>
    /// <param name="x">Values where the condition is true.</param>
    /// <param name="y">Values where the condition is false.</param>
    /// <param name="result">Result, laid out densely in <paramref name="shape"/>.</param>
    /// <param name="shape">Collapsed output shape (at least one dimension).</param>
    /// <param name="conditionStrides">Element stride of <paramref name="condition"/> per dimension of <paramref name="shape"/>.</param>
    /// <param name="xStrides">Element stride of <paramref name="x"/> per dimension of <paramref name="shape"/>.</param>
    /// <param name="yStrides">Element stride of <paramref name="y"/> per dimension of <paramref name="shape"/>.</param>
    public static void Run<T>(ReadOnlySpan<bool> condition, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> result,
        ReadOnlySpan<int> shape, ReadOnlySpan<int> conditionStrides, ReadOnlySpan<int> xStrides, ReadOnlySpan<int> yStrides)
        where T : unmanaged
    {
        Broadcast.CheckRank(shape, xStrides, yStrides);
        int rank = shape.Length;
        if (conditionStrides.Length != rank)
        {
            throw new ArgumentException("Shape and strides must have the same rank.");
        }

        int inner = shape[rank - 1];
        if (inner == 0)
        {
            return;
        }

        int sc = conditionStrides[rank - 1], sx = xStrides[rank - 1], sy = yStrides[rank - 1];
        int outer = result.Length / inner;
        Span<int> index = stackalloc int[rank - 1];
        index.Clear();
        int cOff = 0, xOff = 0, yOff = 0;
        for (int o = 0; o < outer; o++)
        {
            Span<T> row = result.Slice(o * inner, inner);
            if (sc == 0)
            {
                // One condition for the whole row: a block copy (or fill) from the chosen side.
                bool pick = condition[cOff];
                int off = pick ? xOff : yOff, stride = pick ? sx : sy;
                ReadOnlySpan<T> source = pick ? x : y;
                if (stride == 1)
                {
                    source.Slice(off, inner).CopyTo(row);
                }
                else if (stride == 0)
                {
                    row.Fill(source[off]);
                }
                else
                {
                    for (int i = 0; i < row.Length; i++)
                    {
                        row[i] = source[off + i * stride];
                    }
                }
            }
            else
            {
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] = condition[cOff + i * sc] ? x[xOff + i * sx] : y[yOff + i * sy];
                }
            }

            Odometer.Advance(index, shape, conditionStrides, ref cOff, xStrides, ref xOff, yStrides, ref yOff);
        }
    }
}
