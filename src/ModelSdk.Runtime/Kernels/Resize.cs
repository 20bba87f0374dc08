namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Interpolating resize (linear or cubic, over any number of axes) of a float32 tensor. The compiler
/// resolves coordinates and coefficients once: along each axis, every output position reads a fixed
/// number of input positions ("taps") with weights. An output element is the sum over every
/// combination of one tap per axis of the product of the weights times the input element; axes that
/// are not resized have one tap of weight 1, so a bilinear resize of NCHW sums four terms.
/// </summary>
public static class Resize
{
    /// <summary>Most tap combinations over the outer axes (the stack holds one offset and weight each).</summary>
    public const int MaxCombinations = 4096;

    /// <summary>Writes the resized <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <param name="x">Input, dense.</param>
    /// <param name="offsets">
    /// Per axis, one after another: for each output position, <c>taps[d]</c> input offsets (index × input stride).
    /// A first tap of -1 marks a position outside the input (tf_crop_and_resize), whose output is <paramref name="extrapolation"/>.
    /// </param>
    /// <param name="weights">The weight of each tap, laid out as <paramref name="offsets"/>.</param>
    /// <param name="y">Output, dense in <paramref name="outputShape"/>.</param>
    /// <param name="outputShape">Output shape, at least one dimension.</param>
    /// <param name="taps">Taps per output position along each axis.</param>
    /// <param name="extrapolation">The value of positions outside the input.</param>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights, Span<float> y, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> taps, float extrapolation)
    {
        int rank = outputShape.Length;
        long count = 1, tables = 0, combinations = 1;
        bool valid = rank > 0 && rank <= Odometer.MaxRank && taps.Length == rank;
        for (int d = 0; d < rank && valid; d++)
        {
            valid = taps[d] >= 1 && outputShape[d] >= 0;
            count *= outputShape[d];
            tables += (long)outputShape[d] * taps[d];
            combinations = Math.Min(combinations * (d < rank - 1 ? taps[d] : 1), MaxCombinations + 1L);
        }

        if (!valid || count != y.Length || tables != offsets.Length
            || weights.Length != offsets.Length || combinations > MaxCombinations)
        {
            throw new ArgumentException($"Resize of {y.Length} elements got {offsets.Length} offsets and {weights.Length} weights for a shape of rank {rank}.");
        }

        if (count == 0)
        {
            return;
        }

        int last = rank - 1, width = outputShape[last], lastTaps = taps[last];
        int lastTable = offsets.Length - width * lastTaps;
        Span<int> index = stackalloc int[last];
        Span<int> comboOffsets = stackalloc int[(int)combinations];
        Span<float> comboWeights = stackalloc float[(int)combinations];
        index.Clear();
        for (int row = 0, rows = y.Length / width; row < rows; row++)
        {
            int combos = OuterCombinations(offsets, weights, outputShape, taps, index, comboOffsets, comboWeights);
            Span<float> dst = y.Slice(row * width, width);
            if (combos == 0)
            {
                dst.Fill(extrapolation);
            }
            else
            {
                for (int o = 0; o < width; o++)
                {
                    int entry = lastTable + o * lastTaps;
                    if (offsets[entry] < 0)
                    {
                        dst[o] = extrapolation;
                        continue;
                    }

                    float sum = 0;
                    for (int c = 0; c < combos; c++)
                    {
                        float partial = 0;
                        int source = comboOffsets[c];
                        for (int t = 0; t < lastTaps; t++)
                        {
                            partial += weights[entry + t] * x[source + offsets[entry + t]];
                        }

                        sum += comboWeights[c] * partial;
                    }

                    dst[o] = sum;
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

    // Every combination of one tap per outer axis at output position `index`: its summed offset and
    // product of weights. Returns the count, or 0 when a position is outside the input.
    private static int OuterCombinations(ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> taps,
        ReadOnlySpan<int> index, Span<int> comboOffsets, Span<float> comboWeights)
    {
        comboOffsets[0] = 0;
        comboWeights[0] = 1;
        int combos = 1;
        for (int d = 0, table = 0; d < index.Length; table += outputShape[d] * taps[d], d++)
        {
            int entry = table + index[d] * taps[d];
            if (offsets[entry] < 0)
            {
                return 0;
            }

            if (taps[d] == 1)
            {
                for (int c = 0; c < combos; c++)
                {
                    comboOffsets[c] += offsets[entry];
                    comboWeights[c] *= weights[entry];
                }

                continue;
            }

            // Expand in place from the back, so each existing combination is read before it is overwritten.
            for (int c = combos - 1; c >= 0; c--)
            {
                for (int t = taps[d] - 1; t >= 0; t--)
                {
                    comboOffsets[c * taps[d] + t] = comboOffsets[c] + offsets[entry + t];
                    comboWeights[c * taps[d] + t] = comboWeights[c] * weights[entry + t];
                }
            }

            combos *= taps[d];
        }

        return combos;
    }
}
