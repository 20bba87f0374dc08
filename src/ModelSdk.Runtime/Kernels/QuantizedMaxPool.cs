using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// 2-d max pooling of int8 or uint8 values: what DequantizeLinear → MaxPool → QuantizeLinear computes when both
/// ends share the scale and zero point (dequantization is increasing, so the maximum commutes with it).
/// Padding never wins (it is −∞ for MaxPool).
/// </summary>
public static class QuantizedMaxPool
{
    /// <summary>Pools every plane of <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <typeparam name="T">int8 or uint8.</typeparam>
    /// <param name="x">Input, <c>[planes, height, width]</c>.</param>
    /// <param name="y">Output, <c>[planes, outHeight, outWidth]</c>.</param>
    /// <param name="planes">Batch × channels.</param>
    /// <param name="inputShape">Spatial input shape (2 dimensions).</param>
    /// <param name="outputShape">Spatial output shape.</param>
    /// <param name="kernelShape">Window shape.</param>
    /// <param name="strides">Stride per spatial dimension.</param>
    /// <param name="dilations">Dilation per spatial dimension.</param>
    /// <param name="padsBegin">Padding before each spatial dimension.</param>
    public static void Run<T>(
        ReadOnlySpan<T> x, Span<T> y, int planes, ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        if (inputShape.Length != 2 || outputShape.Length != 2 || kernelShape.Length != 2 || strides.Length != 2 || dilations.Length != 2 || padsBegin.Length != 2)
        {
            throw new ArgumentException("QuantizedMaxPool is two-dimensional.");
        }

        int h = inputShape[0], w = inputShape[1], oh = outputShape[0], ow = outputShape[1];
        if (x.Length != (long)planes * h * w || y.Length != (long)planes * oh * ow)
        {
            throw new ArgumentException("Pooling operand lengths do not match the shapes.");
        }

        int kh = kernelShape[0], kw = kernelShape[1], sy = strides[0], sx = strides[1], dy = dilations[0], dx = dilations[1], py = padsBegin[0], px = padsBegin[1];
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> plane = x.Slice(p * h * w, h * w);
            Span<T> output = y.Slice(p * oh * ow, oh * ow);
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    T best = T.MinValue;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = (oy * sy) - py + (ky * dy);
                        if ((uint)iy >= (uint)h)
                        {
                            continue;
                        }

                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = (ox * sx) - px + (kx * dx);
                            if ((uint)ix < (uint)w)
                            {
                                best = T.Max(best, plane[(iy * w) + ix]);
                            }
                        }
                    }

                    output[(oy * ow) + ox] = best;
                }
            }
        }
    }
}
