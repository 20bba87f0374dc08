using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// N-d 8-bit convolution with int32 results, <c>y = conv(x − xZeroPoint, w − wZeroPoint)</c> (ConvInteger,
/// and the integer part of QLinearConv), in the layout of <see cref="Conv"/>. Each group is one
/// <see cref="IntegerGemm"/> of the weights by the input's im2col matrix; padding reads as the input's
/// zero point, so it contributes nothing. A 1×1 kernel with unit strides and no padding multiplies the input directly.
/// </summary>
public static class ConvInteger
{
    /// <summary>Computes the convolution.</summary>
    /// <typeparam name="TX">Input element type, int8 or uint8.</typeparam>
    /// <typeparam name="TW">Weight element type, int8 or uint8.</typeparam>
    /// <param name="x">Input, <c>[batch, channels, in…]</c>.</param>
    /// <param name="w">Weights, <c>[outChannels, channels / group, kernel…]</c>.</param>
    /// <param name="xZeroPoint">One element, or empty for 0.</param>
    /// <param name="wZeroPoint">One element, one per output channel, or empty for 0.</param>
    /// <param name="y">Output, <c>[batch, outChannels, out…]</c>.</param>
    /// <param name="col">im2col scratch of <c>channels / group · taps · outputSize</c> elements; empty for a pointwise convolution.</param>
    /// <param name="rowSums">Scratch of <c>outChannels / group</c> elements.</param>
    /// <param name="batch">Images.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="group">Groups; both channel counts are multiples of it.</param>
    /// <param name="inputShape">Spatial input shape.</param>
    /// <param name="outputShape">Spatial output shape.</param>
    /// <param name="kernelShape">Spatial kernel shape.</param>
    /// <param name="strides">Stride per spatial dimension.</param>
    /// <param name="dilations">Dilation per spatial dimension.</param>
    /// <param name="padsBegin">Padding before each spatial dimension.</param>
    public static void Run<TX, TW>(
        ReadOnlySpan<TX> x, ReadOnlySpan<TW> w, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TW> wZeroPoint, Span<int> y, Span<TX> col, Span<int> rowSums,
        int batch, int channels, int outChannels, int group,
        ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin)
        where TX : unmanaged
        where TW : unmanaged
    {
        bool xSigned = MatMulInteger.IsSigned<TX>(), wSigned = MatMulInteger.IsSigned<TW>();
        var window = new SlidingWindow(inputShape, outputShape, kernelShape, strides, dilations, padsBegin);
        if (batch < 0 || group < 1 || channels % group != 0 || outChannels % group != 0)
        {
            throw new ArgumentException("Invalid convolution channel counts.");
        }

        int cg = channels / group, mg = outChannels / group;
        int kg = cg * window.Taps, sIn = window.InputSize, sOut = window.OutputSize;
        if (x.Length != batch * channels * sIn || w.Length != outChannels * kg || y.Length != batch * outChannels * sOut
            || xZeroPoint.Length > 1 || !(wZeroPoint.Length <= 1 || wZeroPoint.Length == outChannels))
        {
            throw new ArgumentException("Convolution operand lengths do not match the shapes.");
        }

        bool pointwise = col.IsEmpty;
        if (pointwise ? window.Taps != 1 || sIn != sOut || !window.IsDense : col.Length < kg * sOut)
        {
            throw new ArgumentException("The im2col scratch buffer is too small, or the convolution is not pointwise.");
        }

        ReadOnlySpan<byte> xb = MemoryMarshal.AsBytes(x), wb = MemoryMarshal.AsBytes(w), xz = MemoryMarshal.AsBytes(xZeroPoint), wz = MemoryMarshal.AsBytes(wZeroPoint);
        Span<byte> cols = MemoryMarshal.AsBytes(col);
        byte padding = xz.IsEmpty ? (byte)0 : xz[0];
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < group; g++)
            {
                ReadOnlySpan<byte> operand = xb.Slice((n * channels + g * cg) * sIn, cg * sIn);
                if (!pointwise)
                {
                    Span<byte> unfolded = cols.Slice(0, kg * sOut);
                    if (!window.IsDense)
                    {
                        unfolded.Fill(padding);
                    }

                    var visitor = new Im2ColVisitor<byte>(operand, unfolded, cg, sIn, sOut, window.Taps);
                    window.ForEachRow(ref visitor);
                    operand = unfolded;
                }

                IntegerGemm.Multiply(
                    wb.Slice(g * mg * kg, mg * kg), wSigned, wz.Length > 1 ? wz.Slice(g * mg, mg) : wz,
                    operand, xSigned, xz,
                    y.Slice((n * outChannels + g * mg) * sOut, mg * sOut), rowSums, mg, sOut, kg);
            }
        }
    }
}
