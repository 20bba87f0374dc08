using System.Numerics;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>How <see cref="Reduce"/> combines the elements of each reduced set.</summary>
public enum ReduceOp
{
    /// <summary>The sum (0 for an empty set).</summary>
    Sum,
    /// <summary>The arithmetic mean (NaN for an empty set of floating-point values).</summary>
    Mean,
}

/// <summary>
/// Reduces a tensor over some of its axes. The compiler drops size-1 axes and merges adjacent axes
/// that are both reduced or both kept, so the input reaches the kernel as alternating runs; each
/// contiguous input row is either summed into one output element (the last axis is reduced) or
/// added onto an output row (it is kept), both vectorised.
/// </summary>
public static class Reduce
{
    /// <summary>Computes <paramref name="y"/> from <paramref name="x"/>.</summary>
    /// <typeparam name="T"><c>float</c>, <c>int</c> or <c>long</c>.</typeparam>
    /// <param name="op">The reduction.</param>
    /// <param name="x">The input, dense in <paramref name="shape"/>.</param>
    /// <param name="y">The output, dense over the kept axes; must not overlap <paramref name="x"/>.</param>
    /// <param name="shape">The (collapsed) input shape, at least one dimension.</param>
    /// <param name="yStrides">Per dimension of <paramref name="shape"/>: its element stride in <paramref name="y"/> when kept, 0 when reduced.</param>
    public static void Run<T>(ReduceOp op, ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> yStrides)
        where T : unmanaged, INumber<T>
    {
        int rank = shape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || yStrides.Length != rank || yStrides[rank - 1] > 1)
        {
            throw new ArgumentException($"Shape and output strides must have the same rank, from 1 to {Odometer.MaxRank}, and the last stride must be 0 or 1.");
        }

        long count = 1, kept = 1;
        for (int d = 0; d < rank; d++)
        {
            count *= shape[d];
            kept *= yStrides[d] == 0 ? 1 : shape[d];
        }

        if (count != x.Length || kept != y.Length)
        {
            throw new ArgumentException($"Reduce of {count} elements to {kept} got an input of {x.Length} and an output of {y.Length}.");
        }

        y.Clear();
        int inner = shape[rank - 1];
        bool lastReduced = yStrides[rank - 1] == 0;
        int outer = inner == 0 ? 0 : x.Length / inner;
        Span<int> index = stackalloc int[rank - 1];
        index.Clear();
        int yOff = 0;
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<T> row = x.Slice(o * inner, inner);
            if (lastReduced)
            {
                y[yOff] += Sum(row);
            }
            else
            {
                AddTo(y.Slice(yOff, inner), row);
            }

            Odometer.Advance(index, shape, yStrides, ref yOff);
        }

        if (op == ReduceOp.Mean && y.Length > 0)
        {
            // An empty reduced set divides 0 by 0: NaN for floats, as NumPy and ONNX Runtime give.
            T n = T.CreateTruncating(x.Length / y.Length);
            for (int i = 0; i < y.Length; i++)
            {
                y[i] /= n;
            }
        }
    }

    private static T Sum<T>(ReadOnlySpan<T> row)
        where T : unmanaged, INumber<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && row.Length >= Vector256<T>.Count)
        {
            Vector256<T> acc = Vector256<T>.Zero;
            for (; i <= row.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                acc += Vector256.Create(row.Slice(i, Vector256<T>.Count));
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < row.Length; i++)
        {
            sum += row[i];
        }

        return sum;
    }

    private static void AddTo<T>(Span<T> y, ReadOnlySpan<T> row)
        where T : unmanaged, INumber<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i <= row.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                (Vector256.Create(y.Slice(i, Vector256<T>.Count)) + Vector256.Create(row.Slice(i, Vector256<T>.Count))).CopyTo(y.Slice(i));
            }
        }

        for (; i < row.Length; i++)
        {
            y[i] += row[i];
        }
    }
}
