using System.Numerics;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Running sums along one axis. The axis is read from its tensor when the kernel runs, so a model may
/// compute it (it never changes the output shape).
/// </summary>
public static class CumSum
{
    /// <summary>
    /// <c>y[…, j, …] = sum of x[…, t, …]</c> for <c>t ≤ j</c> (or <c>t ≥ j</c> with <paramref name="reverse"/>), the bound
    /// excluded with <paramref name="exclusive"/>.
    /// </summary>
    /// <typeparam name="T">Any numeric element type (integers wrap on overflow).</typeparam>
    /// <typeparam name="TAxis"><c>int</c> or <c>long</c>.</typeparam>
    /// <param name="x">The input, dense in <paramref name="shape"/>.</param>
    /// <param name="axis">One element: the axis, negative counting from the back.</param>
    /// <param name="y">The output, same shape; must not overlap <paramref name="x"/>.</param>
    /// <param name="shape">The input shape, at least one dimension.</param>
    /// <param name="exclusive">Whether each sum leaves out the element at its own position.</param>
    /// <param name="reverse">Whether to sum from the end of the axis.</param>
    public static void Run<T, TAxis>(ReadOnlySpan<T> x, ReadOnlySpan<TAxis> axis, Span<T> y, ReadOnlySpan<int> shape, bool exclusive, bool reverse)
        where T : unmanaged, INumber<T>
        where TAxis : unmanaged, IBinaryInteger<TAxis>
    {
        int rank = shape.Length;
        long a = axis.Length == 1 ? long.CreateTruncating(axis[0]) : long.MinValue;
        if (a < 0)
        {
            a += rank;
        }

        if (a < 0 || a >= rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), $"CumSum needs one axis in [{-rank}, {rank - 1}], but got {axis.Length} values{(axis.Length == 1 ? $" ({axis[0]})" : "")}.");
        }

        long count = 1, inner = 1;
        for (int d = 0; d < rank; d++)
        {
            count *= shape[d];
            inner *= d > a ? shape[d] : 1;
        }

        if (count != x.Length || x.Length != y.Length)
        {
            throw new ArgumentException($"CumSum over {count} elements got an input of {x.Length} and an output of {y.Length}.");
        }

        int n = shape[(int)a];
        int block = n * (int)inner;
        if (block == 0)
        {
            return;
        }

        for (int start = 0; start < x.Length; start += block)
        {
            ReadOnlySpan<T> xs = x.Slice(start, block);
            Span<T> ys = y.Slice(start, block);
            if (inner == 1)
            {
                Line(xs, ys, exclusive, reverse);
            }
            else
            {
                Rows(xs, ys, n, (int)inner, exclusive, reverse);
            }
        }
    }

    // One contiguous line: a plain running sum.
    private static void Line<T>(ReadOnlySpan<T> x, Span<T> y, bool exclusive, bool reverse)
        where T : unmanaged, INumber<T>
    {
        T sum = T.Zero;
        int step = reverse ? -1 : 1;
        for (int j = reverse ? x.Length - 1 : 0, c = 0; c < x.Length; j += step, c++)
        {
            T next = sum + x[j];
            y[j] = exclusive ? sum : next;
            sum = next;
        }
    }

    // The axis is not the last: whole rows of `inner` contiguous elements are added at once.
    private static void Rows<T>(ReadOnlySpan<T> x, Span<T> y, int n, int inner, bool exclusive, bool reverse)
        where T : unmanaged, INumber<T>
    {
        int first = reverse ? n - 1 : 0, step = reverse ? -1 : 1;
        Span<T> row = y.Slice(first * inner, inner);
        if (exclusive)
        {
            row.Clear();
        }
        else
        {
            x.Slice(first * inner, inner).CopyTo(row);
        }

        for (int c = 1, prev = first, j = first + step; c < n; c++, prev = j, j += step)
        {
            // Exclusive sums add the previous row's input, inclusive ones this row's.
            int addend = exclusive ? prev : j;
            Add(y.Slice(prev * inner, inner), x.Slice(addend * inner, inner), y.Slice(j * inner, inner));
        }
    }

    private static void Add<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> sum)
        where T : unmanaged, INumber<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            int w = Vector256<T>.Count;
            for (; i <= a.Length - w; i += w)
            {
                (Vector256.Create(a.Slice(i, w)) + Vector256.Create(b.Slice(i, w))).CopyTo(sum.Slice(i));
            }
        }

        for (; i < a.Length; i++)
        {
            sum[i] = a[i] + b[i];
        }
    }
}
