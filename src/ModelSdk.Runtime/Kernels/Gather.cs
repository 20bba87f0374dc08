using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Gather along one axis: <c>y[o, k, i] = data[o, indices[k], i]</c> with <c>data</c> viewed as
/// <c>[outer, axisLength, inner]</c> and the indices flattened. Negative indices count from the end.
/// </summary>
public static class Gather
{
    /// <summary>Gathers the slices of <paramref name="data"/> named by <paramref name="indices"/>.</summary>
    /// <typeparam name="T">Element type of the data; only copied, never interpreted.</typeparam>
    /// <typeparam name="TIndex"><c>int</c> or <c>long</c>.</typeparam>
    /// <param name="data">The data, dense, <paramref name="outer"/> × <paramref name="axisLength"/> × <paramref name="inner"/>.</param>
    /// <param name="indices">Positions along the axis, in <c>[-axisLength, axisLength)</c>.</param>
    /// <param name="y">The output, <paramref name="outer"/> × indices × <paramref name="inner"/>.</param>
    /// <param name="outer">Product of the data dimensions before the axis.</param>
    /// <param name="axisLength">Length of the gathered axis.</param>
    /// <param name="inner">Product of the data dimensions after the axis.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside <c>[-axisLength, axisLength)</c>.</exception>
    public static void Run<T, TIndex>(ReadOnlySpan<T> data, ReadOnlySpan<TIndex> indices, Span<T> y, int outer, int axisLength, int inner)
        where T : unmanaged
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (outer < 0 || axisLength < 0 || inner < 0
            || (long)outer * axisLength * inner != data.Length
            || (long)outer * indices.Length * inner != y.Length)
        {
            throw new ArgumentException($"Gather sizes do not match: data {data.Length}, indices {indices.Length}, output {y.Length} for [{outer},{axisLength},{inner}].");
        }

        if (y.Length == 0)
        {
            return;
        }

        int count = indices.Length;
        for (int o = 0; o < outer; o++)
        {
            int dataBlock = o * axisLength;
            int yRow = o * count;
            for (int k = 0; k < count; k++)
            {
                long index = long.CreateTruncating(indices[k]);
                if (index < 0)
                {
                    index += axisLength;
                }

                if ((ulong)index >= (ulong)axisLength)
                {
                    throw new ArgumentOutOfRangeException(nameof(indices),
                        $"Gather index {indices[k]} (position {k}) is outside [-{axisLength}, {axisLength - 1}].");
                }

                int src = (dataBlock + (int)index) * inner;
                int dst = (yRow + k) * inner;
                if (inner == 1)
                {
                    y[dst] = data[src];
                }
                else
                {
                    data.Slice(src, inner).CopyTo(y.Slice(dst, inner));
                }
            }
        }
    }
}
