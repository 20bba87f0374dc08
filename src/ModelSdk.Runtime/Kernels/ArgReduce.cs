using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The index of the largest or smallest element along one axis of a tensor viewed as
/// <c>[outer, axisLength, inner]</c> (ArgMax, ArgMin).
/// </summary>
public static class ArgReduce
{
    /// <summary>
    /// <c>y[o, i]</c> = the position along the axis of the extreme element of <c>x[o, :, i]</c>; among equal
    /// elements the first, or the last with <paramref name="selectLast"/>.
    /// </summary>
    /// <typeparam name="T">Any numeric element type.</typeparam>
    /// <param name="x">The input, dense.</param>
    /// <param name="y">The indices, <c>[outer, inner]</c>.</param>
    /// <param name="axisLength">Length of the reduced axis (at least 1 unless the input is empty).</param>
    /// <param name="inner">Product of the dimensions after the axis.</param>
    /// <param name="min">Whether to find the smallest element rather than the largest.</param>
    /// <param name="selectLast">Whether ties go to the last position rather than the first.</param>
    public static void Run<T>(ReadOnlySpan<T> x, Span<long> y, int axisLength, int inner, bool min, bool selectLast)
        where T : unmanaged, INumber<T>
    {
        long block = (long)axisLength * inner;
        if (axisLength < 0 || inner < 0 || (block == 0 ? y.Length != 0 : x.Length % block != 0 || x.Length / block * inner != y.Length))
        {
            throw new ArgumentException($"ArgReduce over [{axisLength},{inner}] blocks got an input of {x.Length} and an output of {y.Length}.");
        }

        if (y.IsEmpty)
        {
            return;
        }

        int outer = (int)(x.Length / block);
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<T> slab = x.Slice(o * (int)block, (int)block);
            Span<long> best = y.Slice(o * inner, inner);
            best.Clear();

            // Walks the slab row by row (contiguous memory); the best value so far is re-read through its index.
            for (int j = 1; j < axisLength; j++)
            {
                ReadOnlySpan<T> row = slab.Slice(j * inner, inner);
                for (int i = 0; i < inner; i++)
                {
                    T v = row[i], b = slab[(int)best[i] * inner + i];
                    if ((min ? v < b : v > b) || (selectLast && v == b))
                    {
                        best[i] = j;
                    }
                }
            }
        }
    }
}
