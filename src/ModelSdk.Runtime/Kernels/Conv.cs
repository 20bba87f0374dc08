namespace ModelSdk.Runtime.Kernels;

/// <summary>How <see cref="Conv"/> computes a convolution; the compiler picks one from the geometry.</summary>
public enum ConvAlgorithm
{
    /// <summary>Unfold each group's input windows into the scratch buffer, then one GEMM per group.</summary>
    Im2Col,
    /// <summary>1×…×1 kernel, unit strides, no padding: the input already is the GEMM operand.</summary>
    Pointwise,
    /// <summary>One input channel per group: accumulate each tap directly into the output plane.</summary>
    Depthwise,
}

/// <summary>
/// N-d convolution (float32, NCHW-style layout): <c>x</c> is <c>[batch, channels, in…]</c>,
/// <c>w</c> is <c>[outChannels, channels / group, kernel…]</c>, <c>y</c> is <c>[batch, outChannels, out…]</c>.
/// </summary>
public static class Conv
{
    /// <summary>Computes <c>y = conv(x, w) + b</c>.</summary>
    /// <param name="algorithm">The method; <see cref="ConvAlgorithm.Pointwise"/> and <see cref="ConvAlgorithm.Depthwise"/> require their geometry.</param>
    /// <param name="x">Input.</param>
    /// <param name="w">Weights.</param>
    /// <param name="b">Optional per-output-channel bias (empty when absent).</param>
    /// <param name="y">Output.</param>
    /// <param name="col">Scratch for <see cref="ConvAlgorithm.Im2Col"/>: at least <c>channels / group · taps · outputSize</c> elements; empty otherwise.</param>
    /// <param name="batch">Images.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="group">Groups; both channel counts are multiples of it.</param>
    /// <param name="inputShape">Spatial input shape.</param>
    /// <param name="outputShape">Spatial output shape.</param>
    /// <param name="kernelShape">Spatial kernel shape.</param>
    /// <param name="strides">Stride per spatial dimension.</param>
    /// <param name="dilations">Dilation per spatial dimension.</param>
    /// <param name="padsBegin">Padding before each spatial dimension (padding after is implied by <paramref name="outputShape"/>).</param>
    public static void Run(
        ConvAlgorithm algorithm, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, Span<float> col,
        int batch, int channels, int outChannels, int group,
        ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin)
    {
        var window = new SlidingWindow(inputShape, outputShape, kernelShape, strides, dilations, padsBegin);
        if (batch < 0 || group < 1 || channels % group != 0 || outChannels % group != 0)
        {
            throw new ArgumentException("Invalid convolution channel counts.");
        }

        int cg = channels / group, mg = outChannels / group;
        int kg = cg * window.Taps;
        if (x.Length != batch * channels * window.InputSize || w.Length != outChannels * kg
            || y.Length != batch * outChannels * window.OutputSize || !(b.IsEmpty || b.Length == outChannels))
        {
            throw new ArgumentException("Convolution operand lengths do not match the shapes.");
        }

        switch (algorithm)
        {
            case ConvAlgorithm.Depthwise:
                if (cg != 1)
                {
                    throw new ArgumentException("Depthwise convolution needs one input channel per group.");
                }

                RunDepthwise(x, w, b, y, batch, outChannels, mg, window);
                return;
            case ConvAlgorithm.Pointwise:
                if (window.Taps != 1 || window.InputSize != window.OutputSize || !window.IsDense)
                {
                    throw new ArgumentException("Pointwise convolution needs a 1×1 kernel with unit strides and no padding.");
                }

                break;
            default:
                if (col.Length < kg * window.OutputSize)
                {
                    throw new ArgumentException("The im2col scratch buffer is too small.");
                }

                break;
        }

        int sIn = window.InputSize, sOut = window.OutputSize;
        bool dense = window.IsDense;
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < group; g++)
            {
                ReadOnlySpan<float> xg = x.Slice((n * channels + g * cg) * sIn, cg * sIn);
                ReadOnlySpan<float> operand = xg;
                if (algorithm == ConvAlgorithm.Im2Col)
                {
                    Span<float> cols = col.Slice(0, kg * sOut);
                    if (!dense)
                    {
                        cols.Clear(); // padding taps stay zero
                    }

                    var unfold = new Im2ColVisitor<float>(xg, cols, cg, sIn, sOut, window.Taps);
                    window.ForEachRow(ref unfold);
                    operand = cols;
                }

                Gemm.Multiply(
                    w.Slice(g * mg * kg, mg * kg), false, operand, false, y.Slice((n * outChannels + g * mg) * sOut, mg * sOut),
                    mg, sOut, kg, 1, b.IsEmpty ? default : b.Slice(g * mg, mg), 1, 0, 1);
            }
        }
    }

    private static void RunDepthwise(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int batch, int outChannels, int multiplier, SlidingWindow window)
    {
        int sIn = window.InputSize, sOut = window.OutputSize, taps = window.Taps;
        int channels = outChannels / multiplier;
        for (int n = 0; n < batch; n++)
        {
            for (int m = 0; m < outChannels; m++)
            {
                Span<float> plane = y.Slice((n * outChannels + m) * sOut, sOut);
                plane.Fill(b.IsEmpty ? 0 : b[m]);
                var accumulate = new DepthwiseVisitor(x.Slice((n * channels + m / multiplier) * sIn, sIn), w.Slice(m * taps, taps), plane);
                window.ForEachRow(ref accumulate);
            }
        }
    }

    private ref struct DepthwiseVisitor(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y) : IWindowRowVisitor
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly ReadOnlySpan<float> _w = w;
        private readonly Span<float> _y = y;

        public readonly void Row(int tap, int outOffset, int inOffset, int count, int inStride)
        {
            float weight = _w[tap];
            Span<float> dst = _y.Slice(outOffset, count);
            if (inStride == 1)
            {
                FloatSpans.MultiplyAdd(_x.Slice(inOffset, count), weight, dst);
                return;
            }

            for (int i = 0; i < count; i++)
            {
                dst[i] += weight * _x[inOffset + i * inStride];
            }
        }
    }
}
