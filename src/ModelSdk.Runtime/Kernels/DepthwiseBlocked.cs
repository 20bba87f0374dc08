using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Depthwise 2-d convolution on small planes (14×14, 7×7: the late layers of mobile networks), sixteen channels
/// at a time across the lanes of a <see cref="Vector512{T}"/>. Per plane, the NCHW layout leaves a 7×7 output a
/// handful of vectors and spends most of its time on per-channel overhead; here each block of sixteen channels
/// is transposed (16×16 register transposes) into a zero-padded channel-interleaved patch, every multiply-add
/// then fills all sixteen lanes, and the results are transposed back into NCHW as they are stored. AVX-512 only;
/// <see cref="DirectConv"/> handles everything else.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DepthwiseBlocked
{
    private const int Lanes = 16;
    private const int MaxOutputs = 256;
    private const int MaxPatchPositions = 400;
    private const long MinParallelMacs = 64 * 1024;

    /// <summary>Off: every depthwise convolution takes <see cref="DirectConv"/>'s NCHW path (tests and measurements compare both).</summary>
    internal static bool Enabled { get; set; } = true;

    private struct Job
    {
        public float* X, W, B, Y;
        public int Channels, Blocks, Units, UnitsPerItem;
        public int H, W_, OH, OW, KH, KW, SY, SX, DY, DX, PT, PL, PH, PW;
        public Activation Activation;
        public float Alpha, Beta;
    }

    /// <summary>Whether the blocked kernel takes this depthwise convolution: AVX-512, small planes, at least 3×3 taps, no residual.</summary>
    public static bool Handles(int cg, int mg, ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, bool residual)
    {
        if (!Enabled || cg != 1 || mg != 1 || input.Length != 2 || residual || Simd.Width != SimdWidth.W512 || !Avx512F.IsSupported)
        {
            return false;
        }

        int ph = (output[0] - 1) * strides[0] + (kernel[0] - 1) * dilations[0] + 1;
        int pw = (output[1] - 1) * strides[1] + (kernel[1] - 1) * dilations[1] + 1;
        return kernel[0] * kernel[1] >= 9 && output[0] * output[1] <= MaxOutputs && (long)ph * pw <= MaxPatchPositions;
    }

    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int batch, int channels,
        ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin,
        Activation activation, float alpha, float beta, KernelContext context)
    {
        var job = new Job
        {
            Channels = channels, Blocks = (channels + Lanes - 1) / Lanes,
            H = input[0], W_ = input[1], OH = output[0], OW = output[1], KH = kernel[0], KW = kernel[1],
            SY = strides[0], SX = strides[1], DY = dilations[0], DX = dilations[1], PT = padsBegin[0], PL = padsBegin[1],
            Activation = activation, Alpha = alpha, Beta = beta,
        };

        // The patch covers every input position an output reads, padding included.
        job.PH = (job.OH - 1) * job.SY + (job.KH - 1) * job.DY + 1;
        job.PW = (job.OW - 1) * job.SX + (job.KW - 1) * job.DX + 1;
        job.Units = batch * job.Blocks;
        long macs = (long)batch * channels * job.OH * job.OW * job.KH * job.KW;
        int chunks = context.Workers.ThreadCount > 1 ? Math.Min(job.Units, context.Workers.Chunks(macs, MinParallelMacs)) : 1;
        job.UnitsPerItem = (job.Units + chunks - 1) / chunks;
        fixed (float* px = x, pw = w, pb = b, py = y)
        {
            job.X = px;
            job.W = pw;
            job.B = pb;
            job.Y = py;
            int items = (job.Units + job.UnitsPerItem - 1) / job.UnitsPerItem;
            if (items <= 1)
            {
                RunItem(&job, 0);
            }
            else
            {
                context.Workers.For(items, &RunItem, &job);
            }
        }
    }

    private static void RunItem(void* state, int index)
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        int taps = job.KH * job.KW;
        float* patch = stackalloc float[job.PH * job.PW * Lanes];
        float* results = stackalloc float[(job.OH * job.OW + Lanes) * Lanes];
        float* weights = stackalloc float[taps * Lanes];
        int* offsets = stackalloc int[taps];
        for (int ky = 0, t = 0; ky < job.KH; ky++)
        {
            for (int kx = 0; kx < job.KW; kx++, t++)
            {
                offsets[t] = (ky * job.DY * job.PW + kx * job.DX) * Lanes;
            }
        }

        int first = index * job.UnitsPerItem, last = Math.Min(job.Units, first + job.UnitsPerItem);
        for (int u = first; u < last; u++)
        {
            int n = u / job.Blocks, c0 = u % job.Blocks * Lanes;
            Block(ref job, n, c0, Math.Min(Lanes, job.Channels - c0), patch, results, weights, offsets);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(ref Job job, int n, int c0, int count, float* patch, float* results, float* weights, int* offsets)
    {
        int taps = job.KH * job.KW, planeIn = job.H * job.W_, planeOut = job.OH * job.OW;
        float* x = job.X + ((long)n * job.Channels + c0) * planeIn;
        float* y = job.Y + ((long)n * job.Channels + c0) * planeOut;

        // Weights and bias, one lane per channel (zero past the last channel): sixteen taps of sixteen channels per transpose.
        Vector512<float>* rows = stackalloc Vector512<float>[Lanes];
        for (int t0 = 0; t0 < taps; t0 += Lanes)
        {
            int m = Math.Min(Lanes, taps - t0);
            for (int i = 0; i < Lanes; i++)
            {
                rows[i] = i >= count ? Vector512<float>.Zero : Simd512.LoadPartial(job.W + (long)(c0 + i) * taps + t0, m);
            }

            Transpose(rows);
            for (int j = 0; j < m; j++)
            {
                rows[j].Store(weights + (t0 + j) * Lanes);
            }
        }

        Vector512<float> bias = job.B == null ? Vector512<float>.Zero : Simd512.LoadPartial(job.B + c0, count);

        // Input → channel-interleaved patch: sixteen flat positions of sixteen planes per transpose.
        new Span<float>(patch, job.PH * job.PW * Lanes).Clear();
        for (int p0 = 0; p0 < planeIn; p0 += Lanes)
        {
            int m = Math.Min(Lanes, planeIn - p0);
            for (int i = 0; i < Lanes; i++)
            {
                rows[i] = i >= count ? Vector512<float>.Zero
                    : m == Lanes ? Vector512.Load(x + (long)i * planeIn + p0)
                    : Simd512.LoadPartial(x + (long)i * planeIn + p0, m);
            }

            Transpose(rows);
            int iy = p0 / job.W_, ix = p0 - iy * job.W_;
            for (int j = 0; j < m; j++)
            {
                // Positions no output reads (past the last window) have no place in the patch.
                int py = iy + job.PT, px = ix + job.PL;
                if (py < job.PH && px < job.PW)
                {
                    rows[j].Store(patch + (py * job.PW + px) * Lanes);
                }

                if (++ix == job.W_)
                {
                    ix = 0;
                    iy++;
                }
            }
        }

        // Outputs in groups of eight, each with its own base in the patch; a short last group repeats its last output.
        int* bases = stackalloc int[8];
        for (int q0 = 0; q0 < planeOut; q0 += 8)
        {
            for (int j = 0; j < 8; j++)
            {
                int q = Math.Min(q0 + j, planeOut - 1), oy = q / job.OW, ox = q - oy * job.OW;
                bases[j] = (oy * job.SY * job.PW + ox * job.SX) * Lanes;
            }

            Accumulate8(patch, bases, offsets, weights, taps, bias, results + q0 * Lanes);
        }

        if (job.Activation != Activation.None)
        {
            for (int q = 0; q < planeOut; q++)
            {
                float* r = results + q * Lanes;
                StoreEpilogue.Activate<Vector512<float>, Simd512>(Vector512.Load(r), job.Activation, job.Alpha, job.Beta).Store(r);
            }
        }

        // Back to NCHW: sixteen outputs of sixteen channels per transpose.
        for (int q0 = 0; q0 < planeOut; q0 += Lanes)
        {
            int m = Math.Min(Lanes, planeOut - q0);
            for (int j = 0; j < Lanes; j++)
            {
                rows[j] = Vector512.Load(results + (q0 + j) * Lanes); // past the last output: scratch, not stored
            }

            Transpose(rows);
            for (int i = 0; i < count; i++)
            {
                if (m == Lanes)
                {
                    rows[i].Store(y + (long)i * planeOut + q0);
                }
                else
                {
                    Simd512.StorePartial(rows[i], y + (long)i * planeOut + q0, m);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate8(float* patch, int* bases, int* offsets, float* weights, int taps, Vector512<float> bias, float* results)
    {
        float* p0 = patch + bases[0], p1 = patch + bases[1], p2 = patch + bases[2], p3 = patch + bases[3];
        float* p4 = patch + bases[4], p5 = patch + bases[5], p6 = patch + bases[6], p7 = patch + bases[7];
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int t = 0; t < taps; t++)
        {
            Vector512<float> wv = Vector512.Load(weights + t * Lanes);
            int o = offsets[t];
            a0 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p0 + o), a0);
            a1 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p1 + o), a1);
            a2 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p2 + o), a2);
            a3 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p3 + o), a3);
            a4 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p4 + o), a4);
            a5 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p5 + o), a5);
            a6 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p6 + o), a6);
            a7 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p7 + o), a7);
        }

        a0.Store(results);
        a1.Store(results + Lanes);
        a2.Store(results + 2 * Lanes);
        a3.Store(results + 3 * Lanes);
        a4.Store(results + 4 * Lanes);
        a5.Store(results + 5 * Lanes);
        a6.Store(results + 6 * Lanes);
        a7.Store(results + 7 * Lanes);
    }

    /// <summary>
    /// Transposes sixteen rows of sixteen floats in place: four rounds of interleaving row <c>i</c> with row <c>i + 8</c>
    /// (a perfect shuffle of the rows) take element <c>(r, c)</c> to <c>(c, r)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector512<float>* rows)
    {
        Vector512<int> lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        Vector512<int> hi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        Vector512<float> r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7], r8 = rows[8], r9 = rows[9], r10 = rows[10], r11 = rows[11], r12 = rows[12], r13 = rows[13], r14 = rows[14], r15 = rows[15];
        Vector512<float> t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15;
        t0 = Avx512F.PermuteVar16x32x2(r0, lo, r8);
        t1 = Avx512F.PermuteVar16x32x2(r0, hi, r8);
        t2 = Avx512F.PermuteVar16x32x2(r1, lo, r9);
        t3 = Avx512F.PermuteVar16x32x2(r1, hi, r9);
        t4 = Avx512F.PermuteVar16x32x2(r2, lo, r10);
        t5 = Avx512F.PermuteVar16x32x2(r2, hi, r10);
        t6 = Avx512F.PermuteVar16x32x2(r3, lo, r11);
        t7 = Avx512F.PermuteVar16x32x2(r3, hi, r11);
        t8 = Avx512F.PermuteVar16x32x2(r4, lo, r12);
        t9 = Avx512F.PermuteVar16x32x2(r4, hi, r12);
        t10 = Avx512F.PermuteVar16x32x2(r5, lo, r13);
        t11 = Avx512F.PermuteVar16x32x2(r5, hi, r13);
        t12 = Avx512F.PermuteVar16x32x2(r6, lo, r14);
        t13 = Avx512F.PermuteVar16x32x2(r6, hi, r14);
        t14 = Avx512F.PermuteVar16x32x2(r7, lo, r15);
        t15 = Avx512F.PermuteVar16x32x2(r7, hi, r15);
        r0 = Avx512F.PermuteVar16x32x2(t0, lo, t8);
        r1 = Avx512F.PermuteVar16x32x2(t0, hi, t8);
        r2 = Avx512F.PermuteVar16x32x2(t1, lo, t9);
        r3 = Avx512F.PermuteVar16x32x2(t1, hi, t9);
        r4 = Avx512F.PermuteVar16x32x2(t2, lo, t10);
        r5 = Avx512F.PermuteVar16x32x2(t2, hi, t10);
        r6 = Avx512F.PermuteVar16x32x2(t3, lo, t11);
        r7 = Avx512F.PermuteVar16x32x2(t3, hi, t11);
        r8 = Avx512F.PermuteVar16x32x2(t4, lo, t12);
        r9 = Avx512F.PermuteVar16x32x2(t4, hi, t12);
        r10 = Avx512F.PermuteVar16x32x2(t5, lo, t13);
        r11 = Avx512F.PermuteVar16x32x2(t5, hi, t13);
        r12 = Avx512F.PermuteVar16x32x2(t6, lo, t14);
        r13 = Avx512F.PermuteVar16x32x2(t6, hi, t14);
        r14 = Avx512F.PermuteVar16x32x2(t7, lo, t15);
        r15 = Avx512F.PermuteVar16x32x2(t7, hi, t15);
        t0 = Avx512F.PermuteVar16x32x2(r0, lo, r8);
        t1 = Avx512F.PermuteVar16x32x2(r0, hi, r8);
        t2 = Avx512F.PermuteVar16x32x2(r1, lo, r9);
        t3 = Avx512F.PermuteVar16x32x2(r1, hi, r9);
        t4 = Avx512F.PermuteVar16x32x2(r2, lo, r10);
        t5 = Avx512F.PermuteVar16x32x2(r2, hi, r10);
        t6 = Avx512F.PermuteVar16x32x2(r3, lo, r11);
        t7 = Avx512F.PermuteVar16x32x2(r3, hi, r11);
        t8 = Avx512F.PermuteVar16x32x2(r4, lo, r12);
        t9 = Avx512F.PermuteVar16x32x2(r4, hi, r12);
        t10 = Avx512F.PermuteVar16x32x2(r5, lo, r13);
        t11 = Avx512F.PermuteVar16x32x2(r5, hi, r13);
        t12 = Avx512F.PermuteVar16x32x2(r6, lo, r14);
        t13 = Avx512F.PermuteVar16x32x2(r6, hi, r14);
        t14 = Avx512F.PermuteVar16x32x2(r7, lo, r15);
        t15 = Avx512F.PermuteVar16x32x2(r7, hi, r15);
        r0 = Avx512F.PermuteVar16x32x2(t0, lo, t8);
        r1 = Avx512F.PermuteVar16x32x2(t0, hi, t8);
        r2 = Avx512F.PermuteVar16x32x2(t1, lo, t9);
        r3 = Avx512F.PermuteVar16x32x2(t1, hi, t9);
        r4 = Avx512F.PermuteVar16x32x2(t2, lo, t10);
        r5 = Avx512F.PermuteVar16x32x2(t2, hi, t10);
        r6 = Avx512F.PermuteVar16x32x2(t3, lo, t11);
        r7 = Avx512F.PermuteVar16x32x2(t3, hi, t11);
        r8 = Avx512F.PermuteVar16x32x2(t4, lo, t12);
        r9 = Avx512F.PermuteVar16x32x2(t4, hi, t12);
        r10 = Avx512F.PermuteVar16x32x2(t5, lo, t13);
        r11 = Avx512F.PermuteVar16x32x2(t5, hi, t13);
        r12 = Avx512F.PermuteVar16x32x2(t6, lo, t14);
        r13 = Avx512F.PermuteVar16x32x2(t6, hi, t14);
        r14 = Avx512F.PermuteVar16x32x2(t7, lo, t15);
        r15 = Avx512F.PermuteVar16x32x2(t7, hi, t15);
        rows[0] = r0;
        rows[1] = r1;
        rows[2] = r2;
        rows[3] = r3;
        rows[4] = r4;
        rows[5] = r5;
        rows[6] = r6;
        rows[7] = r7;
        rows[8] = r8;
        rows[9] = r9;
        rows[10] = r10;
        rows[11] = r11;
        rows[12] = r12;
        rows[13] = r13;
        rows[14] = r14;
        rows[15] = r15;
    }
}
