using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Per-channel affine map (float32), <c>y[n, c, i] = x[n, c, i] · scale[c] + bias[c]</c> over
/// <c>[batch, channels, spatial]</c>: inference-time batch normalization after its statistics are
/// folded into one scale and one shift per channel.
/// </summary>
public static class ChannelAffine
{
    /// <summary>Applies the map; <paramref name="x"/> and <paramref name="y"/> may be the same memory.</summary>
    /// <param name="x">Input, <c>[batch, channels, spatial]</c>.</param>
    /// <param name="scale">Factor per channel.</param>
    /// <param name="bias">Shift per channel.</param>
    /// <param name="y">Output, shaped like <paramref name="x"/>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="spatial">Elements per channel of one image.</param>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int channels, int spatial)
    {
        int plane = checked(channels * spatial);
        if (x.Length != y.Length || scale.Length != channels || bias.Length != channels || (plane == 0 ? x.Length != 0 : x.Length % plane != 0))
        {
            throw new ArgumentException("Operand lengths do not match channels and spatial size.");
        }

        int planes = plane == 0 ? 0 : x.Length / spatial;
        for (int p = 0; p < planes; p++)
        {
            int c = p % channels;
            ReadOnlySpan<float> src = x.Slice(p * spatial, spatial);
            Span<float> dst = y.Slice(p * spatial, spatial);
            float s = scale[c], t = bias[c];
            var vs = Vector256.Create(s);
            var vt = Vector256.Create(t);
            int i = 0;
            for (; i <= spatial - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256.MultiplyAddEstimate(Vector256.Create(src.Slice(i, Vector256<float>.Count)), vs, vt).CopyTo(dst.Slice(i));
            }

            for (; i < spatial; i++)
            {
                dst[i] = src[i] * s + t;
            }
        }
    }
}
