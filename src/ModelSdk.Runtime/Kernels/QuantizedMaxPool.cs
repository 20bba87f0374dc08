using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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

        // On bytes: int8 values shifted by 128 (x ^ 0x80) order like unsigned ones, and shift back.
        byte flip = typeof(T) == typeof(sbyte) ? (byte)0x80 : typeof(T) == typeof(byte) ? (byte)0 : throw new NotSupportedException($"QuantizedMaxPool pools int8 or uint8, not {typeof(T).Name}.");
        ReadOnlySpan<byte> xb = MemoryMarshal.AsBytes(x);
        Span<byte> yb = MemoryMarshal.AsBytes(y);
        if (kh == 2 && kw == 2 && sy == 2 && sx == 2 && dy == 1 && dx == 1 && py == 0 && px == 0 && 2 * oh <= h && 2 * ow <= w)
        {
            // The common 2×2 / 2 window, always inside: no checks.
            for (int p = 0; p < planes; p++)
            {
                ReadOnlySpan<byte> plane = xb.Slice(p * h * w, h * w);
                Span<byte> output = yb.Slice(p * oh * ow, oh * ow);
                for (int oy = 0; oy < oh; oy++)
                {
                    ReadOnlySpan<byte> top = plane.Slice(2 * oy * w, w), bottom = plane.Slice(((2 * oy) + 1) * w, w);
                    Span<byte> row = output.Slice(oy * ow, ow);
                    int ox = Vector128.IsHardwareAccelerated ? Pairs(top, bottom, row, flip) : 0;
                    for (; ox < row.Length; ox++)
                    {
                        int a = Math.Max(top[2 * ox] ^ flip, top[(2 * ox) + 1] ^ flip), b = Math.Max(bottom[2 * ox] ^ flip, bottom[(2 * ox) + 1] ^ flip);
                        row[ox] = (byte)(Math.Max(a, b) ^ flip);
                    }
                }
            }

            return;
        }

        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<byte> plane = xb.Slice(p * h * w, h * w);
            Span<byte> output = yb.Slice(p * oh * ow, oh * ow);
            for (int oy = 0; oy < oh; oy++)
            {
                int iy0 = (oy * sy) - py;
                for (int ox = 0; ox < ow; ox++)
                {
                    int ix0 = (ox * sx) - px, best = 0;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = iy0 + (ky * dy);
                        if ((uint)iy >= (uint)h)
                        {
                            continue;
                        }

                        ReadOnlySpan<byte> row = plane.Slice(iy * w, w);
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ix0 + (kx * dx);
                            if ((uint)ix < (uint)w)
                            {
                                best = Math.Max(best, row[ix] ^ flip);
                            }
                        }
                    }

                    output[(oy * ow) + ox] = (byte)(best ^ flip);
                }
            }
        }
    }

    /// <summary>
    /// The 2×2 maxima of two rows, eight outputs (16 input bytes per row) then four at a time in vectors: the larger of the
    /// rows byte by byte, then of each pair as 16-bit lanes. Returns how many outputs it wrote; the caller does the rest.
    /// </summary>
    private static int Pairs(ReadOnlySpan<byte> top, ReadOnlySpan<byte> bottom, Span<byte> row, byte flip)
    {
        var vflip = Vector128.Create(flip);
        int ox = 0;
        for (; ox + 8 <= row.Length; ox += 8)
        {
            Vector128<byte> m = Vector128.Max(Vector128.Create(top.Slice(2 * ox, 16)) ^ vflip, Vector128.Create(bottom.Slice(2 * ox, 16)) ^ vflip);
            MemoryMarshal.Write(row.Slice(ox), Halved(m, vflip).AsUInt64().ToScalar());
        }

        for (; ox + 4 <= row.Length; ox += 4)
        {
            Vector128<byte> a = Vector128.CreateScalar(MemoryMarshal.Read<ulong>(top.Slice(2 * ox))).AsByte();
            Vector128<byte> b = Vector128.CreateScalar(MemoryMarshal.Read<ulong>(bottom.Slice(2 * ox))).AsByte();
            MemoryMarshal.Write(row.Slice(ox), Halved(Vector128.Max(a ^ vflip, b ^ vflip), vflip).AsUInt32().ToScalar());
        }

        return ox;
    }

    /// <summary>The larger byte of each pair, packed into the low half and flipped back.</summary>
    private static Vector128<byte> Halved(Vector128<byte> m, Vector128<byte> flip)
    {
        Vector128<ushort> pairs = m.AsUInt16();
        Vector128<ushort> larger = Vector128.Max(pairs & Vector128.Create((ushort)0xFF), pairs >>> 8);
        return Vector128.Narrow(larger, larger) ^ flip;
    }
}
