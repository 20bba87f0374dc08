using ModelSdk.Compiler.Quantization;

namespace ModelSdk.Compiler.Tests.Quantization;

/// <summary>The calibration methods on synthetic distributions whose answer is known, and the scale/zero-point rules.</summary>
public class CalibrationMethodTests
{
    private static readonly CalibrationSettings Settings = new();

    [Fact]
    public void Minmax_of_a_uniform_distribution_is_its_observed_range()
    {
        var random = new Random(1);
        float[] values = Enumerable.Range(0, 100_000).Select(_ => (float)(random.NextDouble() * 8 - 3)).ToArray();

        TensorCalibration c = Calibrate(values);

        Assert.Equal(values.Min(), c.MinMax.Min);
        Assert.Equal(values.Max(), c.MinMax.Max);
        Assert.InRange(c.MinMax.Min, -3f, -2.999f);
        Assert.InRange(c.MinMax.Max, 4.999f, 5f);
        Assert.Equal(values.Length, c.Count);
    }

    [Fact]
    public void Percentile_cuts_the_outliers_of_a_gaussian_at_the_expected_quantile()
    {
        var random = new Random(2);
        var values = new List<float>();
        for (int i = 0; i < 1_000_000; i++)
        {
            values.Add((float)Gaussian(random));
        }

        for (int i = 0; i < 50; i++)
        {
            values.Add(i % 2 == 0 ? 20f : -20f); // 0.005% outliers, inside the 0.01% that 99.99 drops
        }

        TensorCalibration c = Calibrate(values.ToArray(), new CalibrationSettings(Percentile: 99.99));

        // The exact empirical 99.99th percentile of |x|: the 50 outliers take half of the 0.01% tail, so
        // it is about the 99.995th percentile of |N(0,1)|, 4.06.
        float[] sorted = values.Select(MathF.Abs).Order().ToArray();
        float exact = sorted[(int)Math.Ceiling(0.9999 * sorted.Length) - 1];
        double binWidth = c.Histogram.BinWidth;
        Assert.InRange(c.Percentile.Max, exact, exact + binWidth + 1e-6);
        Assert.InRange(c.Percentile.Max, 3.9f, 4.2f);
        Assert.Equal(-c.Percentile.Max, c.Percentile.Min);
        Assert.Equal(20f, c.MinMax.Max);
    }

    [Fact]
    public void Percentile_100_keeps_the_whole_range()
    {
        float[] values = Enumerable.Range(0, 1000).Select(i => i / 100f - 2f).ToArray();
        TensorCalibration c = Calibrate(values, new CalibrationSettings(Percentile: 100));
        Assert.Equal(c.MinMax, c.Percentile);
    }

    [Fact]
    public void Entropy_keeps_the_whole_range_of_a_uniform_distribution()
    {
        // Uniform values are represented best by spreading all 128 levels over the whole range: any clip
        // piles the clipped mass into the last bin, which the merged levels cannot represent.
        var random = new Random(3);
        float[] values = Enumerable.Range(0, 1_000_000).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

        TensorCalibration c = Calibrate(values);

        Assert.InRange(c.Entropy.Max, 0.99f * c.MinMax.Max, c.MinMax.Max);
        Assert.InRange(c.Entropy.Min, c.MinMax.Min, 0.99f * c.MinMax.Min);
    }

    [Fact]
    public void Entropy_clips_the_far_outliers_of_a_gaussian_and_is_stable()
    {
        var random = new Random(4);
        var values = new List<float>();
        for (int i = 0; i < 1_000_000; i++)
        {
            values.Add((float)Gaussian(random));
        }

        values.AddRange([100f, -100f, 80f, -90f, 95f]);

        TensorCalibration c = Calibrate(values.ToArray());
        TensorCalibration again = Calibrate(values.ToArray());

        // The bulk (|x| < 5) must keep its resolution: the threshold lies past 2σ and far below the outliers.
        Assert.InRange(c.Entropy.Max, 2.5f, 12f);
        Assert.Equal(-c.Entropy.Max, c.Entropy.Min);
        Assert.Equal(c.Entropy, again.Entropy);
        Assert.Equal(c.Histogram.Counts, again.Histogram.Counts);
    }

    [Fact]
    public void Entropy_and_percentile_never_go_beyond_the_observed_range()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = random.Next(1, 5000);
            double shift = random.NextDouble() * 4 - 1;
            float[] values = Enumerable.Range(0, n).Select(_ => (float)(Gaussian(random) * random.NextDouble() * 3 + shift)).ToArray();

            TensorCalibration c = Calibrate(values);

