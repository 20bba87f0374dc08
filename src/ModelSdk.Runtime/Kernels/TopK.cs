using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The <c>k</c> largest or smallest elements along one axis of a tensor viewed as
/// <c>[outer, axisLength, inner]</c>, best first, with their positions. Equal values are ordered by
/// position, the lower first, as ONNX specifies and ONNX Runtime does.
/// </summary>
/// <remarks>
/// Each slice keeps its current best <c>k</c> positions in a binary heap whose root is the worst of them,
/// stored in place in the slice's <c>indices</c> (stride <c>inner</c>): <c>O(n log k)</c>, no scratch.
/// Popping the heap then leaves the positions sorted.
/// </remarks>
public static class TopK
{
    /// <summary>Selects the top <paramref name="k"/> elements of every slice.</summary>
    /// <typeparam name="T">Any numeric element type.</typeparam>
    /// <param name="x">The input, dense.</param>
    /// <param name="values">The selected elements, <c>[outer, k, inner]</c>.</param>
    /// <param name="indices">Their positions along the axis, same shape.</param>
    /// <param name="axisLength">Length of the axis.</param>
    /// <param name="inner">Product of the dimensions after the axis.</param>
    /// <param name="k">How many elements to select, at most <paramref name="axisLength"/>.</param>
    /// <param name="largest">Whether to select the largest elements rather than the smallest.</param>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> values, Span<long> indices, int axisLength, int inner, int k, bool largest)
        where T : unmanaged, INumber<T>
    {
        long block = (long)axisLength * inner;
        long outer = block == 0 ? 0 : x.Length / block;
        if (axisLength < 0 || inner < 0 || k < 0 || k > axisLength || (block == 0 ? x.Length != 0 : x.Length % block != 0)
            || values.Length != indices.Length || (block != 0 && values.Length != outer * k * inner))
        {
            throw new ArgumentException($"TopK of {k} over [{axisLength},{inner}] blocks got an input of {x.Length} and outputs of {values.Length} and {indices.Length}.");
        }

        if (largest)
        {
            Select<T, Larger<T>>(x, values, indices, axisLength, inner, k, (int)outer);
        }
        else
        {
            Select<T, Smaller<T>>(x, values, indices, axisLength, inner, k, (int)outer);
        }
    }

    private static void Select<T, TOrder>(ReadOnlySpan<T> x, Span<T> values, Span<long> indices, int axisLength, int inner, int k, int outer)
        where T : unmanaged, INumber<T>
        where TOrder : IOrder<T>
    {
        if (k == 0)
        {
            return;
        }

        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                var slice = new Slice<T>(x.Slice(o * axisLength * inner + i), indices.Slice(o * k * inner + i), inner);
                for (int j = 0; j < k; j++)
                {
                    slice.Heap(j) = j;
                }

                for (int j = k / 2 - 1; j >= 0; j--)
                {
                    SiftDown<T, TOrder>(slice, j, k);
                }

                for (int j = k; j < axisLength; j++)
                {
                    // A later position never beats an equal value already held.
                    if (TOrder.Before(slice.Value(j), slice.Value(slice.Heap(0))))
                    {
                        slice.Heap(0) = j;
                        SiftDown<T, TOrder>(slice, 0, k);
                    }
                }

                for (int end = k - 1; end > 0; end--)
                {
                    (slice.Heap(0), slice.Heap(end)) = (slice.Heap(end), slice.Heap(0));
                    SiftDown<T, TOrder>(slice, 0, end);
                }

                Span<T> v = values.Slice(o * k * inner + i);
                for (int j = 0; j < k; j++)
                {
                    v[j * inner] = slice.Value(slice.Heap(j));
                }
            }
        }
    }

    // Restores the heap below position p of a heap of `count` entries: every parent ranks after its children.
    private static void SiftDown<T, TOrder>(Slice<T> slice, int p, int count)
        where T : unmanaged, INumber<T>
        where TOrder : IOrder<T>
    {
        while (true)
        {
            int worst = p, left = 2 * p + 1, right = left + 1;
            if (left < count && Ranks<T, TOrder>(slice, slice.Heap(worst), slice.Heap(left)))
            {
                worst = left;
            }

            if (right < count && Ranks<T, TOrder>(slice, slice.Heap(worst), slice.Heap(right)))
            {
                worst = right;
            }

            if (worst == p)
            {
                return;
            }

            (slice.Heap(p), slice.Heap(worst)) = (slice.Heap(worst), slice.Heap(p));
            p = worst;
        }
    }

    // Whether position a comes before position b in the result: the better value, or the lower position of equal values.
    private static bool Ranks<T, TOrder>(Slice<T> slice, long a, long b)
        where T : unmanaged, INumber<T>
        where TOrder : IOrder<T>
    {
        T va = slice.Value(a), vb = slice.Value(b);
        return TOrder.Before(va, vb) || (va == vb && a < b);
    }

    // One slice: its elements and its heap, both `stride` apart.
    private readonly ref struct Slice<T>(ReadOnlySpan<T> x, Span<long> heap, int stride)
        where T : unmanaged
    {
        private readonly ReadOnlySpan<T> _x = x;
        private readonly Span<long> _heap = heap;
        private readonly int _stride = stride;

        public T Value(long position) => _x[(int)position * _stride];

        public ref long Heap(int p) => ref _heap[p * _stride];
    }

    private interface IOrder<T>
    {
        static abstract bool Before(T a, T b);
    }

    private readonly struct Larger<T> : IOrder<T>
        where T : INumber<T>
    {
        public static bool Before(T a, T b) => a > b;
    }

    private readonly struct Smaller<T> : IOrder<T>
        where T : INumber<T>
    {
        public static bool Before(T a, T b) => a < b;
    }
}
