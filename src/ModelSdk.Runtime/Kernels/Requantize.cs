using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// The range a scaled sum is clamped to before rounding: the output type's range less the zero point. Clamping
    /// first keeps the float → int conversion in range; the bounds are whole numbers, so clamping commutes with rounding.
    /// </summary>
    internal static (float Lo, float Hi) Bounds(bool signed, int zero)
        => ((signed ? sbyte.MinValue : byte.MinValue) - zero, (signed ? sbyte.MaxValue : byte.MaxValue) - zero);

    /// <summary>Scaled sums to quantized values: clamped to <see cref="Bounds"/>, rounded half to even, the zero point added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Round(Vector256<float> scaled, Vector256<float> lo, Vector256<float> hi, Vector256<int> zero)
    {
        if (Avx.IsSupported)
        {
            // vmaxps/vminps and vcvtps2dq (round to nearest even): no NaN occurs, so IEEE's finer Max/Min rules would only cost instructions.
            return Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(scaled, lo), hi)) + zero;
        }

        return Vector256.ConvertToInt32(Vector256.Round(Vector256.Min(Vector256.Max(scaled, lo), hi))) + zero;
    }

    /// <summary>One element as <see cref="Round(Vector256{float}, Vector256{float}, Vector256{float}, Vector256{int})"/>.</summary>
    internal static int Round(float scaled, float lo, float hi, int zero) => (int)MathF.Round(Math.Clamp(scaled, lo, hi)) + zero;

    private static void Run(ReadOnlySpan<int> x, int bias, float multiplier, int zero, Span<byte> y, bool signed)
    {
        (float lo, float hi) = Bounds(signed, zero);
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
                Vector256<int> q0 = Step(x.Slice(i), vb, vm, vlo, vhi, vz);
                Vector256<int> q1 = Step(x.Slice(i + 8), vb, vm, vlo, vhi, vz);
                Vector256<int> q2 = Step(x.Slice(i + 16), vb, vm, vlo, vhi, vz);
                Vector256<int> q3 = Step(x.Slice(i + 24), vb, vm, vlo, vhi, vz);
                Vector256<short> s01 = Vector256.Narrow(q0, q1), s23 = Vector256.Narrow(q2, q3);
                Vector256<byte> packed = signed ? Vector256.Narrow(s01, s23).AsByte() : Vector256.Narrow(s01.AsUInt16(), s23.AsUInt16());
                packed.CopyTo(y.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = (byte)Round((float)(x[i] + bias) * multiplier, lo, hi, zero);
        }
    }

    private static Vector256<int> Step(ReadOnlySpan<int> x, Vector256<int> bias, Vector256<float> multiplier, Vector256<float> lo, Vector256<float> hi, Vector256<int> zero)
        => Round(Vector256.ConvertToSingle(Vector256.Create(x.Slice(0, 8)) + bias) * multiplier, lo, hi, zero);
}
