namespace ModelSdk.Runtime.Kernels;

/// <summary>A function of one element of each of two operands.</summary>
internal interface IElementFunction<TA, TB, TY>
{
    TY Invoke(TA a, TB b);
}

/// <summary>
/// The loop nest shared by the broadcasting kernels whose operands and result differ in type (comparisons,
/// logic): the output walked densely in its collapsed shape, each operand through its own strides (0 where broadcast).
/// </summary>
internal static class Broadcast
{
    /// <summary>Throws unless <paramref name="shape"/> and every stride list have the same rank, within <see cref="Odometer.MaxRank"/>.</summary>
    public static void CheckRank(ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        int rank = shape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || aStrides.Length != rank || bStrides.Length != rank)
        {
            throw new ArgumentException($"Shape and strides must have the same rank, from 1 to {Odometer.MaxRank}.");
        }
    }

    /// <summary><c>y[i] = f(a[…], b[…])</c> over the broadcast of <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static void Zip<TA, TB, TY, TFunction>(ReadOnlySpan<TA> a, ReadOnlySpan<TB> b, Span<TY> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides, TFunction f)
        where TFunction : struct, IElementFunction<TA, TB, TY>
    {
        CheckRank(shape, aStrides, bStrides);
        int rank = shape.Length;
        int inner = shape[rank - 1];
        if (inner == 0)
        {
            return;
        }

        int sa = aStrides[rank - 1], sb = bStrides[rank - 1];
        int outer = y.Length / inner;
        Span<int> index = stackalloc int[rank - 1];
        index.Clear();
        int aOff = 0, bOff = 0;
        for (int o = 0; o < outer; o++)
        {
            Span<TY> row = y.Slice(o * inner, inner);
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = f.Invoke(a[aOff + i * sa], b[bOff + i * sb]);
            }

            Odometer.Advance(index, shape, aStrides, ref aOff, bStrides, ref bOff);
        }
    }
}
