namespace ModelSdk.Compiler.Quantization;

/// <summary>
/// Histogram of |x| over [0, <see cref="AbsMax"/>] in equal bins (2048 by default, as TensorRT and ONNX
/// Runtime use), from which the percentile and entropy (KL divergence) thresholds are found.
/// Counting is sequential, so the result never depends on threads or timing.
/// </summary>
public sealed class AbsHistogram
{
    /// <summary>The default number of bins.</summary>
    public const int DefaultBins = 2048;

    private readonly float _scale;

    /// <summary>Creates an empty histogram over [0, <paramref name="absMax"/>].</summary>
    public AbsHistogram(float absMax, int bins = DefaultBins)
    {
        if (bins < 1 || !(absMax >= 0) || !float.IsFinite(absMax))
        {
            throw new ArgumentOutOfRangeException(nameof(absMax), "The range must be finite and non-negative, with at least one bin.");
        }

        AbsMax = absMax;
        Counts = new long[bins];
        _scale = absMax > 0 ? bins / absMax : 0;
    }

    /// <summary>Upper end of the last bin.</summary>
    public float AbsMax { get; }

    /// <summary>Count per bin; bin i holds |x| in [i·w, (i+1)·w), the last bin also AbsMax and beyond.</summary>
    public long[] Counts { get; }

    /// <summary>Width of a bin.</summary>
    public double BinWidth => (double)AbsMax / Counts.Length;

    /// <summary>Number of values counted.</summary>
    public long Total { get; private set; }

    /// <summary>Values that were exactly zero (counted in bin 0 too).</summary>
    public long Zeros { get; private set; }

    /// <summary>Counts the finite values of <paramref name="values"/> (NaN and infinities are skipped).</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        long[] counts = Counts;
        int last = counts.Length - 1;
        long added = 0, zeros = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                continue;
            }

            zeros += v == 0 ? 1 : 0;
            float bin = MathF.Abs(v) * _scale;
            counts[bin >= last ? last : (int)bin]++;
            added++;
        }

        Total += added;
        Zeros += zeros;
    }

    /// <summary>
    /// The smallest bin edge below which at least <paramref name="percentile"/>% of the values lie
    /// (the upper edge of the bin where the cumulative count reaches it): at most one bin width above
    /// the exact quantile, and never above <see cref="AbsMax"/>.
    /// </summary>
    public float PercentileThreshold(double percentile)
    {
        if (!(percentile > 0 && percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), "The percentile must be in (0, 100].");
        }

        if (Total == 0)
        {
            return 0;
        }

        double target = percentile / 100 * Total;
        long cumulative = 0;
        for (int i = 0; i < Counts.Length; i++)
        {
            cumulative += Counts[i];
            if (cumulative >= target)
            {
                return Edge(i + 1);
            }
        }

        return AbsMax;
    }

    /// <summary>
    /// The clipping threshold that minimises KL(P‖Q) (TensorRT's entropy calibration): for each candidate
    /// count i ≥ <paramref name="quantizedBins"/> of kept bins, P is the first i bins with everything above
    /// folded into the last one, and Q is P's bins merged into <paramref name="quantizedBins"/> levels and
    /// spread back evenly over the bins where P is non-zero. Returns the upper edge of the best i; never
    /// above <see cref="AbsMax"/>. Ties keep the smaller threshold, so the result is stable.
    /// Exact zeros are left out of P and Q: zero is exactly representable whatever the threshold, and
    /// counted in bin 0 the zeros of a ReLU's output (often half its values) would make every merge of
    /// bin 0 with its neighbours look costly, driving the search to the smallest threshold.
    /// </summary>
    public float EntropyThreshold(int quantizedBins = 128)
    {
        int bins = Counts.Length;
        if (Total == 0)
        {
            return 0;
        }

        if (bins <= quantizedBins)
        {
            return AbsMax;
        }

        long[] counts = (long[])Counts.Clone();
        counts[0] -= Zeros;
        var suffix = new long[bins + 1];
        for (int i = bins - 1; i >= 0; i--)
        {
            suffix[i] = suffix[i + 1] + counts[i];
        }

        if (suffix[0] == 0)
        {
            return AbsMax;
        }

        var p = new double[bins];
        var q = new double[bins];
        double best = double.PositiveInfinity;
        int bestBins = bins;
        for (int i = quantizedBins; i <= bins; i++)
        {
            for (int j = 0; j < i; j++)
            {
                p[j] = counts[j];
            }

            p[i - 1] += suffix[i]; // outliers clip to the threshold
            Array.Clear(q, 0, i);
            for (int level = 0; level < quantizedBins; level++)
            {
                // Level k covers bins [k·i/n, (k+1)·i/n): every bin belongs to exactly one level.
                int start = (int)((long)level * i / quantizedBins);
                int end = (int)((long)(level + 1) * i / quantizedBins);
                double sum = 0;
                int nonZero = 0;
                for (int j = start; j < end; j++)
                {
                    sum += counts[j];
                    nonZero += p[j] != 0 ? 1 : 0;
                }

                if (nonZero == 0)
                {
                    continue;
                }

                double share = sum / nonZero;
                for (int j = start; j < end; j++)
                {
                    q[j] = p[j] != 0 ? share : 0;
                }
            }

            double divergence = KlDivergence(p.AsSpan(0, i), q.AsSpan(0, i));
            if (divergence < best)
            {
                best = divergence;
                bestBins = i;
            }
        }

        return Edge(bestBins);
    }

    private float Edge(int bins) => bins >= Counts.Length ? AbsMax : (float)(bins * BinWidth);

    /// <summary>
    /// KL(P‖Q) after normalising both and smoothing Q where it is zero but P is not (the clipped outliers
    /// of the last bin are absent from Q's merged levels), as MXNet and ONNX Runtime smooth with ε = 1e-4.
    /// </summary>
    private static double KlDivergence(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        double sumP = 0, sumQ = 0;
        int zerosQ = 0, nonZerosQ = 0;
        for (int j = 0; j < p.Length; j++)
        {
            sumP += p[j];
            sumQ += q[j];
            if (q[j] == 0)
            {
                zerosQ++;
            }
            else
            {
                nonZerosQ++;
            }
        }

        if (sumP == 0 || sumQ == 0 || nonZerosQ == 0)
        {
            return double.PositiveInfinity;
        }

        const double Epsilon = 1e-4;
        double take = Epsilon * zerosQ / nonZerosQ;
        double divergence = 0;
        for (int j = 0; j < p.Length; j++)
        {
            if (p[j] == 0)
            {
                continue;
            }

            double pj = p[j] / sumP;
            double qj = q[j] == 0 ? Epsilon : Math.Max(q[j] / sumQ - take, Epsilon * Epsilon);
            divergence += pj * Math.Log(pj / qj);
        }

        return divergence;
    }
}
