using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;
using Xunit.Abstractions;

namespace ModelSdk.Compiler.Tests.Kernels;

/// <summary>
/// The float32 elementwise, softmax, normalization and attention kernels at every vector width (forced through
/// <see cref="Simd.Forced"/>), on one thread and on several, against double-precision references.
/// </summary>
public sealed class VectorWidthTests(ITestOutputHelper output) : IDisposable
{
    // Widths in bits (SimdWidth is internal, so theories take numbers): each one the hardware accelerates.
    public static TheoryData<int> Widths()
    {
        var data = new TheoryData<int>();
        foreach (int width in HardwareWidths())
        {
            data.Add(width);
        }

        return data;
    }

    private static int[] HardwareWidths() => Simd.HardwareWidth switch { SimdWidth.W512 => [128, 256, 512], SimdWidth.W256 => [128, 256], _ => [128] };

    private static SimdWidth Width(int bits) => bits switch { 128 => SimdWidth.W128, 256 => SimdWidth.W256, _ => SimdWidth.W512 };

    public void Dispose() => Simd.Forced = SimdWidth.Auto;

    /// <summary>Arguments spread over the whole float range: dense near zero, log-spaced outwards, and the special values.</summary>
    private static float[] Sweep()
    {
        var values = new List<float> { 0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1e-30f, -1e-30f };
        for (int i = -20000; i <= 20000; i++)
        {
            values.Add(i * 1e-3f);
        }

        for (double m = 1e-8; m < 1e30; m *= 1.0007)
        {
            values.Add((float)m);
            values.Add((float)-m);
        }

        return [.. values];
    }

    private static double Ulps(float actual, double expected)
    {
        if (double.IsNaN(expected))
        {
            return float.IsNaN(actual) ? 0 : double.PositiveInfinity;
        }

        float rounded = (float)expected;
        if (float.IsInfinity(rounded) || float.IsInfinity(actual))
        {
            return actual == rounded ? 0 : double.PositiveInfinity;
        }

        float magnitude = MathF.Abs(rounded);
        double ulp = Math.Max(MathF.BitIncrement(magnitude) - magnitude, float.Epsilon);
        return Math.Abs(actual - expected) / ulp;
    }

    private static double Erf(double x) => Unary.Erf(x);

    private static double LogOnePlus(double e) => e < 1e-4 ? e - e * e / 2 + e * e * e / 3 : Math.Log(1 + e);

    public static TheoryData<UnaryOp, double> Functions() => new()
    {
        // (function, the largest error in units of the last place the test allows)
        { UnaryOp.Exp, 2 },
        { UnaryOp.Log, 2 },
        { UnaryOp.Sigmoid, 3 },
        { UnaryOp.Tanh, 3 },
        { UnaryOp.Erf, 3 },
        { UnaryOp.Gelu, 16 }, // the negative side rounds x² in e^(-x²/2)
        { UnaryOp.GeluTanh, 16 }, // likewise x³ in e^(-2u)
        { UnaryOp.Softplus, 4 },
        { UnaryOp.Elu, 3 },
    };

