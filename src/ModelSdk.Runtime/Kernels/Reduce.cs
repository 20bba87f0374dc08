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
    /// <summary>The largest element (minus infinity, or the type's minimum, for an empty set).</summary>
    Max,
    /// <summary>The smallest element (plus infinity, or the type's maximum, for an empty set).</summary>
    Min,
    /// <summary>The product (1 for an empty set).</summary>
    Prod,
    /// <summary>The sum of absolute values.</summary>
    L1,
    /// <summary>The square root of the sum of squares.</summary>
    L2,
    /// <summary>The natural logarithm of the sum (minus infinity for an empty set).</summary>
    LogSum,
    /// <summary>The sum of squares.</summary>
    SumSquare,
}

/// <summary>
/// Reduces a tensor over some of its axes. The compiler drops size-1 axes and merges adjacent axes
/// that are both reduced or both kept, so the input reaches the kernel as alternating runs; each
/// contiguous input row is either folded into one output element (the last axis is reduced) or
/// combined elementwise into an output row (it is kept), both vectorised.
/// </summary>
public static class Reduce
{
    /// <summary>Computes <paramref name="y"/> from <paramref name="x"/>.</summary>
    /// <typeparam name="T">
    /// <c>float</c> or <c>double</c> for every operation; <c>int</c> and <c>long</c> for Sum, Max, Min, Prod, L1
    /// and SumSquare (wrapping on overflow); <c>sbyte</c> and <c>byte</c> for Max and Min.
    /// </typeparam>
    /// <param name="op">The reduction.</param>
    /// <param name="x">The input, dense in <paramref name="shape"/>.</param>
    /// <param name="y">The output, dense over the kept axes; must not overlap <paramref name="x"/>.</param>
    /// <param name="shape">The (collapsed) input shape, at least one dimension.</param>
    /// <param name="yStrides">Per dimension of <paramref name="shape"/>: its element stride in <paramref name="y"/> when kept, 0 when reduced.</param>
    public static void Run<T>(ReduceOp op, ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> yStrides)
        where T : unmanaged, INumber<T>
    {
        Check(x.Length, y.Length, shape, yStrides);
        switch (op)
        {
            case ReduceOp.Sum or ReduceOp.Mean or ReduceOp.LogSum:
                Walk<T, Add<T>>(x, y, shape, yStrides, default);
                break;
            case ReduceOp.SumSquare or ReduceOp.L2:
                Walk<T, AddSquares<T>>(x, y, shape, yStrides, default);
                break;
            case ReduceOp.L1:
                Walk<T, AddMagnitudes<T>>(x, y, shape, yStrides, default);
                break;
            case ReduceOp.Prod:
                Walk<T, Multiply<T>>(x, y, shape, yStrides, default);
                break;
            case ReduceOp.Max:
                Walk<T, Maximum<T>>(x, y, shape, yStrides, default);
                break;
            case ReduceOp.Min:
                Walk<T, Minimum<T>>(x, y, shape, yStrides, default);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }

        switch (op)
        {
            case ReduceOp.Mean when y.Length > 0:
                // An empty reduced set divides 0 by 0: NaN, as NumPy and ONNX Runtime give.
                T n = T.CreateTruncating(x.Length / y.Length);
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] /= n;
                }

