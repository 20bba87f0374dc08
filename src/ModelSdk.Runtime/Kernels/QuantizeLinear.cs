using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Linear quantization <c>y = saturate(round(x / scale) + zeroPoint)</c>, rounding half to even, with one
/// scale per tensor, per channel of an axis, or per block along an axis. <c>x</c> is seen as
/// <c>[outer, channels, inner]</c> around the quantization axis.
/// </summary>
public static class QuantizeLinear
{
    /// <summary>Quantizes <paramref name="x"/> into <paramref name="y"/>.</summary>
    /// <typeparam name="TX">Input element type (float32, float16 or int32).</typeparam>
    /// <typeparam name="TS">Scale element type (float32 or float16).</typeparam>
    /// <typeparam name="TQ">Quantized element type (an 8- or 16-bit integer).</typeparam>
    /// <param name="x">Input.</param>
    /// <param name="scale">Scales: one; one per channel; or, with <paramref name="blockSize"/>, <c>[outer, ⌈channels / blockSize⌉, inner]</c>.</param>
    /// <param name="zeroPoint">Zero points shaped like <paramref name="scale"/>, or empty for 0.</param>
    /// <param name="y">Output, as long as <paramref name="x"/>.</param>
    /// <param name="channels">Length of the quantization axis (1 for per-tensor quantization).</param>
    /// <param name="inner">Elements after the axis.</param>
    /// <param name="blockSize">Channels sharing one scale in blocked quantization; 0 otherwise.</param>
    public static void Run<TX, TS, TQ>(ReadOnlySpan<TX> x, ReadOnlySpan<TS> scale, ReadOnlySpan<TQ> zeroPoint, Span<TQ> y, int channels, int inner, int blockSize)
        where TX : unmanaged, INumber<TX>
        where TS : unmanaged, INumber<TS>
        where TQ : unmanaged, INumber<TQ>
    {
        if (y.Length != x.Length)
        {
            throw new ArgumentException("QuantizeLinear output length differs from the input's.");
        }

        var layout = new QuantizationLayout(x.Length, scale.Length, zeroPoint.Length, channels, inner, blockSize);
        for (int o = 0; o < layout.Outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                int offset = (o * channels + c) * inner;
                ReadOnlySpan<TX> xs = x.Slice(offset, inner);
                Span<TQ> ys = y.Slice(offset, inner);
                if (layout.Blocked)
                {
                    int s0 = layout.BlockOffset(o, c);
                    for (int i = 0; i < inner; i++)
                    {
                        ys[i] = Quantize(xs[i], scale[s0 + i], zeroPoint.IsEmpty ? TQ.Zero : zeroPoint[s0 + i]);
                    }

                    continue;
                }

                int si = layout.ChannelIndex(c);
                TQ zero = zeroPoint.IsEmpty ? TQ.Zero : zeroPoint[si];
                if (typeof(TX) == typeof(float) && typeof(TS) == typeof(float) && (typeof(TQ) == typeof(byte) || typeof(TQ) == typeof(sbyte)))
                {
                    Bytes(MemoryMarshal.Cast<TX, float>(xs), float.CreateTruncating(scale[si]), int.CreateTruncating(zero), MemoryMarshal.AsBytes(ys), typeof(TQ) == typeof(sbyte));
                    continue;
                }

                for (int i = 0; i < inner; i++)
                {
                    ys[i] = Quantize(xs[i], scale[si], zero);
                }
            }
        }
    }

    /// <summary>One element. Float inputs divide in single precision (as ONNX Runtime does); int32 in double, which holds them exactly.</summary>
    private static TQ Quantize<TX, TS, TQ>(TX x, TS scale, TQ zero)
        where TX : INumber<TX>
        where TS : INumber<TS>
        where TQ : INumber<TQ>
    {
        double q = typeof(TX) == typeof(int)
            ? Math.Round(double.CreateTruncating(x) / double.CreateTruncating(scale))
            : MathF.Round(float.CreateTruncating(x) / float.CreateTruncating(scale));
        return TQ.CreateSaturating(q + double.CreateTruncating(zero));
    }

    /// <summary>float32 to int8 or uint8 with one scale and zero point, 32 elements per step.</summary>
    internal static void Bytes(ReadOnlySpan<float> x, float scale, int zero, Span<byte> y, bool signed)
    {
        float lo = signed ? sbyte.MinValue : byte.MinValue, hi = signed ? sbyte.MaxValue : byte.MaxValue;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(scale);
            var vz = Vector256.Create((float)zero);
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            for (; i <= x.Length - 32; i += 32)
            {
                Vector256<int> q0 = Step(x.Slice(i), vs, vz, vlo, vhi);
                Vector256<int> q1 = Step(x.Slice(i + 8), vs, vz, vlo, vhi);
                Vector256<int> q2 = Step(x.Slice(i + 16), vs, vz, vlo, vhi);
                Vector256<int> q3 = Step(x.Slice(i + 24), vs, vz, vlo, vhi);
                Vector256<short> s01 = Vector256.Narrow(q0, q1), s23 = Vector256.Narrow(q2, q3);
                Vector256<byte> bytes = signed ? Vector256.Narrow(s01, s23).AsByte() : Vector256.Narrow(s01.AsUInt16(), s23.AsUInt16());
                bytes.CopyTo(y.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            float q = Math.Clamp(MathF.Round(x[i] / scale) + zero, lo, hi);
            y[i] = float.IsNaN(q) ? (byte)0 : (byte)(int)q;
        }
    }

    private static Vector256<int> Step(ReadOnlySpan<float> x, Vector256<float> scale, Vector256<float> zero, Vector256<float> lo, Vector256<float> hi)
    {
        Vector256<float> q = Vector256.Round(Vector256.Create(x.Slice(0, 8)) / scale) + zero;
        return Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(q, lo), hi));
    }
}

