using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// DynamicQuantizeLinear: quantizes float32 to uint8 with a scale and zero point computed from the
/// data, whose range is first widened to include 0:
/// <c>scale = (max(0, max x) − min(0, min x)) / 255</c>, <c>zeroPoint = saturate(round(−min / scale))</c>.
/// </summary>
public static class DynamicQuantizeLinear
{
    /// <summary>Quantizes <paramref name="x"/>.</summary>
    /// <param name="x">Input.</param>
    /// <param name="y">Quantized output, as long as <paramref name="x"/>.</param>
    /// <param name="yScale">One element: the scale.</param>
    /// <param name="yZeroPoint">One element: the zero point.</param>
    public static void Run(ReadOnlySpan<float> x, Span<byte> y, Span<float> yScale, Span<byte> yZeroPoint)
    {
        if (y.Length != x.Length || yScale.Length != 1 || yZeroPoint.Length != 1)
        {
            throw new ArgumentException("DynamicQuantizeLinear outputs must be as long as the input, and one scale and zero point.");
        }

        (float min, float max) = Range(x);
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);

        // A constant zero input has no range; ONNX Runtime then uses scale 1, which keeps every output 0.
        float scale = max == min ? 1 : (max - min) / byte.MaxValue;
        float zero = Math.Clamp(MathF.Round(-min / scale), byte.MinValue, byte.MaxValue);
        yScale[0] = scale;
        yZeroPoint[0] = (byte)zero;
        QuantizeLinear.Bytes(x, scale, (int)zero, y, signed: false);
    }

    private static (float Min, float Max) Range(ReadOnlySpan<float> x)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            Vector256<float> vmin = Vector256.Create(min), vmax = Vector256.Create(max);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                vmin = Vector256.Min(vmin, v);
                vmax = Vector256.Max(vmax, v);
            }

            for (int l = 0; l < Vector256<float>.Count; l++)
            {
                min = Math.Min(min, vmin[l]);
                max = Math.Max(max, vmax[l]);
            }
        }

        for (; i < x.Length; i++)
        {
            min = Math.Min(min, x[i]);
            max = Math.Max(max, x[i]);
        }

        return (min, max);
    }
}