                break;
            case ReduceOp.L2:
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = T.CreateTruncating(Math.Sqrt(double.CreateTruncating(y[i])));
                }

                break;
            case ReduceOp.LogSum:
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = T.CreateTruncating(Math.Log(double.CreateTruncating(y[i])));
                }

                break;
        }
    }

    /// <summary>Validates a reduction's loop nest against its buffers (shared with <see cref="LogSumExp"/>).</summary>
    internal static void Check(int xLength, int yLength, ReadOnlySpan<int> shape, ReadOnlySpan<int> yStrides)
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

        if (count != xLength || kept != yLength)
        {
            throw new ArgumentException($"Reduce of {count} elements to {kept} got an input of {xLength} and an output of {yLength}.");
        }
    }

    /// <summary>
    /// Sets every output element to <c>TOp.Identity</c> and combines each input element, mapped with the
    /// <paramref name="shift"/> of its output element (empty: zero), into its output element.
    /// </summary>
    internal static void Walk<T, TOp>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> yStrides, ReadOnlySpan<T> shift)
        where T : unmanaged, INumber<T>
        where TOp : IReduction<T>
    {
        y.Fill(TOp.Identity);
        int rank = shape.Length;
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
                y[yOff] = TOp.Combine(y[yOff], Fold<T, TOp>(row, shift.IsEmpty ? T.Zero : shift[yOff]));
            }
            else
            {
                CombineInto<T, TOp>(y.Slice(yOff, inner), row, shift.IsEmpty ? shift : shift.Slice(yOff, inner));
            }

            Odometer.Advance(index, shape, yStrides, ref yOff);
        }
    }

    // The mapped elements of a row combined into one value.
    private static T Fold<T, TOp>(ReadOnlySpan<T> row, T shift)
        where T : unmanaged, INumber<T>
        where TOp : IReduction<T>
    {
        int i = 0;
        T acc = TOp.Identity;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && row.Length >= Vector256<T>.Count)
        {
            int w = Vector256<T>.Count;
            Vector256<T> s = Vector256.Create(shift);
            Vector256<T> v = Vector256.Create(TOp.Identity);
            for (; i <= row.Length - w; i += w)
            {
                v = TOp.Combine(v, TOp.Map(Vector256.Create(row.Slice(i, w)), s));
            }

            for (int k = 0; k < w; k++)
            {
                acc = TOp.Combine(acc, v.GetElement(k));
            }
        }

        for (; i < row.Length; i++)
        {
            acc = TOp.Combine(acc, TOp.Map(row[i], shift));
        }

        return acc;
    }

    // acc[i] = Combine(acc[i], Map(row[i], shift[i])).
    private static void CombineInto<T, TOp>(Span<T> acc, ReadOnlySpan<T> row, ReadOnlySpan<T> shift)
        where T : unmanaged, INumber<T>
        where TOp : IReduction<T>
    {
        int i = 0;
        bool shifted = !shift.IsEmpty;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            int w = Vector256<T>.Count;
            for (; i <= row.Length - w; i += w)
            {
                Vector256<T> s = shifted ? Vector256.Create(shift.Slice(i, w)) : Vector256<T>.Zero;
                TOp.Combine(Vector256.Create(acc.Slice(i, w)), TOp.Map(Vector256.Create(row.Slice(i, w)), s)).CopyTo(acc.Slice(i));
            }
        }

        for (; i < row.Length; i++)
        {
            acc[i] = TOp.Combine(acc[i], TOp.Map(row[i], shifted ? shift[i] : T.Zero));
        }
    }

    private readonly struct Add<T> : IReduction<T>
        where T : unmanaged, INumber<T>
    {
        public static T Identity => T.Zero;

        public static T Map(T x, T shift) => x;

        public static T Combine(T a, T b) => a + b;

        public static Vector256<T> Map(Vector256<T> x, Vector256<T> shift) => x;

        public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    }

    private readonly struct AddSquares<T> : IReduction<T>
        where T : unmanaged, INumber<T>
    {
        public static T Identity => T.Zero;

        public static T Map(T x, T shift) => x * x;

        public static T Combine(T a, T b) => a + b;

        public static Vector256<T> Map(Vector256<T> x, Vector256<T> shift) => x * x;

        public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    }

    private readonly struct AddMagnitudes<T> : IReduction<T>
        where T : unmanaged, INumber<T>
    {
        public static T Identity => T.Zero;

        // Not T.Abs: it throws for the most negative integer, which ONNX Runtime wraps.
        public static T Map(T x, T shift) => T.IsNegative(x) ? -x : x;

        public static T Combine(T a, T b) => a + b;

        public static Vector256<T> Map(Vector256<T> x, Vector256<T> shift) => Vector256.Abs(x);

        public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    }

    private readonly struct Multiply<T> : IReduction<T>
        where T : unmanaged, INumber<T>
    {
        public static T Identity => T.One;

        public static T Map(T x, T shift) => x;

        public static T Combine(T a, T b) => a * b;

        public static Vector256<T> Map(Vector256<T> x, Vector256<T> shift) => x;

        public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a * b;
    }

    internal readonly struct Maximum<T> : IReduction<T>
        where T : unmanaged, INumber<T>
    {
        // Saturating: minus infinity for floating-point types, the minimum value for integers.
        public static T Identity => T.CreateSaturating(double.NegativeInfinity);

        public static T Map(T x, T shift) => x;

        public static T Combine(T a, T b) => T.Max(a, b);

        public static Vector256<T> Map(Vector256<T> x, Vector256<T> shift) => x;

        public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    }

    private readonly struct Minimum<T> : IReduction<T>
        where T : unmanaged, INumber<T>
    {
        public static T Identity => T.CreateSaturating(double.PositiveInfinity);

        public static T Map(T x, T shift) => x;

        public static T Combine(T a, T b) => T.Min(a, b);

        public static Vector256<T> Map(Vector256<T> x, Vector256<T> shift) => x;

        public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
    }
}

/// <summary>
/// One reduction for <see cref="Reduce.Walk{T, TOp}"/>: each element is mapped (given the shift of its
/// output element) and combined, starting from the identity; scalar and vector forms must agree.
/// </summary>
internal interface IReduction<T>
    where T : unmanaged, INumber<T>
{
    static abstract T Identity { get; }

    static abstract T Map(T x, T shift);

    static abstract T Combine(T a, T b);

    static abstract Vector256<T> Map(Vector256<T> x, Vector256<T> shift);

    static abstract Vector256<T> Combine(Vector256<T> a, Vector256<T> b);
}
