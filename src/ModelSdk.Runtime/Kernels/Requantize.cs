using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The epilogue of QLinearMatMul and QLinearConv: int32 accumulators (plus an optional int32 bias per
/// channel) to the output's quantized type,
/// <c>y = saturate(round((x + bias) · xScale · wScale / yScale) + yZeroPoint)</c>, rounding half to even.
/// The multiplier is computed in single precision, as ONNX Runtime does, so results agree exactly.
/// <c>x</c> is seen as <c>[outer, channels, inner]</c>.
/// </summary>
public static class Requantize
{
    /// <summary>Requantizes <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <typeparam name="TY">Output element type (int8 or uint8).</typeparam>
    /// <param name="x">Accumulators.</param>
    /// <param name="bias">Per-channel bias in accumulator units, or empty.</param>
    /// <param name="xScale">One element: the scale of the left operand.</param>
    /// <param name="wScale">The scale of the right operand (weights): one, or one per channel.</param>
    /// <param name="yScale">One element: the output scale.</param>
    /// <param name="yZeroPoint">One element: the output zero point (empty for 0).</param>
    /// <param name="y">Output, as long as <paramref name="x"/>.</param>
    /// <param name="channels">Channels (the axis along which <paramref name="wScale"/> and <paramref name="bias"/> vary).</param>
    /// <param name="inner">Elements after the channel axis.</param>
    public static void Run<TY>(
        ReadOnlySpan<int> x, ReadOnlySpan<int> bias, ReadOnlySpan<float> xScale, ReadOnlySpan<float> wScale, ReadOnlySpan<float> yScale,
        ReadOnlySpan<TY> yZeroPoint, Span<TY> y, int channels, int inner)
        where TY : unmanaged, INumber<TY>
    {
        if (y.Length != x.Length || xScale.Length != 1 || yScale.Length != 1 || yZeroPoint.Length > 1
            || !(wScale.Length == 1 || wScale.Length == channels) || !(bias.IsEmpty || bias.Length == channels))
        {
            throw new ArgumentException("Requantize operand lengths do not match the channels.");
        }

        var layout = new QuantizationLayout(x.Length, 1, 0, channels, inner, 0);
        int zero = yZeroPoint.IsEmpty ? 0 : int.CreateTruncating(yZeroPoint[0]);
        bool signed = typeof(TY) == typeof(sbyte);
        if (!signed && typeof(TY) != typeof(byte))
        {
            throw new NotSupportedException($"Requantize produces int8 or uint8, not {typeof(TY).Name}.");
        }

        Span<byte> bytes = MemoryMarshal.AsBytes(y);
        for (int o = 0; o < layout.Outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                float multiplier = xScale[0] * wScale[wScale.Length == 1 ? 0 : c] / yScale[0];
                int offset = (o * channels + c) * inner;
                Run(x.Slice(offset, inner), bias.IsEmpty ? 0 : bias[c], multiplier, zero, bytes.Slice(offset, inner), signed);
            }
        }
    }

    private static void Run(ReadOnlySpan<int> x, int bias, float multiplier, int zero, Span<byte> y, bool signed)
    {
        // Clamping before rounding (to the range less the zero point) keeps the float → int conversion in range.
        float lo = (signed ? sbyte.MinValue : byte.MinValue) - zero, hi = (signed ? sbyte.MaxValue : byte.MaxValue) - zero;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vb = Vector256.Create(bias);
            var vm = Vector256.Create(multiplier);
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            var vz = Vector256.Create(zero);
            for (; i <= x.Length - 32; i += 32)
            {
                Vector256<int> q0 = Step(x.Slice(i), vb, vm, vlo, vhi) + vz;
                Vector256<int> q1 = Step(x.Slice(i + 8), vb, vm, vlo, vhi) + vz;
                Vector256<int> q2 = Step(x.Slice(i + 16), vb, vm, vlo, vhi) + vz;
                Vector256<int> q3 = Step(x.Slice(i + 24), vb, vm, vlo, vhi) + vz;
                Vector256<short> s01 = Vector256.Narrow(q0, q1), s23 = Vector256.Narrow(q2, q3);
                Vector256<byte> packed = signed ? Vector256.Narrow(s01, s23).AsByte() : Vector256.Narrow(s01.AsUInt16(), s23.AsUInt16());
                packed.CopyTo(y.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            float v = Math.Clamp((float)(x[i] + bias) * multiplier, lo, hi);
            y[i] = (byte)((int)MathF.Round(v) + zero);
        }
    }

    private static Vector256<int> Step(ReadOnlySpan<int> x, Vector256<int> bias, Vector256<float> multiplier, Vector256<float> lo, Vector256<float> hi)
    {
        Vector256<float> v = Vector256.ConvertToSingle(Vector256.Create(x.Slice(0, 8)) + bias) * multiplier;
        return Vector256.ConvertToInt32(Vector256.Round(Vector256.Min(Vector256.Max(v, lo), hi)));
    }
}
