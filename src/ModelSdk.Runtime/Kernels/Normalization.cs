using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Normalizes rows of a float32 tensor to zero mean and unit variance, then applies a scale and a
/// bias: <c>y = (x − mean) / sqrt(var + epsilon) · scale + bias</c>. The input is a sequence of rows
/// of <c>size</c> elements; row <c>r</c> takes its parameters from block <c>r mod groups</c>, and
/// each row is <c>channels</c> equal runs, run <c>c</c> using parameter <c>block · channels + c</c>.
/// </summary>
/// <remarks>
/// The parameter layout covers the normalization operators: LayerNormalization (groups 1, one
/// parameter per row element: channels = size), InstanceNormalization (groups = C, channels 1),
/// GroupNormalization-21 (groups = G, channels = C / G) and GroupNormalization-18 (groups = G, channels 1).
/// </remarks>
public static class Normalization
{
    /// <summary>Normalizes every row of <paramref name="x"/> into <paramref name="y"/> (which may be the same memory).</summary>
    /// <param name="x">The input, a whole number of rows.</param>
    /// <param name="scale">Factors, <c>groups · channels</c> of them; empty means 1.</param>
    /// <param name="bias">Shifts, <c>groups · channels</c> of them; empty means 0.</param>
    /// <param name="y">The output, shaped like <paramref name="x"/>.</param>
    /// <param name="mean">Optional output of each row's mean (empty when not wanted).</param>
    /// <param name="invStdDev">Optional output of each row's <c>1 / sqrt(var + epsilon)</c> (empty when not wanted).</param>
    /// <param name="size">Elements per row.</param>
    /// <param name="groups">Parameter blocks, used by consecutive rows in turn.</param>
    /// <param name="channels">Parameters per block; a divisor of <paramref name="size"/>.</param>
    /// <param name="epsilon">Added to the variance.</param>
    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, Span<float> mean, Span<float> invStdDev,
        int size, int groups, int channels, float epsilon)
    {
        if (size < 1 || groups < 1 || channels < 1 || size % channels != 0 || x.Length % size != 0 || y.Length != x.Length)
        {
            throw new ArgumentException("Invalid normalization row layout.");
        }

        int rows = x.Length / size, parameters = groups * channels;
        if (!(scale.IsEmpty || scale.Length == parameters) || !(bias.IsEmpty || bias.Length == parameters)
            || !(mean.IsEmpty || mean.Length == rows) || !(invStdDev.IsEmpty || invStdDev.Length == rows))
        {
            throw new ArgumentException("Normalization parameter or statistics lengths do not match the layout.");
        }

        int run = size / channels;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * size, size);
            float mu = FloatSpans.Sum(row) / size;
            float inv = 1 / MathF.Sqrt(FloatSpans.SumOfSquaredDeviations(row, mu) / size + epsilon);
            if (!mean.IsEmpty)
            {
                mean[r] = mu;
            }

            if (!invStdDev.IsEmpty)
            {
                invStdDev[r] = inv;
            }

            int first = r % groups * channels;
            Span<float> output = y.Slice(r * size, size);
            if (run == 1)
            {
                PerElement(row, mu, inv, scale.IsEmpty ? default : scale.Slice(first, size), bias.IsEmpty ? default : bias.Slice(first, size), output);
                continue;
            }

            for (int c = 0; c < channels; c++)
            {
                float s = scale.IsEmpty ? 1 : scale[first + c];
                float t = bias.IsEmpty ? 0 : bias[first + c];
                Affine(row.Slice(c * run, run), mu, inv * s, t, output.Slice(c * run, run));
            }
        }
    }

    // Subtracting the mean first keeps rows with a large mean exact; folding it into the shift would cancel.
    private static void Affine(ReadOnlySpan<float> x, float mu, float factor, float shift, Span<float> y)
    {
        var m = Vector256.Create(mu);
        var f = Vector256.Create(factor);
        var s = Vector256.Create(shift);
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256.MultiplyAddEstimate(Vector256.Create(x.Slice(i, Vector256<float>.Count)) - m, f, s).CopyTo(y.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            y[i] = (x[i] - mu) * factor + shift;
        }
    }

    private static void PerElement(ReadOnlySpan<float> x, float mu, float inv, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y)
    {
        var m = Vector256.Create(mu);
        var n = Vector256.Create(inv);
        int w = Vector256<float>.Count;
        int i = 0;
        for (; i <= x.Length - w; i += w)
        {
            Vector256<float> v = (Vector256.Create(x.Slice(i, w)) - m) * n;
            if (!scale.IsEmpty)
            {
                v *= Vector256.Create(scale.Slice(i, w));
            }

            if (!bias.IsEmpty)
            {
                v += Vector256.Create(bias.Slice(i, w));
            }

            v.CopyTo(y.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            float v = (x[i] - mu) * inv;
            y[i] = (scale.IsEmpty ? v : v * scale[i]) + (bias.IsEmpty ? 0 : bias[i]);
        }
    }
}