            foreach (CalibrationRange r in new[] { c.Entropy, c.Percentile })
            {
                Assert.InRange(r.Min, c.MinMax.Min, 0f + Math.Max(0f, c.MinMax.Min));
                Assert.InRange(r.Max, Math.Min(0f, c.MinMax.Max), c.MinMax.Max);
            }
        }
    }

    [Fact]
    public void Non_negative_activations_keep_zero_as_their_lower_end()
    {
        var random = new Random(6);
        float[] relu = Enumerable.Range(0, 50_000).Select(_ => MathF.Max(0, (float)Gaussian(random))).ToArray();

        TensorCalibration c = Calibrate(relu);

        Assert.Equal(0f, c.MinMax.Min);
        Assert.Equal(0f, c.Entropy.Min);
        Assert.Equal(0f, c.Percentile.Min);
    }

    [Fact]
    public void Non_finite_values_are_counted_and_ignored()
    {
        TensorCalibration c = Calibrate([1f, float.NaN, -2f, float.PositiveInfinity, 3f, float.NegativeInfinity]);

        Assert.Equal(3, c.NonFinite);
        Assert.Equal(3, c.Count);
        Assert.Equal(new CalibrationRange(-2f, 3f), c.MinMax);
        Assert.Equal(3, c.Histogram.Total);
    }

    [Fact]
    public void A_tensor_with_no_finite_value_has_an_empty_range()
    {
        TensorCalibration c = Calibrate([float.NaN]);
        Assert.Equal(new CalibrationRange(0, 0), c.MinMax);
        Assert.Equal(new CalibrationRange(0, 0), c.Entropy);
        Assert.Equal(1f, c.MinMax.Uint8Asymmetric().Scale);
    }

    [Fact]
    public void Uint8_asymmetric_maps_the_range_onto_0_to_255_with_an_exact_zero()
    {
        QuantizationParameters p = QuantizationMath.Uint8Asymmetric(-1f, 3f);
        Assert.Equal(4f / 255f, p.Scale);
        Assert.Equal(64, p.ZeroPoint); // round(255/4 = 63.75)
        Assert.Equal(0f, QuantizationMath.Dequantize(p.ZeroPoint, p));
        Assert.Equal(64, QuantizationMath.Quantize(0f, p, 0, 255));
        Assert.Equal(0, QuantizationMath.Quantize(-5f, p, 0, 255));
        Assert.Equal(255, QuantizationMath.Quantize(5f, p, 0, 255));

        // A range that excludes 0 is widened to contain it.
        Assert.Equal(new QuantizationParameters(6f / 255f, 0), QuantizationMath.Uint8Asymmetric(2f, 6f));
        Assert.Equal(new QuantizationParameters(6f / 255f, 255), QuantizationMath.Uint8Asymmetric(-6f, -2f));
        Assert.Equal(new QuantizationParameters(1f, 0), QuantizationMath.Uint8Asymmetric(0f, 0f));
    }

    [Fact]
    public void Zero_points_round_half_to_even()
    {
        // -min/scale = 0.5 × 255 / 1 … chosen so that the exact zero point is k + 0.5.
        QuantizationParameters p = QuantizationMath.Uint8Asymmetric(-0.5f, 254.5f);
        Assert.Equal(1f, p.Scale);
        Assert.Equal(0, p.ZeroPoint);
        Assert.Equal(2, QuantizationMath.Uint8Asymmetric(-2.5f, 252.5f).ZeroPoint);
        Assert.Equal(4, QuantizationMath.Quantize(4.5f, new QuantizationParameters(1f, 0), 0, 255));
        Assert.Equal(6, QuantizationMath.Quantize(5.5f, new QuantizationParameters(1f, 0), 0, 255));
    }

    [Fact]
    public void Int8_symmetric_uses_the_larger_magnitude_and_the_restricted_range()
    {
        QuantizationParameters p = QuantizationMath.Int8Symmetric(-2f, 5.08f);
        Assert.Equal(0, p.ZeroPoint);
        Assert.Equal(5.08f / 127f, p.Scale);
        Assert.Equal(127, QuantizationMath.Quantize(5.08f, p, -127, 127));
        Assert.Equal(-127, QuantizationMath.Quantize(-100f, p, -127, 127));
        Assert.Equal(new QuantizationParameters(1f, 0), QuantizationMath.Int8Symmetric(0, 0));
        Assert.Equal(new CalibrationRange(-1f, 3f).Int8Symmetric(), QuantizationMath.Int8Symmetric(-3f, 1f));
    }

    private static TensorCalibration Calibrate(float[] values, CalibrationSettings? settings = null)
    {
        settings ??= Settings;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        long count = 0, nonFinite = 0;

        // In chunks, as the calibrator sees a tensor sample by sample.
        for (int i = 0; i < values.Length; i += 1000)
        {
            Calibrator.Accumulate(values.AsSpan(i, Math.Min(1000, values.Length - i)), ref min, ref max, ref count, ref nonFinite);
        }

        var histogram = new AbsHistogram(count == 0 ? 0 : MathF.Max(MathF.Abs(min), MathF.Abs(max)), settings.HistogramBins);
        histogram.Add(values);
        return Calibrator.Summarize("t", count, nonFinite, min, max, histogram, settings);
    }

    private static double Gaussian(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