/// <summary>
/// How the scales of a quantization operator map onto <c>[outer, channels, inner]</c>: one scale, one
/// per channel, or (blocked) one per block of <c>blockSize</c> channels at every outer and inner position.
/// </summary>
internal readonly struct QuantizationLayout
{
    private readonly int _channels, _inner, _blockSize, _blocks, _scales;

    public QuantizationLayout(int length, int scales, int zeroPoints, int channels, int inner, int blockSize)
    {
        if (channels < 1 || inner < 0 || blockSize < 0 || (long)channels * inner == 0 && length != 0 || length % Math.Max(1, channels * inner) != 0)
        {
            throw new ArgumentException("Invalid quantization layout.");
        }

        Outer = channels * inner == 0 ? 0 : length / (channels * inner);
        _channels = channels;
        _inner = inner;
        _blockSize = blockSize;
        _blocks = blockSize == 0 ? 0 : (channels + blockSize - 1) / blockSize;
        _scales = scales;
        int expected = blockSize > 0 ? Outer * _blocks * inner : scales == 1 ? 1 : channels;
        if (scales != expected || !(zeroPoints == 0 || zeroPoints == scales))
        {
            throw new ArgumentException("The scale or zero-point length does not match the quantization layout.");
        }
    }

    /// <summary>Positions before the axis.</summary>
    public int Outer { get; }

    /// <summary>Whether scales vary along the inner positions (blocked quantization).</summary>
    public bool Blocked => _blockSize > 0;

    /// <summary>The scale of channel <paramref name="c"/> when not blocked.</summary>
    public int ChannelIndex(int c) => _scales == 1 ? 0 : c;

    /// <summary>The first scale of channel <paramref name="c"/> at outer position <paramref name="o"/> when blocked (inner positions follow).</summary>
    public int BlockOffset(int o, int c) => (o * _blocks + c / _blockSize) * _inner;
}
