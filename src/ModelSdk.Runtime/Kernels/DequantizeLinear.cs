using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Linear dequantization <c>y = (x − zeroPoint) · scale</c> with one scale per tensor, per channel of
/// an axis, or per block along an axis (see <see cref="QuantizeLinear"/> for the layout).
/// </summary>
public static class DequantizeLinear
{
    /// <summary>Dequantizes <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <typeparam name="TQ">Quantized element type (8-, 16- or 32-bit integer).</typeparam>
    /// <typeparam name="TS">Scale and output element type (float32 or float16).</typeparam>
    /// <param name="x">Quantized input.</param>
    /// <param name="scale">Scales: one; one per channel; or, with <paramref name="blockSize"/>, <c>[outer, ⌈channels / blockSize⌉, inner]</c>.</param>
    /// <param name="zeroPoint">Zero points shaped like <paramref name="scale"/>, or empty for 0.</param>
    /// <param name="y">Output, as long as <paramref name="x"/>.</param>
    /// <param name="channels">Length of the quantization axis (1 for per-tensor quantization).</param>
    /// <param name="inner">Elements after the axis.</param>
    /// <param name="blockSize">Channels sharing one scale in blocked quantization; 0 otherwise.</param>
    public static void Run<TQ, TS>(ReadOnlySpan<TQ> x, ReadOnlySpan<TS> scale, ReadOnlySpan<TQ> zeroPoint, Span<TS> y, int channels, int inner, int blockSize)
        where TQ : unmanaged, INumber<TQ>
        where TS : unmanaged, INumber<TS>
    {
        if (y.Length != x.Length)
        {
            throw new ArgumentException("DequantizeLinear output length differs from the input's.");
        }

        var layout = new QuantizationLayout(x.Length, scale.Length, zeroPoint.Length, channels, inner, blockSize);
        for (int o = 0; o < layout.Outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                int offset = (o * channels + c) * inner;
                ReadOnlySpan<TQ> xs = x.Slice(offset, inner);
                Span<TS> ys = y.Slice(offset, inner);
                if (layout.Blocked)
                {
                    int s0 = layout.BlockOffset(o, c);
                    for (int i = 0; i < inner; i++)
                    {
                        ys[i] = Dequantize(xs[i], scale[s0 + i], zeroPoint.IsEmpty ? TQ.Zero : zeroPoint[s0 + i]);
                    }

                    continue;
                }

                int si = layout.ChannelIndex(c);
                TQ zero = zeroPoint.IsEmpty ? TQ.Zero : zeroPoint[si];
                if (typeof(TS) == typeof(float) && (typeof(TQ) == typeof(byte) || typeof(TQ) == typeof(sbyte)))
                {
                    Bytes(MemoryMarshal.AsBytes(xs), typeof(TQ) == typeof(sbyte), int.CreateTruncating(zero), float.CreateTruncating(scale[si]), MemoryMarshal.Cast<TS, float>(ys));
                    continue;
                }

                for (int i = 0; i < inner; i++)
                {
                    ys[i] = Dequantize(xs[i], scale[si], zero);
                }
            }
        }
    }

    /// <summary>The difference is exact in integers; one rounding happens in the float product, as in ONNX Runtime.</summary>
    private static TS Dequantize<TQ, TS>(TQ x, TS scale, TQ zero)
        where TQ : INumber<TQ>
        where TS : INumber<TS>
        => TS.CreateTruncating((float)(long.CreateTruncating(x) - long.CreateTruncating(zero)) * float.CreateTruncating(scale));

    private static void Bytes(ReadOnlySpan<byte> x, bool signed, int zero, float scale, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vz = Vector256.Create(zero);
            var vs = Vector256.Create(scale);
            for (; i <= x.Length - 16; i += 16)
            {
                Vector128<byte> raw = Vector128.Create(x.Slice(i, 16));
                Vector256<short> wide = signed ? Vector256.WidenLower(raw.AsSByte().ToVector256()) : Vector256.WidenLower(raw.ToVector256()).AsInt16();
                (Vector256<int> lo, Vector256<int> hi) = Vector256.Widen(wide);
                (Vector256.ConvertToSingle(lo - vz) * vs).CopyTo(y.Slice(i));
                (Vector256.ConvertToSingle(hi - vz) * vs).CopyTo(y.Slice(i + 8));
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = ((signed ? (sbyte)x[i] : x[i]) - zero) * scale;
        }
    }
}
