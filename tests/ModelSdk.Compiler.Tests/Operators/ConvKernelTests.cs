using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary>
/// The Conv kernel against a double-precision reference, on every algorithm, vector width and thread count, with
/// each fused epilogue (bias, residual, activation).
/// </summary>
public class ConvKernelTests
{
    public static TheoryData<string, int[], int[], int, int[], int[], int[], ConvAlgorithm> Geometries => new()
    {
        // name, input [N, C, spatial…], weights [M, C/g, kernel…], group, strides, dilations, pads begin/end
        { "depthwise 3x3 stride 2", [2, 6, 19, 23], [6, 1, 3, 3], 6, [2, 2], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise 5x5 wide", [1, 4, 9, 70], [8, 1, 5, 5], 4, [1, 1], [1, 1], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "first layer 3 channels", [1, 3, 33, 17], [5, 3, 3, 3], 1, [1, 2], [1, 1], [1, 0, 1, 2], ConvAlgorithm.Direct },
        { "direct dilated 1d", [2, 2, 41], [3, 2, 3], 1, [3], [2], [2, 1], ConvAlgorithm.Direct },
        { "direct, one column", [1, 2, 12, 1], [4, 1, 3, 1], 2, [1, 1], [1, 1], [1, 0, 1, 0], ConvAlgorithm.Direct },
        { "depthwise 5x5 stride 2", [1, 3, 28, 29], [3, 1, 5, 5], 3, [2, 2], [1, 1], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "depthwise 3x3 tiny plane", [1, 5, 7, 7], [5, 1, 3, 3], 5, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise wide stride 2", [1, 2, 9, 75], [2, 1, 3, 3], 2, [2, 2], [1, 1], [1, 1, 0, 0], ConvAlgorithm.Direct },
        { "depthwise wide stride 1", [1, 2, 6, 90], [2, 1, 3, 3], 2, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise stride 3x1, vertical dilation", [1, 2, 17, 20], [4, 1, 3, 5], 2, [3, 1], [2, 1], [2, 0, 1, 3], ConvAlgorithm.Direct },
        { "depthwise 1d stride 2", [2, 3, 50], [3, 1, 5], 3, [2], [1], [2, 2], ConvAlgorithm.Direct },
        { "depthwise horizontal dilation", [1, 2, 10, 12], [2, 1, 3, 3], 2, [1, 1], [1, 2], [1, 2, 1, 2], ConvAlgorithm.Direct },
        { "direct deep, channels in chunks", [1, 64, 20, 37], [8, 64, 3, 3], 1, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise 13x13 on 7x7, many channels (threads: 84 multiply-adds per activation)", [1, 64, 7, 7], [64, 1, 13, 13], 64, [1, 1], [1, 1], [6, 6, 6, 6], ConvAlgorithm.Direct },
        { "first layer stride 2, several row tiles", [1, 3, 61, 90], [16, 3, 3, 3], 1, [2, 2], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise stride 2 from an odd column, asymmetric pads", [1, 2, 15, 33], [2, 1, 3, 3], 2, [2, 2], [1, 1], [0, 1, 2, 0], ConvAlgorithm.Direct },
        { "depthwise stride 2, dilation 2", [1, 2, 20, 21], [2, 1, 3, 3], 2, [2, 2], [2, 2], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "depthwise stride 2, no padding, even width", [1, 3, 12, 64], [3, 1, 3, 3], 3, [2, 2], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Direct },
        { "depthwise 1d wide, column tiles", [1, 2, 700], [2, 1, 3], 2, [1], [1], [1, 1], ConvAlgorithm.Direct },
        { "depthwise blocked 5x5 stride 2, a partial channel block", [1, 20, 13, 14], [20, 1, 5, 5], 20, [2, 2], [1, 1], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "depthwise blocked, input rows and columns no window reads", [1, 16, 10, 10], [16, 1, 3, 3], 16, [2, 2], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Direct },
        { "depthwise blocked dilated, two images", [2, 17, 9, 9], [17, 1, 3, 3], 17, [1, 1], [2, 2], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "depthwise blocked 3x5 kernel, asymmetric pads", [1, 33, 6, 11], [33, 1, 3, 5], 33, [1, 2], [1, 1], [1, 0, 2, 1], ConvAlgorithm.Direct },
        { "depthwise blocked 3x3 stride 2 on a large plane (ring of rows)", [1, 16, 112, 112], [16, 1, 3, 3], 16, [2, 2], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise blocked 3x3 stride 1 on 28x28, a partial channel block", [1, 21, 28, 28], [21, 1, 3, 3], 21, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise blocked 5x5 stride 2 on 28x28", [1, 18, 28, 28], [18, 1, 5, 5], 18, [2, 2], [1, 1], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "depthwise blocked 5x5 stride 1 on 14x14, a partial channel block", [1, 40, 14, 14], [40, 1, 5, 5], 40, [1, 1], [1, 1], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "depthwise blocked 5x5 on 7x7, rows shorter than a group", [1, 35, 7, 7], [35, 1, 5, 5], 35, [1, 1], [1, 1], [2, 2, 2, 2], ConvAlgorithm.Direct },
        { "depthwise blocked 5x5 stride 2, odd sizes, asymmetric pads", [1, 17, 23, 31], [17, 1, 5, 5], 17, [2, 2], [1, 1], [2, 1, 1, 2], ConvAlgorithm.Direct },
        { "depthwise blocked 3x3 stride 2, odd width, asymmetric pads", [2, 19, 21, 37], [19, 1, 3, 3], 19, [2, 2], [1, 1], [1, 0, 0, 1], ConvAlgorithm.Direct },
        { "depthwise blocked, a last group overlapping the one before", [1, 16, 11, 9], [16, 1, 3, 3], 16, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct },
        { "depthwise blocked, one channel block split over rows (threads: a 13x13 kernel)", [1, 8, 40, 40], [8, 1, 13, 13], 8, [1, 1], [1, 1], [6, 6, 6, 6], ConvAlgorithm.Direct },
        { "pointwise", [1, 40, 7, 9], [37, 40, 1, 1], 1, [1, 1], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Pointwise },
        { "pointwise on one position (squeeze-excite)", [2, 40, 1, 1], [70, 20, 1, 1], 2, [1, 1], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Pointwise },
        { "pointwise on one position, large (threads)", [1, 576, 1, 1], [144, 576, 1, 1], 1, [1, 1], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Pointwise },
        { "im2col to one position", [1, 6, 3, 4], [4, 3, 3, 3], 2, [1, 2], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Im2Col },
        { "pointwise large (threads)", [1, 256, 14, 14], [256, 256, 1, 1], 1, [1, 1], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Pointwise },
        { "im2col groups", [1, 16, 11, 10], [12, 8, 3, 3], 2, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Im2Col },
        { "im2col large (threads)", [1, 64, 12, 12], [256, 64, 3, 3], 1, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Im2Col },
        { "im2col 3x3 over 64 channels (threads: 576 deep)", [1, 64, 16, 16], [64, 64, 3, 3], 1, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Im2Col },
        { "im2col 3d", [1, 4, 5, 6, 7], [3, 4, 2, 3, 2], 1, [1, 2, 1], [1, 1, 2], [0, 1, 1, 1, 0, 0], ConvAlgorithm.Im2Col },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv_agrees_with_the_reference_at_every_width_and_thread_count(
        string name, int[] xShape, int[] wShape, int group, int[] strides, int[] dilations, int[] pads, ConvAlgorithm algorithm)
    {
        // The channel-blocked depthwise kernel (AVX-512, no residual) and DirectConv's NCHW path, on the same geometries.
        foreach (bool blocked in algorithm == ConvAlgorithm.Direct ? [true, false] : new[] { true })
        {
            DepthwiseBlocked.Enabled = blocked;
            try
            {
                foreach (SimdWidth width in new[] { SimdWidth.W512, SimdWidth.W256, SimdWidth.W128 })
                {
                    foreach (int threads in new[] { 1, 2 })
                    {
                        foreach ((Activation activation, float alpha, float beta, bool residual) in new[]
                        {
                            (Activation.None, 0f, 0f, false), (Activation.Relu, 0f, 0f, true), (Activation.Clip, 0f, 6f, false),
                            (Activation.HardSwish, 0f, 0f, true), (Activation.Sigmoid, 0f, 0f, false), (Activation.HardSwish, 0f, 0f, false), (Activation.Relu, 0f, 0f, false),
                        })
                        {
                            Check(xShape, wShape, group, strides, dilations, pads, algorithm, width, threads, activation, alpha, beta, residual, mustSplit: threads > 1 && name.Contains("(threads", StringComparison.Ordinal));
                        }
                    }
                }
            }
            finally
            {
                DepthwiseBlocked.Enabled = true;
            }
        }
    }

    [Theory]
    [InlineData(Activation.LeakyRelu, 0.1f, 0f)]
    [InlineData(Activation.HardSigmoid, 0.2f, 0.5f)]
    [InlineData(Activation.Tanh, 0f, 0f)]
    [InlineData(Activation.Gelu, 0f, 0f)]
    [InlineData(Activation.GeluTanh, 0f, 0f)]
    public void Every_activation_is_applied_in_the_store(Activation activation, float alpha, float beta)
    {
        foreach (SimdWidth width in new[] { SimdWidth.W512, SimdWidth.W256, SimdWidth.W128 })
        {
            Check([1, 3, 10, 13], [4, 3, 3, 3], 1, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct, width, 1, activation, alpha, beta, true);
            Check([1, 18, 9, 10], [18, 1, 3, 3], 18, [1, 1], [1, 1], [1, 1, 1, 1], ConvAlgorithm.Direct, width, 1, activation, alpha, beta, false); // depthwise, blocked at W512
            Check([1, 8, 5, 6], [6, 8, 1, 1], 1, [1, 1], [1, 1], [0, 0, 0, 0], ConvAlgorithm.Pointwise, width, 1, activation, alpha, beta, true);
        }
    }

    private static void Check(
        int[] xShape, int[] wShape, int group, int[] strides, int[] dilations, int[] pads, ConvAlgorithm algorithm,
        SimdWidth width, int threads, Activation activation, float alpha, float beta, bool withResidual, bool mustSplit = false)
    {
        int rank = xShape.Length - 2;
        int[] input = xShape[2..], kernel = wShape[2..];
        int[] output = Enumerable.Range(0, rank)
            .Select(d => (input[d] + pads[d] + pads[rank + d] - ((kernel[d] - 1) * dilations[d] + 1)) / strides[d] + 1).ToArray();
        int outChannels = wShape[0], batch = xShape[0], channels = xShape[1];
        float[] x = Random(xShape.Aggregate(1, (a, b) => a * b), 1), w = Random(wShape.Aggregate(1, (a, b) => a * b), 2), b = Random(outChannels, 3);
        int outSize = output.Aggregate(1, (a, c) => a * c);
        float[] residual = withResidual ? Random(batch * outChannels * outSize, 4) : [];
        float[] expected = Reference(x, w, b, xShape, wShape, group, strides, dilations, pads, output);
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = ActivationFunctions.Apply(activation, expected[i] + (withResidual ? residual[i] : 0), alpha, beta);
        }

        float[] col = algorithm == ConvAlgorithm.Im2Col ? new float[channels / group * kernel.Aggregate(1, (a, c) => a * c) * outSize] : [];
        using var context = new KernelContext(threads);

        // The GEMM algorithms read the weights as given (run-time weights) or packed (constant weights, packed by the compiler).
        foreach (bool packedW in algorithm == ConvAlgorithm.Direct ? [false] : new[] { false, true })
        {
            float[] weights = packedW ? Packed(w, group, outChannels / group, w.Length / outChannels, outSize == 1) : w;
            var y = new float[expected.Length];
            Simd.Forced = width;
            long loops = context.Workers.ParallelLoops;
            context.Workers.BeginRun();
            try
            {
                Conv.Run(algorithm, x, weights, b, residual, y, col, packedW, batch, channels, outChannels, group, input, output, kernel, strides, dilations, pads[..rank],
                    activation, alpha, beta, context);
            }
            finally
            {
                context.Workers.EndRun();
                Simd.Forced = SimdWidth.Auto;
            }

            // Weights given at run time count as activations (see WorkerPool.Splits): only constant (packed) weights must split.
            bool constantWeights = packedW || algorithm == ConvAlgorithm.Direct;
            Assert.True(!(mustSplit && constantWeights) || context.Workers.ParallelLoops > loops, $"{algorithm} {width} packedW={packedW}: the convolution did not split over the threads");
            double error = 0, norm = 0;
            for (int i = 0; i < y.Length; i++)
            {
                error += (y[i] - expected[i]) * (double)(y[i] - expected[i]);
                norm += expected[i] * (double)expected[i];
            }

            Assert.True(Math.Sqrt(error / Math.Max(norm, 1e-30)) <= 2e-6, $"{algorithm} {width} threads={threads} packedW={packedW} {activation}: relative L2 error {Math.Sqrt(error / norm)}");
        }
    }

    /// <summary>The weights as the compiler packs them: row panels, or for one output position the transposed weights' column panels.</summary>
    private static float[] Packed(float[] w, int group, int mg, int kg, bool vector)
    {
        int size = vector ? GemmPacking.PackedBLength(kg, mg) : mg * kg;
        var packed = new float[group * size];
        for (int g = 0; g < group; g++)
        {
            if (vector)
            {
                GemmPacking.PackB(w.AsSpan(g * mg * kg, mg * kg), true, kg, mg, packed.AsSpan(g * size, size));
            }
            else
            {
                GemmPacking.PackA(w.AsSpan(g * mg * kg, mg * kg), false, mg, kg, packed.AsSpan(g * size, size));
            }
        }

        return packed;
    }

    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary><c>conv(x, w) + b</c> in double, by the definition.</summary>
    private static float[] Reference(float[] x, float[] w, float[] b, int[] xShape, int[] wShape, int group, int[] strides, int[] dilations, int[] pads, int[] output)
    {
        int rank = xShape.Length - 2, batch = xShape[0], channels = xShape[1], outChannels = wShape[0];
        int cg = channels / group, mg = outChannels / group;
        int[] input = xShape[2..], kernel = wShape[2..];
        int inSize = input.Aggregate(1, (a, c) => a * c), outSize = output.Aggregate(1, (a, c) => a * c), taps = kernel.Aggregate(1, (a, c) => a * c);
        var y = new float[batch * outChannels * outSize];
        var o = new int[rank];
        var k = new int[rank];
        for (int n = 0; n < batch; n++)
        {
            for (int m = 0; m < outChannels; m++)
            {
                int g = m / mg;
                for (int p = 0; p < outSize; p++)
                {
                    Unflatten(p, output, o);
                    double sum = b[m];
                    for (int c = 0; c < cg; c++)
                    {
                        for (int t = 0; t < taps; t++)
                        {
                            Unflatten(t, kernel, k);
                            int index = 0;
                            bool inside = true;
                            for (int d = 0; d < rank; d++)
                            {
                                int at = o[d] * strides[d] + k[d] * dilations[d] - pads[d];
                                inside &= at >= 0 && at < input[d];
                                index = index * input[d] + at;
                            }

                            if (inside)
                            {
                                sum += (double)w[(m * cg + c) * taps + t] * x[(n * channels + g * cg + c) * inSize + index];
                            }
                        }
                    }

                    y[(n * outChannels + m) * outSize + p] = (float)sum;
                }
            }
        }

        return y;
    }

    private static void Unflatten(int flat, int[] shape, int[] index)
    {
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
    }
}
