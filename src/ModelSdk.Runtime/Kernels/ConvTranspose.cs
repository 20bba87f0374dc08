namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// N-d transposed convolution (float32, NCHW-style layout): <c>x</c> is <c>[batch, channels, in…]</c>,
/// <c>w</c> is <c>[channels, outChannels / group, kernel…]</c>, <c>y</c> is <c>[batch, outChannels, out…]</c>.
/// Each input element scatters <c>x · w</c> over the kernel window its position maps to in the output.
/// </summary>
/// <remarks>
/// Computed as the adjoint of a convolution: one GEMM per group multiplies the transposed weights with
/// the input into columns (one row per output channel and tap, one column per input position), and
/// col2im adds each column row into the output plane through the same sliding-window geometry a
/// convolution from <c>y</c> to <c>x</c> would read with. A 1×…×1 kernel with unit strides and no
/// padding needs no columns: the GEMM writes the output directly.
/// </remarks>
public static class ConvTranspose
{
    /// <summary>Computes <c>y = convTranspose(x, w) + b</c>.</summary>
    /// <param name="x">Input.</param>
    /// <param name="w">Weights.</param>
    /// <param name="b">Optional per-output-channel bias (empty when absent).</param>
    /// <param name="y">Output.</param>
    /// <param name="col">Scratch of at least <c>outChannels / group · taps · inputSize</c> elements; empty when the kernel is pointwise.</param>
    /// <param name="batch">Images.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="group">Groups; both channel counts are multiples of it.</param>
    /// <param name="inputShape">Spatial input shape.</param>
    /// <param name="outputShape">Spatial output shape.</param>
    /// <param name="kernelShape">Spatial kernel shape.</param>
    /// <param name="strides">Stride per spatial dimension (input step to output step).</param>
    /// <param name="dilations">Dilation per spatial dimension.</param>
    /// <param name="padsBegin">Output elements cropped before each spatial dimension.</param>
    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, Span<float> col,
        int batch, int channels, int outChannels, int group,
        ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin)
    {
        // The convolution whose adjoint this is reads from y (its input) and writes x (its output).
        var window = new SlidingWindow(outputShape, inputShape, kernelShape, strides, dilations, padsBegin);
        if (batch < 0 || group < 1 || channels % group != 0 || outChannels % group != 0)
        {
            throw new ArgumentException("Invalid transposed convolution channel counts.");
        }

        int cg = channels / group, mg = outChannels / group, taps = window.Taps;
        int sIn = window.OutputSize, sOut = window.InputSize;
        int rows = mg * taps;
        if (x.Length != batch * channels * sIn || w.Length != channels * rows
            || y.Length != batch * outChannels * sOut || !(b.IsEmpty || b.Length == outChannels))
        {
            throw new ArgumentException("Transposed convolution operand lengths do not match the shapes.");
        }

        bool pointwise = IsPointwise(inputShape, outputShape, kernelShape, strides, padsBegin);
        if (!pointwise && col.Length < rows * sIn)
        {
            throw new ArgumentException("The column scratch buffer is too small.");
        }

        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < group; g++)
            {
                ReadOnlySpan<float> xg = x.Slice((n * channels + g * cg) * sIn, cg * sIn);
                ReadOnlySpan<float> wg = w.Slice(g * cg * rows, cg * rows);
                Span<float> yg = y.Slice((n * outChannels + g * mg) * sOut, mg * sOut);
                ReadOnlySpan<float> bg = b.IsEmpty ? default : b.Slice(g * mg, mg);
                if (pointwise)
                {
                    Gemm.Multiply(wg, true, xg, false, yg, mg, sIn, cg, 1, bg, 1, 0, 1);
                    continue;
                }

                Span<float> cols = col.Slice(0, rows * sIn);
                Gemm.Multiply(wg, true, xg, false, cols, rows, sIn, cg, 1, default, 0, 0, 0);
                for (int m = 0; m < mg; m++)
                {
                    yg.Slice(m * sOut, sOut).Fill(bg.IsEmpty ? 0 : bg[m]);
                }

                var scatter = new Col2ImVisitor(cols, yg, mg, sIn, sOut, taps);
                window.ForEachRow(ref scatter);
            }
        }
    }

    private static bool IsPointwise(ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin)
    {
        for (int d = 0; d < input.Length; d++)
        {
            if (kernel[d] != 1 || strides[d] != 1 || padsBegin[d] != 0 || input[d] != output[d])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Adds column row (m, tap) into output plane m, at the positions that tap reaches.</summary>
    private ref struct Col2ImVisitor(ReadOnlySpan<float> col, Span<float> y, int channels, int inputSize, int outputSize, int taps) : IWindowRowVisitor
    {
        private readonly ReadOnlySpan<float> _col = col;
        private readonly Span<float> _y = y;

        // In the window's terms the "output" is x (columns) and the "input" is y.
        public readonly void Row(int tap, int outOffset, int inOffset, int count, int inStride)
        {
            for (int m = 0; m < channels; m++)
            {
                ReadOnlySpan<float> src = _col.Slice((m * taps + tap) * inputSize + outOffset, count);
                Span<float> dst = _y.Slice(m * outputSize);
                if (inStride == 1)
                {
                    FloatSpans.Add(src, dst.Slice(inOffset, count));
                    continue;
                }

                for (int i = 0; i < count; i++)
                {
                    dst[inOffset + i * inStride] += src[i];
                }
            }
        }
    }
}
