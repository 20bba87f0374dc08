using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Local response normalization across channels (float32, <c>[batch, channels, spatial]</c>):
/// <c>y = x / (bias + alpha / size · Σ x²)^beta</c>, the sum running over the channels from
/// <c>c − ⌊(size − 1) / 2⌋</c> to <c>c + ⌈(size − 1) / 2⌉</c> that exist.
/// </summary>
public static class Lrn
{
    /// <summary>Computes <paramref name="y"/>; it must not overlap <paramref name="x"/>.</summary>
    /// <param name="x">Input.</param>
    /// <param name="y">Output, shaped like <paramref name="x"/>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel of one image.</param>
    /// <param name="size">Channels in the window.</param>
    /// <param name="alpha">Scale of the sum of squares (divided by <paramref name="size"/>).</param>
    /// <param name="beta">Exponent.</param>
    /// <param name="bias">Added to the scaled sum.</param>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial, int size, float alpha, float beta, float bias)
    {
        int plane = checked(channels * spatial);
        if (x.Length != y.Length || size < 1 || channels < 0 || spatial < 0 || (plane == 0 ? x.Length != 0 : x.Length % plane != 0))
        {
            throw new ArgumentException("Operand lengths do not match channels and spatial size.");
        }

        if (plane == 0)
        {
            return;
        }

        int before = (size - 1) / 2, after = size - 1 - before;
        float factor = alpha / size;
        for (int n = 0; n < x.Length / plane; n++)
        {
            ReadOnlySpan<float> image = x.Slice(n * plane, plane);
            for (int c = 0; c < channels; c++)
            {
                Span<float> sum = y.Slice(n * plane + c * spatial, spatial);
                sum.Clear();
                for (int k = Math.Max(0, c - before); k <= Math.Min(channels - 1, c + after); k++)
                {
                    AddSquares(image.Slice(k * spatial, spatial), sum);
                }

                Finish(image.Slice(c * spatial, spatial), sum, factor, beta, bias);
            }
        }
    }

    private static void AddSquares(ReadOnlySpan<float> x, Span<float> sum)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        for (; i <= x.Length - w; i += w)
        {
            Vector256<float> v = Vector256.Create(x.Slice(i, w));
            Vector256.MultiplyAddEstimate(v, v, Vector256.Create(sum.Slice(i, w))).CopyTo(sum.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            sum[i] += x[i] * x[i];
        }
    }

    // y = x · (bias + factor · sum)^−beta, in place over the sums. The exponents of common models
    // (3/4 in AlexNet and GoogLeNet, 1/2) are square roots, which vectorise exactly.
    private static void Finish(ReadOnlySpan<float> x, Span<float> y, float factor, float beta, float bias)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        if (beta is 0.75f or 0.5f)
        {
            var f = Vector256.Create(factor);
            var b = Vector256.Create(bias);
            for (; i <= x.Length - w; i += w)
            {
                Vector256<float> s = Vector256.MultiplyAddEstimate(Vector256.Create(y.Slice(i, w)), f, b);
                Vector256<float> root = Vector256.Sqrt(s);
                Vector256<float> power = beta == 0.5f ? root : root * Vector256.Sqrt(root);
                (Vector256.Create(x.Slice(i, w)) / power).CopyTo(y.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = x[i] / MathF.Pow(bias + factor * y[i], beta);
        }
    }
}