    private static double Reference(UnaryOp op, double x) => op switch
    {
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sigmoid => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x)),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Erf => Erf(x),
        UnaryOp.Gelu => 0.5 * x * ErfcAware(x),
        UnaryOp.GeluTanh => x / (1 + Math.Exp(-2 * 0.79788456080286536 * (x + 0.044715 * x * x * x))),
        UnaryOp.Softplus => Math.Max(x, 0) + LogOnePlus(Math.Exp(-Math.Abs(x))),
        UnaryOp.Elu => x >= 0 ? x : x > -1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    // 1 + erf(x/√2) without cancellation in the negative tail: 2·Φ(x).
    private static double ErfcAware(double x) => x >= 0 ? 1 + Erf(x * 0.70710678118654752) : Erfc(-x * 0.70710678118654752);

    // erfc(z) for z ≥ 0: 1 - erf(z) while that keeps ~12 digits (z < 3), else the continued fraction
    // erfc(z) = e^(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), evaluated from the back.
    private static double Erfc(double z)
    {
        if (z < 3)
        {
            return 1 - Erf(z);
        }

        double f = z;
        for (int k = 200; k >= 1; k--)
        {
            f = z + k / 2.0 / f;
        }

        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>
    /// Each function in units of the last place over |x| ≤ 3, where activations do their work, and as a relative error over
    /// the whole sweep wherever the result is not near underflow (|y| ≥ 1e-30: below that the tails' float
    /// intermediates, such as x² in erfc or an overflowing e^-2u in GeluTanh, lose relative digits of results
    /// that are zero for every practical purpose). NaN, infinities and signed zeros are part of the sweep.
    /// </summary>
    [Theory]
    [MemberData(nameof(Functions))]
    public void Fast_functions_are_accurate_to_a_few_ulps_at_every_width(UnaryOp op, double maxUlps)
    {
        float[] x = Sweep();
        foreach (int width in HardwareWidths())
        {
            Simd.Forced = Width(width);
            float[] y = new float[x.Length];
            Unary.Run<float>(op, x, y, op == UnaryOp.Elu ? 1 : 0, 0, KernelContext.SingleThreaded);
            double worst = 0, worstRelative = 0;
            float worstAt = 0, worstValue = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double expected = Reference(op, x[i]);
                if (Math.Abs(x[i]) <= 3 || double.IsNaN(expected) || float.IsInfinity((float)expected))
                {
                    double e = Ulps(y[i], expected);
                    if (e > worst)
                    {
                        (worst, worstAt, worstValue) = (e, x[i], y[i]);
                    }
                }
                else if (Math.Abs(expected) >= 1e-30)
                {
                    worstRelative = Math.Max(worstRelative, Math.Abs(y[i] - expected) / Math.Abs(expected));
                }
            }

            output.WriteLine($"{op} at {width}: max {worst:F2} ulp for |x| <= 3 (at x = {worstAt:R}: {worstValue:R}, exactly {Reference(op, worstAt):R}); beyond, max relative error {worstRelative:E2}");
            Assert.True(worst <= maxUlps, $"{op} at {width}: {worst} ulp at x = {worstAt:R}");
            Assert.True(worstRelative <= 3e-5, $"{op} at {width}: relative error {worstRelative} in the tails");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_vector_unary_function_agrees_with_the_double_definition(int width)
    {
        Simd.Forced = Width(width);
        var random = new Random(7);
        float[] x = new float[1000 + 13];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(random.NextDouble() * 8 - 4);
        }

        foreach (UnaryOp op in Enum.GetValues<UnaryOp>())
        {
            float[] positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Acosh ? [.. x.Select(v => MathF.Abs(v) + 1)] : op is UnaryOp.Asin or UnaryOp.Acos or UnaryOp.Atanh ? [.. x.Select(v => v / 4.5f)] : x;
            float[] fast = new float[x.Length], exact = new float[x.Length];
            Unary.Run<float>(op, positive, fast, 0.7f, 1.3f, KernelContext.SingleThreaded);
            double[] wide = new double[x.Length];
            Unary.Run<double>(op, [.. positive.Select(v => (double)v)], wide, 0.7f, 1.3f, KernelContext.SingleThreaded);
            Assert.True(RelativeL2(fast, wide) < 1e-6, $"{op} at {width}: relative L2 {RelativeL2(fast, wide)}");

            // In place gives the same.
            float[] inPlace = [.. positive];
            Unary.Run<float>(op, inPlace, inPlace, 0.7f, 1.3f, KernelContext.SingleThreaded);
            Assert.Equal(fast, inPlace);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Split_unary_and_gelu_give_the_single_thread_results_bit_for_bit(int width)
    {
        Simd.Forced = Width(width);
        using var context = new KernelContext(3);
        float[] x = Random(new Random(11), 200_003);
        foreach (UnaryOp op in new[] { UnaryOp.Exp, UnaryOp.Tanh, UnaryOp.Relu, UnaryOp.Cos })
        {
            float[] one = new float[x.Length], split = new float[x.Length];
            Unary.Run<float>(op, x, one, 0, 0, KernelContext.SingleThreaded);
            Unary.Run<float>(op, x, split, 0, 0, context);
            Assert.Equal(one, split);
        }

        float[] g1 = new float[x.Length], g3 = [.. x];
        Gelu.Run(x, g1, approximate: false, KernelContext.SingleThreaded);
        Gelu.Run(g3, g3, approximate: false, context);
        Assert.Equal(g1, g3);
    }

    private static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }

        return Math.Sqrt(diff / Math.Max(norm, 1e-300));
    }

    public static TheoryData<int, int> WidthsAndThreads()
    {
        var data = new TheoryData<int, int>();
        foreach (int width in HardwareWidths())
        {
            data.Add(width, 1);
            data.Add(width, 3);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndThreads))]
    public void Softmax_matches_the_double_definition(int width, int threads)
    {
        Simd.Forced = Width(width);
        using var context = new KernelContext(threads);
        var random = new Random(3);

        // (outer, axis, inner): last-axis rows with tails, columns past one chunk, and big enough to split.
        foreach ((int outer, int axis, int inner) in new[] { (3, 37, 1), (2, 5, 70), (256, 128, 1), (4, 33, 129), (1, 1, 1) })
        {
            float[] x = new float[outer * axis * inner];
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (float)(random.NextDouble() * 20 - 10) + (i % 7 == 0 ? 1000 : 0);
            }

            foreach (bool log in new[] { false, true })
            {
                float[] y = new float[x.Length];
                Softmax.Run(x, y, axis, inner, log, context);
                double[] expected = new double[x.Length];
                for (int o = 0; o < outer; o++)
                {
                    for (int c = 0; c < inner; c++)
                    {
                        int at(int j) => (o * axis + j) * inner + c;
                        double max = Enumerable.Range(0, axis).Max(j => (double)x[at(j)]);
                        double sum = Enumerable.Range(0, axis).Sum(j => Math.Exp(x[at(j)] - max));
                        for (int j = 0; j < axis; j++)
                        {
                            expected[at(j)] = log ? x[at(j)] - max - Math.Log(sum) : Math.Exp(x[at(j)] - max) / sum;
                        }
                    }
                }

                Assert.True(RelativeL2(y, expected) < 1e-6, $"{outer}×{axis}×{inner} log={log}: {RelativeL2(y, expected)}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndThreads))]
    public void Normalization_matches_the_double_definition(int width, int threads)
    {
        Simd.Forced = Width(width);
        using var context = new KernelContext(threads);
        var random = new Random(5);

        // (rows, size, groups, channels): LayerNorm rows with tails and big enough to split, and grouped layouts.
        foreach ((int rows, int size, int groups, int channels) in new[] { (3, 37, 1, 37), (256, 256, 1, 256), (6, 40, 3, 4), (200, 300, 4, 1) })
        {
            float[] x = [.. Enumerable.Range(0, rows * size).Select(_ => (float)(random.NextDouble() * 4 + 100))];
            float[] scale = [.. Enumerable.Range(0, groups * channels).Select(_ => (float)random.NextDouble() + 0.5f)];
            float[] bias = [.. Enumerable.Range(0, groups * channels).Select(_ => (float)random.NextDouble())];
            float[] y = new float[x.Length], mean = new float[rows], inv = new float[rows];
            Normalization.Run(x, scale, bias, y, mean, inv, size, groups, channels, 1e-5f, context);
            double[] expected = new double[x.Length];
            int run = size / channels;
            for (int r = 0; r < rows; r++)
            {
                double mu = Enumerable.Range(0, size).Average(i => (double)x[r * size + i]);
                double variance = Enumerable.Range(0, size).Average(i => (x[r * size + i] - mu) * (x[r * size + i] - mu));
                double k = 1 / Math.Sqrt(variance + 1e-5);
                Assert.Equal(mu, mean[r], 1e-3);
                Assert.Equal(k, inv[r], k * 1e-5);
                for (int i = 0; i < size; i++)
                {
                    int p = r % groups * channels + i / run;
                    expected[r * size + i] = (x[r * size + i] - mu) * k * scale[p] + bias[p];
                }
            }

            Assert.True(RelativeL2(y, expected) < 1e-5, $"{rows}×{size} groups {groups}: {RelativeL2(y, expected)}");
        }
    }

    [Theory]
    [MemberData(nameof(WidthsAndThreads))]
    public void Attention_matches_the_double_definition(int width, int threads)
    {
        Simd.Forced = Width(width);
        using var context = new KernelContext(threads);
        var random = new Random(9);

        // (heads, queries, keys, depth, valueDepth): ragged blocks and columns, a BERT-sized head set that splits, and
        // keys and depth past whole 8×8 blocks (the transposed keys' edges).
        // Heads stored one after the other ([heads, rows, width]), or interleaved row by row ([rows, heads, width]:
        // a head read and written in place through row strides, as in a [batch, sequence, heads, depth] tensor).
        foreach ((int heads, int queries, int keys, int depth, int valueDepth) in new[] { (2, 7, 13, 5, 9), (4, 128, 128, 64, 64), (3, 9, 21, 19, 10), (1, 1, 1, 1, 1) })
        {
            foreach (bool keyTransposed in new[] { false, true })
            {
                foreach (bool interleaved in new[] { false, true })
                {
                    // Element (h, row, col) of a [heads, rows, width] operand, in either layout.
                    int At(int h, int row, int col, int rows, int width) => interleaved ? (row * heads + h) * width + col : (h * rows + row) * width + col;
                    (int Batch, int Row) Strides(int rows, int width) => interleaved ? (width, heads * width) : (rows * width, width);

                    float[] q = Random(random, heads * queries * depth), k = Random(random, heads * keys * depth), v = Random(random, heads * keys * valueDepth);
                    float[] mask = Random(random, keys);
                    float[] y = new float[heads * queries * valueDepth];
                    int slices = Math.Min(Attention.Slices, heads * ((queries + Attention.BlockRows - 1) / Attention.BlockRows));
                    float scale = 1 / MathF.Sqrt(depth);
                    var (qs, ks, vs, ys) = (Strides(queries, depth), keyTransposed ? Strides(depth, keys) : Strides(keys, depth), Strides(keys, valueDepth), Strides(queries, valueDepth));
                    float[] scores = new float[slices * Attention.SliceLength(keys, depth, valueDepth, keyTransposed, ks.Row, vs.Row)];
                    Attention.Run(q, k, v, mask, y, scores, queries, keys, depth, valueDepth, keyTransposed, scale,
                        [heads], [qs.Batch], [ks.Batch], [vs.Batch], [0], 0, 1, [ys.Batch], qs.Row, ks.Row, vs.Row, ys.Row, context);

                    double[] expected = new double[y.Length];
                    double[] s = new double[keys];
                    for (int h = 0; h < heads; h++)
                    {
                        for (int i = 0; i < queries; i++)
                        {
                            for (int j = 0; j < keys; j++)
                            {
                                double dot = 0;
                                for (int d = 0; d < depth; d++)
                                {
                                    float kv = keyTransposed ? k[At(h, d, j, depth, keys)] : k[At(h, j, d, keys, depth)];
                                    dot += q[At(h, i, d, queries, depth)] * (double)kv;
                                }

                                s[j] = dot * scale + mask[j];
                            }

                            double max = s.Max(), sum = s.Sum(e => Math.Exp(e - max));
                            for (int c = 0; c < valueDepth; c++)
                            {
                                double acc = 0;
                                for (int j = 0; j < keys; j++)
                                {
                                    acc += Math.Exp(s[j] - max) / sum * v[At(h, j, c, keys, valueDepth)];
                                }

                                expected[At(h, i, c, queries, valueDepth)] = acc;
                            }
                        }
                    }

                    Assert.True(RelativeL2(y, expected) < 1e-6, $"{heads}×{queries}×{keys}×{depth} transposed={keyTransposed} interleaved={interleaved}: {RelativeL2(y, expected)}");
                }
            }
        }
    }

    private static float[] Random(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    [Fact]
    public void Forcing_a_width_stays_on_its_thread()
    {
        Simd.Forced = SimdWidth.W128;
        SimdWidth elsewhere = SimdWidth.W128;
        var thread = new Thread(() => elsewhere = Simd.Width);
        thread.Start();
        thread.Join();
        Assert.Equal(SimdWidth.W128, Simd.Width);
        Assert.Equal(Simd.HardwareWidth, elsewhere);
    }
}
