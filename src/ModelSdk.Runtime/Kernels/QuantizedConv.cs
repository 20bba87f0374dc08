using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// A 2-d 8-bit convolution by constant weights with its bias and requantization in the store (QLinearConv):
/// per image, the input is copied channels-last into a padded buffer (padding = the input's zero point,
/// which contributes nothing), unfolded one row per output pixel (<c>[pixels, taps · channels]</c>: one run
/// of <c>channels</c> bytes per tap, each row padded to whole quads so the product reads the rows in place;
/// the padding bytes meet zero rows of the packed weights, so their values do not matter), multiplied by the weights packed at compile time as
/// <c>[taps · channels, outChannels]</c> (<see cref="PackedIntegerGemm"/>), and stored transposed into
/// <c>[outChannels, pixels]</c> through the epilogue of <see cref="QuantizedMatMul"/>.
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
    /// <param name="padded">The image channels-last with its padding: <c>paddedHeight · paddedWidth · channels</c> elements
    /// (<c>paddedHeight = (outHeight − 1) · stride + (kernel − 1) · dilation + 1</c>, likewise the width).</param>
    /// <param name="col">Unfolded input of one image: <c>pixels</c> rows of <see cref="PackedIntegerGemm.Depth"/>(<c>channels · taps</c>) elements.</param>
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
        Span<TY> y, Span<TX> padded, Span<TX> col, Span<byte> scratch, int batch, int channels, int outChannels,
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
        int pixels = oh * ow, depth = channels * kh * kw, inSize = h * wd, rowLength = PackedIntegerGemm.Depth(depth);
        int ph = ((oh - 1) * strides[0]) + ((kh - 1) * dilations[0]) + 1, pw = ((ow - 1) * strides[1]) + ((kw - 1) * dilations[1]) + 1;
        if (x.Length != (long)batch * channels * inSize || y.Length != (long)batch * outChannels * pixels || col.Length < (long)pixels * rowLength
            || padded.Length < (long)ph * pw * channels
            || xZeroPoint.Length > 1 || yZeroPoint.Length > 1)
        {
            throw new ArgumentException("Convolution operand lengths do not match the shapes.");
        }

        PackedOutput output = QuantizedMatMul.OutputOf<TY>();
        bool signed = MatMulInteger.IsSigned<TX>();
        ReadOnlySpan<byte> xb = MemoryMarshal.AsBytes(x);
        Span<byte> rows = MemoryMarshal.AsBytes(col).Slice(0, pixels * rowLength);
        byte padding = xZeroPoint.IsEmpty ? (byte)0 : MemoryMarshal.AsBytes(xZeroPoint)[0];
        int zero = yZeroPoint.IsEmpty ? 0 : output == PackedOutput.Int8 ? (sbyte)MemoryMarshal.AsBytes(yZeroPoint)[0] : MemoryMarshal.AsBytes(yZeroPoint)[0];
        int sy = strides[0], sx = strides[1], dy = dilations[0], dx = dilations[1], py = padsBegin[0], px = padsBegin[1];
        int elementSize = output switch { PackedOutput.Int32 or PackedOutput.Float32 => 4, _ => 1 };
        fixed (TY* py0 = y)
        fixed (byte* px0 = xb, prows = rows, ppad = MemoryMarshal.AsBytes(padded))
        {
            for (int n = 0; n < batch; n++)
            {
                ChannelsLast(px0 + ((long)n * channels * inSize), ppad, padding, channels, h, wd, ph, pw, py, px);
                Unfold(ppad, prows, rowLength, channels, pw, oh, ow, kh, kw, sy, sx, dy, dx);
                PackedIntegerGemm.Multiply(
                    rows, signed, w, terms, scale, zero, (byte*)py0 + ((long)n * outChannels * pixels * elementSize), output, transposed: true, scratch,
                    pixels, outChannels, rowLength, context);
            }
        }
    }

    /// <summary>
    /// The image <c>[channels, h, w]</c> as <c>[ph, pw, channels]</c> starting at (−py, −px): the window's whole reach,
    /// <paramref name="padding"/> outside the image.
    /// </summary>
    private static void ChannelsLast(byte* image, byte* padded, byte padding, int channels, int h, int w, int ph, int pw, int py, int px)
    {
        new Span<byte>(padded, ph * pw * channels).Fill(padding);
        for (int c = 0; c < channels; c++)
        {
            byte* plane = image + (c * h * w);
            for (int iy = Math.Max(0, -py); iy < h && iy + py < ph; iy++)
            {
                byte* source = plane + (iy * w);
                byte* target = padded + ((((iy + py) * pw) + px) * channels) + c;
                int start = Math.Max(0, -px), end = Math.Min(w, pw - px);
                for (int ix = start; ix < end; ix++)
                {
                    target[ix * channels] = source[ix];
                }
            }
        }
    }

    /// <summary>
    /// One row of <paramref name="rowLength"/> bytes per output pixel: for each tap (ky, kx), the <paramref name="channels"/>
    /// bytes it reads. Channels-last makes the taps of one kernel row one contiguous run when they are not dilated.
    /// </summary>
    private static void Unfold(byte* padded, byte* rows, int rowLength, int channels, int pw, int oh, int ow, int kh, int kw, int sy, int sx, int dy, int dx)
    {
        int run = kw * channels;
        for (int oy = 0; oy < oh; oy++)
        {
            for (int ox = 0; ox < ow; ox++)
            {
                byte* r = rows + (((long)oy * ow) + ox) * rowLength;
                for (int ky = 0; ky < kh; ky++)
                {
                    byte* source = padded + ((((oy * sy) + (ky * dy)) * pw) + (ox * sx)) * channels;
                    if (dx == 1)
                    {
                        Unsafe.CopyBlockUnaligned(r, source, (uint)run);
                        r += run;
                        continue;
                    }

                    for (int kx = 0; kx < kw; kx++)
                    {
                        Unsafe.CopyBlockUnaligned(r, source + (kx * dx * channels), (uint)channels);
                        r += channels;
                    }
                }
            }
        }
    }
}
