namespace ModelSdk.Runtime.Kernels;

/// <summary>How <see cref="Conv"/> computes a convolution; the compiler picks one from the geometry.</summary>
public enum ConvAlgorithm
{
    /// <summary>Unfold each group's input windows into the scratch buffer, then one GEMM per group.</summary>
    Im2Col,
    /// <summary>1×…×1 kernel, unit strides, no padding: the input already is the GEMM operand.</summary>
    Pointwise,
    /// <summary>
    /// One or two spatial dimensions and few input channels per group (depthwise, or a first layer on an
    /// image): each output row is accumulated tap by tap in vector registers from a zero-padded copy of
    /// the input window.
    /// </summary>
    Direct,
}

/// <summary>
/// N-d convolution (float32, NCHW-style layout): <c>x</c> is <c>[batch, channels, in…]</c>,
/// <c>w</c> is <c>[outChannels, channels / group, kernel…]</c>, <c>y</c> is <c>[batch, outChannels, out…]</c>,
/// with a fused epilogue: <c>y = activation(conv(x, w) + b + residual)</c>.
/// </summary>
public static class Conv
{
    /// <summary>Computes <c>y = activation(conv(x, w) + b + residual)</c>.</summary>
    /// <param name="algorithm">The method; <see cref="ConvAlgorithm.Pointwise"/> and <see cref="ConvAlgorithm.Direct"/> require their geometry.</param>
    /// <param name="x">Input.</param>
    /// <param name="w">Weights.</param>
    /// <param name="b">Optional per-output-channel bias (empty when absent).</param>
    /// <param name="residual">Optional tensor shaped like <paramref name="y"/> added before the activation (empty when absent); it must not overlap <paramref name="y"/>.</param>
    /// <param name="y">Output.</param>
    /// <param name="col">Scratch for <see cref="ConvAlgorithm.Im2Col"/>: at least <c>channels / group · taps · outputSize</c> elements; empty otherwise.</param>
    /// <param name="packedW">
    /// Whether <paramref name="w"/> comes packed for the GEMM (<see cref="ConvAlgorithm.Im2Col"/> and <see cref="ConvAlgorithm.Pointwise"/> only):
    /// each group's <c>[outChannels / group, channels / group · taps]</c> block in the layout of <see cref="GemmPacking.PackA"/>, one after another;
    /// with a single output position, each group's block transposed in the layout of <see cref="GemmPacking.PackB"/>
    /// (<see cref="GemmPacking.PackedBLength"/><c>(channels / group · taps, outChannels / group)</c> elements per group).
    /// </param>
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
    /// <param name="activation">Activation applied last.</param>
    /// <param name="alpha">First activation parameter (LeakyRelu slope, Clip minimum, HardSigmoid slope).</param>
    /// <param name="beta">Second activation parameter (Clip maximum, HardSigmoid offset).</param>
    /// <param name="context">The worker threads large convolutions are split over.</param>
    /// <param name="inputScale">
    /// Optional <c>[batch, channels]</c> factors the input is multiplied by, channel by channel, before the convolution
    /// (a squeeze-excite scale folded in by the compiler); <see cref="ConvAlgorithm.Pointwise"/> with more than one
    /// output position only. Empty when absent.
    /// </param>
    public static void Run(
        ConvAlgorithm algorithm, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, ReadOnlySpan<float> residual, Span<float> y, Span<float> col, bool packedW,
        int batch, int channels, int outChannels, int group,
        ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin,
        Activation activation, float alpha, float beta, KernelContext context, ReadOnlySpan<float> inputScale = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var window = new SlidingWindow(inputShape, outputShape, kernelShape, strides, dilations, padsBegin);
        if (batch < 0 || group < 1 || channels % group != 0 || outChannels % group != 0)
        {
            throw new ArgumentException("Invalid convolution channel counts.");
        }

        int cg = channels / group, mg = outChannels / group;
        int kg = cg * window.Taps;

        // One output position (a squeeze-excite 1×1 on a pooled vector, say): each group is a matrix-vector
        // product, computed as x [1, kg] · Wᵀ [kg, mg] so that the micro-kernels stream the weights in 64-column panels.
        bool vector = window.OutputSize == 1;
        int wGroup = packedW && vector ? GemmPacking.PackedBLength(kg, mg) : mg * kg;
        if (x.Length != batch * channels * window.InputSize || w.Length != group * wGroup
            || y.Length != batch * outChannels * window.OutputSize || !(b.IsEmpty || b.Length == outChannels)
            || !(residual.IsEmpty || residual.Length == y.Length))
        {
            throw new ArgumentException("Convolution operand lengths do not match the shapes.");
        }

        if (!inputScale.IsEmpty && (algorithm != ConvAlgorithm.Pointwise || vector || inputScale.Length != batch * channels))
        {
            throw new ArgumentException("An input scale needs a pointwise convolution over more than one position, and one factor per image and channel.");
        }

        if (y.IsEmpty)
        {
            return;
        }

        switch (algorithm)
        {
            case ConvAlgorithm.Direct:
                if (inputShape.Length > 2)
                {
                    throw new ArgumentException("The direct convolution handles one or two spatial dimensions.");
                }

                if (packedW)
                {
                    throw new ArgumentException("The direct convolution reads its weights unpacked.");
                }

                DirectConv.Run(x, w, b, residual, y, batch, group, cg, mg, inputShape, outputShape, kernelShape, strides, dilations, padsBegin,
                    activation, alpha, beta, context);
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
        GemmOperand wLayout = packedW ? GemmOperand.Packed : GemmOperand.RowMajor;
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

                // Weights [mg, kg] (packed group by group: 6-row panels of the same length) times the operand
                // [kg, sOut]; the engine splits large products over the threads and applies the bias (one per
                // row), residual and activation as it stores.
                int outOffset = (n * outChannels + g * mg) * sOut;
                ReadOnlySpan<float> groupBias = b.IsEmpty ? default : b.Slice(g * mg, mg);
                ReadOnlySpan<float> groupResidual = residual.IsEmpty ? default : residual.Slice(outOffset, mg * sOut);
                if (vector)
                {
                    Gemm.Multiply(
                        operand, GemmOperand.RowMajor, w.Slice(g * wGroup, wGroup), packedW ? GemmOperand.Packed : GemmOperand.Transposed,
                        y.Slice(outOffset, mg), 1, mg, kg,
                        new GemmEpilogue(1, groupBias, cRowStride: 0, cColStride: 1, beta: 1, residual: groupResidual, activation, alpha, beta),
                        context);
                    continue;
                }

                Gemm.Multiply(
                    w.Slice(g * mg * kg, mg * kg), wLayout, operand, inputScale.IsEmpty ? default : inputScale.Slice((n * channels) + (g * cg), cg), GemmOperand.RowMajor,
                    y.Slice(outOffset, mg * sOut), mg, sOut, kg,
                    new GemmEpilogue(1, groupBias, cRowStride: 1, cColStride: 0, beta: 1, residual: groupResidual, activation, alpha, beta),
                    context);
            }
        }
    }
}
