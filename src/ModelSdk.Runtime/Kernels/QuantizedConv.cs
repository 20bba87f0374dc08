using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// A 2-d 8-bit convolution by constant weights with its bias and requantization in the store (QLinearConv):
/// per image, the input is unfolded one row per output pixel (<c>[pixels, channels · taps]</c>, padding
/// read as the input's zero point, which contributes nothing), multiplied by the weights packed at
/// compile time as <c>[channels · taps, outChannels]</c> (<see cref="PackedIntegerGemm"/>), and stored
/// transposed into <c>[outChannels, pixels]</c> through the epilogue of <see cref="QuantizedMatMul"/>.
/// </summary>
public static unsafe class QuantizedConv
{
    /// <summary>Computes the convolution.</summary>
    /// <typeparam name="TX">Input element type, int8 or uint8.</typeparam>
    /// <typeparam name="TY">Output element type: int8, uint8, int32 or float32.</typeparam>
    /// <param name="x">Input, <c>[batch, channels, height, width]</c>.</param>
    /// <param name="w">Weights packed by the compiler.</param>
    /// <param name="terms">Per output channel: bias − zx′ · Σ w′, in accumulator units; padded to whole eights.</param>
    /// <param name="scale">One, or per output channel padded to whole eights: the multiplier of the sums (empty for int32 results).</param>
    /// <param name="xZeroPoint">The input's zero point (empty for 0): what padding reads.</param>
    /// <param name="yZeroPoint">The output's zero point (empty for 0).</param>
    /// <param name="y">Output, <c>[batch, outChannels, outHeight, outWidth]</c>.</param>
    /// <param name="col">Unfolded input of one image: <c>pixels · channels · taps</c> elements.</param>
    /// <param name="scratch">Scratch of the packed product (<see cref="PackedIntegerGemm.ScratchLength"/> of pixels rows).</param>
    /// <param name="batch">Images.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="inputShape">Spatial input shape (2 dimensions).</param>
    /// <param name="outputShape">Spatial output shape.</param>
    /// <param name="kernelShape">Spatial kernel shape.</param>
    /// <param name="strides">Stride per spatial dimension.</param>
    /// <param name="dilations">Dilation per spatial dimension.</param>
    /// <param name="padsBegin">Padding before each spatial dimension.</param>
    /// <param name="context">Workers for large convolutions.</param>
    public static void Run<TX, TY>(
        ReadOnlySpan<TX> x, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> terms, ReadOnlySpan<float> scale, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TY> yZeroPoint,
        Span<TY> y, Span<TX> col, Span<byte> scratch, int batch, int channels, int outChannels,
        ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin, KernelContext context)
        where TX : unmanaged
        where TY : unmanaged
    {
        if (inputShape.Length != 2 || outputShape.Length != 2 || kernelShape.Length != 2 || strides.Length != 2 || dilations.Length != 2 || padsBegin.Length != 2)
        {
            throw new ArgumentException("QuantizedConv is two-dimensional.");
        }

        int h = inputShape[0], wd = inputShape[1], oh = outputShape[0], ow = outputShape[1], kh = kernelShape[0], kw = kernelShape[1];
        int pixels = oh * ow, depth = channels * kh * kw, inSize = h * wd;
        if (x.Length != (long)batch * channels * inSize || y.Length != (long)batch * outChannels * pixels || col.Length < (long)pixels * depth
            || xZeroPoint.Length > 1 || yZeroPoint.Length > 1)
        {
            throw new ArgumentException("Convolution operand lengths do not match the shapes.");
        }

        PackedOutput output = QuantizedMatMul.OutputOf<TY>();
        bool signed = MatMulInteger.IsSigned<TX>();
        ReadOnlySpan<byte> xb = MemoryMarshal.AsBytes(x);
        Span<byte> rows = MemoryMarshal.AsBytes(col).Slice(0, pixels * depth);
        byte padding = xZeroPoint.IsEmpty ? (byte)0 : MemoryMarshal.AsBytes(xZeroPoint)[0];
        int zero = yZeroPoint.IsEmpty ? 0 : output == PackedOutput.Int8 ? (sbyte)MemoryMarshal.AsBytes(yZeroPoint)[0] : MemoryMarshal.AsBytes(yZeroPoint)[0];
        int sy = strides[0], sx = strides[1], dy = dilations[0], dx = dilations[1], py = padsBegin[0], px = padsBegin[1];
        int elementSize = output switch { PackedOutput.Int32 or PackedOutput.Float32 => 4, _ => 1 };
        fixed (TY* py0 = y)
        fixed (byte* px0 = xb, prows = rows)
        {
            for (int n = 0; n < batch; n++)
            {
                Unfold(px0 + ((long)n * channels * inSize), prows, padding, channels, h, wd, oh, ow, kh, kw, sy, sx, dy, dx, py, px);
                PackedIntegerGemm.Multiply(
                    rows, signed, w, terms, scale, zero, (byte*)py0 + ((long)n * outChannels * pixels * elementSize), output, transposed: true, scratch,
                    pixels, outChannels, depth, context);
            }
        }
    }

    /// <summary>One row per output pixel of the <c>channels · kh · kw</c> inputs it reads, padding as <paramref name="padding"/>.</summary>
    private static void Unfold(
        byte* image, byte* rows, byte padding, int channels, int h, int w, int oh, int ow, int kh, int kw, int sy, int sx, int dy, int dx, int py, int px)
    {
        int inSize = h * w;
        byte* r = rows;
        for (int oy = 0; oy < oh; oy++)
        {
            int iy0 = (oy * sy) - py;
            bool rowsInside = iy0 >= 0 && iy0 + ((kh - 1) * dy) < h;
            for (int ox = 0; ox < ow; ox++)
            {
                int ix0 = (ox * sx) - px;
                if (rowsInside && ix0 >= 0 && ix0 + ((kw - 1) * dx) < w)
                {
                    // The whole window inside: no checks, and for 3 taps per row (the common kernel) no inner loop.
                    for (int c = 0; c < channels; c++)
                    {
                        byte* source = image + (c * inSize) + (iy0 * w) + ix0;
                        for (int ky = 0; ky < kh; ky++, source += dy * w)
                        {
                            if (kw == 3)
                            {
                                r[0] = source[0];
                                r[1] = source[dx];
                                r[2] = source[2 * dx];
                                r += 3;
                            }
                            else
                            {
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    *r++ = source[kx * dx];
                                }
                            }
                        }
                    }

                    continue;
                }

                for (int c = 0; c < channels; c++)
                {
                    byte* plane = image + (c * inSize);
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = iy0 + (ky * dy);
                        bool inside = (uint)iy < (uint)h;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ix0 + (kx * dx);
                            *r++ = inside && (uint)ix < (uint)w ? plane[(iy * w) + ix] : padding;
                        }
                    }
                }
            }
        }
    }
}
