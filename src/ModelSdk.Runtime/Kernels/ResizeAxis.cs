using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Interpolating resize (linear or cubic) of a float32 tensor along one axis; an N-D resize is one call
/// per resized axis, since both interpolations are separable. The compiler resolves the coordinate
/// transformation once: each output position along the axis reads a fixed number of input positions
/// ("taps") with weights. With the axis viewed as <c>[outer, length, inner]</c>, an output row of
/// <c>inner</c> elements is the weighted sum of whole input rows, which vectorizes.
/// </summary>
public static class ResizeAxis
{
    /// <summary>Writes <paramref name="x"/> resized along the axis into <paramref name="y"/>.</summary>
    /// <param name="x">Input, dense, <c>outer × inLength × inner</c>.</param>
    /// <param name="indices">
    /// For each output position, <paramref name="taps"/> input positions along the axis. A first tap of -1 marks
    /// a position outside the region of interest (tf_crop_and_resize), whose output is <paramref name="extrapolation"/>.
    /// </param>
    /// <param name="weights">The weight of each tap, laid out as <paramref name="indices"/>.</param>
    /// <param name="y">Output, dense, <c>outer × (indices.Length / taps) × inner</c>.</param>
    /// <param name="outer">Product of the dimensions before the axis.</param>
    /// <param name="inner">Product of the dimensions after the axis.</param>
    /// <param name="taps">Input positions read per output position.</param>
    /// <param name="extrapolation">The value of positions outside the region of interest.</param>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<int> indices, ReadOnlySpan<float> weights, Span<float> y, int outer, int inner, int taps, float extrapolation)
    {
        long rows = (long)outer * inner;
        if (taps < 1 || outer < 0 || inner < 0 || indices.Length != weights.Length || indices.Length % taps != 0
            || (rows == 0 ? x.Length != 0 : x.Length % rows != 0) || rows * (indices.Length / taps) != y.Length)
        {
            throw new ArgumentException($"ResizeAxis sizes do not match: input {x.Length}, output {y.Length}, {indices.Length} indices in taps of {taps}, outer {outer}, inner {inner}.");
        }

        if (y.Length == 0)
        {
            return;
        }

        int inLength = (int)(x.Length / rows), outLength = indices.Length / taps;
        for (int j = 0; j < outLength; j++)
        {
            for (int t = indices[j * taps] < 0 ? taps : 0; t < taps; t++)
            {
                if ((uint)indices[(j * taps) + t] >= (uint)inLength)
                {
                    throw new ArgumentException($"ResizeAxis index {indices[(j * taps) + t]} is outside an axis of {inLength}.");
                }
            }
        }

        int inBlock = inLength * inner, outBlock = outLength * inner;
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<float> source = x.Slice(o * inBlock, inBlock);
            for (int j = 0; j < outLength; j++)
            {
                Span<float> dst = y.Slice((o * outBlock) + (j * inner), inner);
                ReadOnlySpan<int> rowIndices = indices.Slice(j * taps, taps);
                ReadOnlySpan<float> rowWeights = weights.Slice(j * taps, taps);
                if (rowIndices[0] < 0)
                {
                    dst.Fill(extrapolation);
                }
                else if (inner == 1)
                {
                    float sum = 0;
                    for (int t = 0; t < taps; t++)
                    {
                        sum += rowWeights[t] * source[rowIndices[t]];
                    }

                    dst[0] = sum;
                }
                else
                {
                    WeightedRows(source, inner, rowIndices, rowWeights, dst);
                }
            }
        }
    }

    // dst = Σ_t weights[t] · source row indices[t] (rows of dst.Length elements).
    private static void WeightedRows(ReadOnlySpan<float> source, int inner, ReadOnlySpan<int> indices, ReadOnlySpan<float> weights, Span<float> dst)
    {
        int i = 0;
        for (; i <= inner - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> sum = Vector256<float>.Zero;
            for (int t = 0; t < indices.Length; t++)
            {
                sum += Vector256.Create(source.Slice((indices[t] * inner) + i, Vector256<float>.Count)) * Vector256.Create(weights[t]);
            }

            sum.CopyTo(dst.Slice(i));
        }

        for (; i < inner; i++)
        {
            float sum = 0;
            for (int t = 0; t < indices.Length; t++)
            {
                sum += weights[t] * source[(indices[t] * inner) + i];
            }

            dst[i] = sum;
        }
    }
}
