using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Depthwise 2-d convolution with sixteen channels across the lanes of a <see cref="Vector512{T}"/>. In NCHW a
/// depthwise plane is a few short rows (14×14, 7×7) or needs its stride phases split apart (56×56 stride 2), and
/// per-plane overhead dominates; here each block of sixteen channels is transposed (16×16 register transposes) row
/// by row into a ring of zero-padded channel-interleaved input rows, just the rows the current output row reads,
/// so the working set stays in L1 whatever the plane size. Every multiply-add fills all sixteen lanes: eight
/// outputs of a row accumulate in registers with the weights of a kernel row held alongside, so each patch
/// vector loaded serves every output that reads it. The bias starts the sums, the activation is applied as they
/// leave the registers, and the results are transposed back into NCHW sixteen flat positions at
/// a time. All scratch is 64-byte aligned, so no vector load splits over two cache lines. AVX-512 only;
/// <see cref="DirectConv"/> handles everything else.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DepthwiseBlocked
{
    private const int Lanes = 16;
    private const int Group = 8;

    // Ring rows × padded row width, in channel-interleaved positions (64 bytes each): the ring, the zero row and
    // the staged results live on the stack of the thread running a work item.
    private const int MaxRingPositions = 768;
    private const int MaxRowPositions = 512;
    private const long MinParallelMacs = 64 * 1024;

    /// <summary>Off: every depthwise convolution takes <see cref="DirectConv"/>'s NCHW path (tests and measurements compare both).</summary>
    internal static bool Enabled { get; set; } = true;

    private struct Job
    {
        public float* X, W, B, Y;
        public int Channels, Blocks, RowChunks, RowsPerChunk, Units, UnitsPerItem;
        public int H, W_, OH, OW, KH, KW, SY, SX, DY, DX, PT, PL, PW, RowStride, RingRows;
        public Activation Activation;
        public float Alpha, Beta;
    }

    /// <summary>
    /// Whether the blocked kernel takes this depthwise convolution: AVX-512, at least 3×3 taps, no residual, at
    /// least half a block of channels (with fewer, most lanes would be idle and the NCHW path does better), and a
    /// ring of input rows that fits the stack budget.
    /// </summary>
    public static bool Handles(int channels, int cg, int mg, ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, bool residual)
    {
        if (!Enabled || cg != 1 || mg != 1 || channels < Lanes / 2 || input.Length != 2 || residual || Simd.Width != SimdWidth.W512 || !Avx512F.IsSupported)
        {
            return false;
        }

        long ringRows = (long)(kernel[0] - 1) * dilations[0] + 1;
        long pw = (long)(output[1] - 1) * strides[1] + (long)(kernel[1] - 1) * dilations[1] + 1;
        if (kernel[0] * kernel[1] < 9 || pw > MaxRowPositions)
        {
            return false;
        }

        return ringRows * RowStride((int)pw, strides[1], kernel[1], dilations[1]) <= MaxRingPositions;
    }

    /// <summary>
    /// Positions per ring row: the padded input row, and at least what one group of outputs reads, so that rows
    /// shorter than a group (7×7 planes) still take the unrolled groups; the columns past the input stay zero.
    /// </summary>
    private static int RowStride(int pw, int sx, int kw, int dx) => Math.Max(pw, (Group - 1) * sx + (kw - 1) * dx + 1);

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

        // A ring row covers every input column an output reads, padding included; the ring holds the rows of one output row's windows.
        job.PW = (job.OW - 1) * job.SX + (job.KW - 1) * job.DX + 1;
        job.RowStride = RowStride(job.PW, job.SX, job.KW, job.DX);
        job.RingRows = (job.KH - 1) * job.DY + 1;
        long macs = (long)batch * channels * job.OH * job.OW * job.KH * job.KW;
        long activations = (long)batch * channels * ((job.H * job.W_) + (job.OH * job.OW));
        int chunks = context.Workers.ThreadCount > 1 && context.Workers.Splits(macs, activations, job.KH * job.KW) ? context.Workers.Chunks(macs, MinParallelMacs) : 1;

        // With fewer channel blocks than chunks (a 16-channel layer on a large plane), the output rows are split too;
        // each row chunk rebuilds the few input rows its first windows share with the previous chunk.
        int perImage = batch * job.Blocks;
        job.RowChunks = Math.Clamp((chunks + perImage - 1) / perImage, 1, job.OH);
        job.RowsPerChunk = (job.OH + job.RowChunks - 1) / job.RowChunks;
        job.RowChunks = (job.OH + job.RowsPerChunk - 1) / job.RowsPerChunk;
        job.Units = perImage * job.RowChunks;
        chunks = Math.Min(chunks, job.Units);
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

    private static float* Align(byte* p) => (float*)(((nint)p + 63) & ~(nint)63);

    private static void RunItem(void* state, int index)
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        int taps = job.KH * job.KW;
        int rowFloats = job.RowStride * Lanes;

        // 64-byte aligned, so that no vector load or store splits over two cache lines.
        int ringFloats = job.RingRows * rowFloats;
        int resultFloats = (2 * Lanes + job.OW + Group) * Lanes;
        byte* scratch = stackalloc byte[(ringFloats + rowFloats + resultFloats + taps * Lanes) * sizeof(float) + 64];
        float* ring = Align(scratch);
        float* zeros = ring + ringFloats;
        float* results = zeros + rowFloats;
        float* weights = results + resultFloats;

        // The padding columns of the ring are never written by the row builds, so clearing once serves every block.
        new Span<float>(ring, ringFloats + rowFloats).Clear();

        int first = index * job.UnitsPerItem, last = Math.Min(job.Units, first + job.UnitsPerItem);
        for (int u = first; u < last; u++)
        {
            int chunk = u % job.RowChunks, rest = u / job.RowChunks;
            int n = rest / job.Blocks, c0 = rest % job.Blocks * Lanes;
            int oy0 = chunk * job.RowsPerChunk, oy1 = Math.Min(job.OH, oy0 + job.RowsPerChunk);
            Block(ref job, n, c0, Math.Min(Lanes, job.Channels - c0), oy0, oy1, ring, zeros, results, weights);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(ref Job job, int n, int c0, int count, int oy0, int oy1, float* ring, float* zeros, float* results, float* weights)
    {
        int taps = job.KH * job.KW, planeIn = job.H * job.W_, planeOut = job.OH * job.OW;
        float* x = job.X + ((long)n * job.Channels + c0) * planeIn;
        float* y = job.Y + ((long)n * job.Channels + c0) * planeOut;
        int rowFloats = job.RowStride * Lanes;

        // Weights, one lane per channel (zero past the last channel): sixteen taps of sixteen channels per transpose.
        for (int t0 = 0; t0 < taps; t0 += Lanes)
        {
            TransposeIn(job.W + (long)c0 * taps + t0, taps, count, Math.Min(Lanes, taps - t0), weights + t0 * Lanes);
        }

        Vector512<float> bias = job.B == null ? Vector512<float>.Zero : Simd512.LoadPartial(job.B + c0, count);
        float** kernelRows = stackalloc float*[job.KH];
        int* columns = stackalloc int[Group];
        bool unrolled = job.DX == 1 && (job.SX == 1 || job.SX == 2) && (job.KW == 3 || job.KW == 5);

        // Staged results hold flat outputs [staged, staged + pending): whole runs of sixteen go back to NCHW as soon as they are complete.
        int staged = oy0 * job.OW, pending = 0;
        int built = oy0 * job.SY - job.PT - 1; // the last input row in the ring
        for (int oy = oy0; oy < oy1; oy++)
        {
            int top = oy * job.SY - job.PT;
            for (int iy = Math.Max(built + 1, top); iy <= top + (job.KH - 1) * job.DY; iy++)
            {
                if (iy >= 0 && iy < job.H)
                {
                    BuildRow(ref job, x + (long)iy * job.W_, count, ring + iy % job.RingRows * rowFloats);
                }
            }

            built = top + (job.KH - 1) * job.DY;
            for (int ky = 0; ky < job.KH; ky++)
            {
                int iy = top + ky * job.DY;
                kernelRows[ky] = iy < 0 || iy >= job.H ? zeros : ring + iy % job.RingRows * rowFloats;
            }

            float* rowResults = results + pending * Lanes;
            if (unrolled)
            {
                // Groups of eight; the last one ends at the row's end, recomputing a few outputs of the one before. A row
                // shorter than a group computes a few outputs past its end, into the staging slack, from zero columns.
                for (int ox = 0; ox < job.OW; ox += Group)
                {
                    int start = Math.Min(ox, Math.Max(0, job.OW - Group)), column = start * job.SX * Lanes;
                    float* r = rowResults + start * Lanes;
                    switch (job.SX * 8 + job.KW)
                    {
                        case 11:
                            Group8S1K3(kernelRows, job.KH, column, weights, bias, r, job.Activation, job.Alpha, job.Beta);
                            break;
                        case 13:
                            Group8S1K5(kernelRows, job.KH, column, weights, bias, r, job.Activation, job.Alpha, job.Beta);
                            break;
                        case 19:
                            Group8S2K3(kernelRows, job.KH, column, weights, bias, r, job.Activation, job.Alpha, job.Beta);
                            break;
                        default:
                            Group8S2K5(kernelRows, job.KH, column, weights, bias, r, job.Activation, job.Alpha, job.Beta);
                            break;
                    }
                }
            }
            else
            {
                // Any stride, dilation and width; a short last group repeats the row's last output.
                for (int ox = 0; ox < job.OW; ox += Group)
                {
                    for (int j = 0; j < Group; j++)
                    {
                        columns[j] = Math.Min(ox + j, job.OW - 1) * job.SX * Lanes;
                    }

                    GroupAny(kernelRows, job.KH, job.KW, job.DX * Lanes, columns, weights, bias, rowResults + ox * Lanes, job.Activation, job.Alpha, job.Beta);
                }
            }

            pending += job.OW;
            int done = 0;
            for (; pending - done >= Lanes; done += Lanes)
            {
                TransposeOut(results + done * Lanes, y + staged + done, planeOut, count, Lanes);
            }

            staged += done;
            pending -= done;
            if (done > 0 && pending > 0)
            {
                Buffer.MemoryCopy(results + done * Lanes, results, pending * Lanes * sizeof(float), pending * Lanes * sizeof(float));
            }
        }

        if (pending > 0)
        {
            TransposeOut(results, y + staged, planeOut, count, pending);
        }
    }

    /// <summary>Input row <paramref name="x"/> of <paramref name="count"/> planes into a ring row: sixteen columns of sixteen planes per transpose.</summary>
    private static void BuildRow(ref Job job, float* x, int count, float* row)
    {
        // Columns past the last window's reach have no place in the row.
        int width = Math.Min(job.W_, job.PW - job.PL);
        float* target = row + job.PL * Lanes;
        for (int ix = 0; ix < width; ix += Lanes)
        {
            TransposeIn(x + ix, job.H * job.W_, count, Math.Min(Lanes, width - ix), target + ix * Lanes);
        }
    }

    /// <summary>The activation over staged sums, while they are still in L1.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Activate(float* results, int count, Activation activation, float alpha, float beta)
    {
        var unchanged = default(StoreEpilogue.Unchanged<Vector512<float>>);
        StoreEpilogue.ActivateRows<Vector512<float>, Simd512, StoreEpilogue.Unchanged<Vector512<float>>>(ref unchanged, results, Lanes, count, Lanes, activation, alpha, beta);
    }

    /// <summary>
    /// Stores eight sums after the activation: the piecewise-linear ones of mobile networks on the registers, any
    /// other over the stored vectors (out of line, so that its code does not crowd the accumulation's registers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(
        float* results, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7, Activation activation, float alpha, float beta)
    {
        if (activation == Activation.Relu)
        {
            a0 = Vector512.Max(a0, Vector512<float>.Zero);
            a1 = Vector512.Max(a1, Vector512<float>.Zero);
            a2 = Vector512.Max(a2, Vector512<float>.Zero);
            a3 = Vector512.Max(a3, Vector512<float>.Zero);
            a4 = Vector512.Max(a4, Vector512<float>.Zero);
            a5 = Vector512.Max(a5, Vector512<float>.Zero);
            a6 = Vector512.Max(a6, Vector512<float>.Zero);
            a7 = Vector512.Max(a7, Vector512<float>.Zero);
        }
        else if (activation == Activation.HardSwish)
        {
            a0 = HardSwish(a0);
            a1 = HardSwish(a1);
            a2 = HardSwish(a2);
            a3 = HardSwish(a3);
            a4 = HardSwish(a4);
            a5 = HardSwish(a5);
            a6 = HardSwish(a6);
            a7 = HardSwish(a7);
        }

        a0.Store(results);
        a1.Store(results + Lanes);
        a2.Store(results + 2 * Lanes);
        a3.Store(results + 3 * Lanes);
        a4.Store(results + 4 * Lanes);
        a5.Store(results + 5 * Lanes);
        a6.Store(results + 6 * Lanes);
        a7.Store(results + 7 * Lanes);
        if (activation is not (Activation.None or Activation.Relu or Activation.HardSwish))
        {
            Activate(results, Group, activation, alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HardSwish(Vector512<float> v)
        => StoreEpilogue.Activate<Vector512<float>, Simd512>(v, Activation.HardSwish, 0, 0);

    /// <summary>Eight outputs of a row at any stride, dilation and kernel width: <paramref name="columns"/> are their first patch columns (in floats).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void GroupAny(float** rows, int kh, int kw, int step, int* columns, float* weights, Vector512<float> bias, float* results, Activation activation, float alpha, float beta)
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int ky = 0; ky < kh; ky++)
        {
            float* p = rows[ky];
            float* p0 = p + columns[0], p1 = p + columns[1], p2 = p + columns[2], p3 = p + columns[3];
            float* p4 = p + columns[4], p5 = p + columns[5], p6 = p + columns[6], p7 = p + columns[7];
            float* wr = weights + ky * kw * Lanes;
            for (int kx = 0, o = 0; kx < kw; kx++, o += step)
            {
                Vector512<float> wv = Vector512.Load(wr + kx * Lanes);
                a0 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p0 + o), a0);
                a1 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p1 + o), a1);
                a2 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p2 + o), a2);
                a3 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p3 + o), a3);
                a4 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p4 + o), a4);
                a5 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p5 + o), a5);
                a6 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p6 + o), a6);
                a7 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(p7 + o), a7);
            }
        }

        Store8(results, a0, a1, a2, a3, a4, a5, a6, a7, activation, alpha, beta);
    }

    // The four Group8S* routines below are generated by eng/gen-depthwise-groups.py (written out so that the JIT keeps
    // the accumulators and a kernel row's weights in registers); regenerate rather than edit them by hand.

    /// <summary>8 consecutive outputs of a row, stride 1, kernel width 3: the weights of a kernel row stay in registers and each patch column is loaded once for every output that reads it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Group8S1K3(float** rows, int kh, int column, float* weights, Vector512<float> bias, float* results, Activation activation, float alpha, float beta)
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int ky = 0; ky < kh; ky++)
        {
            float* p = rows[ky] + column;
            float* wr = weights + ky * 48;
            Vector512<float> w0 = Vector512.Load(wr + 0);
            Vector512<float> w1 = Vector512.Load(wr + 16);
            Vector512<float> w2 = Vector512.Load(wr + 32);
            Vector512<float> v;
            v = Vector512.Load(p + 0);
            a0 = Avx512F.FusedMultiplyAdd(v, w0, a0);
            v = Vector512.Load(p + 16);
            a0 = Avx512F.FusedMultiplyAdd(v, w1, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w0, a1);
            v = Vector512.Load(p + 32);
            a0 = Avx512F.FusedMultiplyAdd(v, w2, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w1, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w0, a2);
            v = Vector512.Load(p + 48);
            a1 = Avx512F.FusedMultiplyAdd(v, w2, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w1, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w0, a3);
            v = Vector512.Load(p + 64);
            a2 = Avx512F.FusedMultiplyAdd(v, w2, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w1, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w0, a4);
            v = Vector512.Load(p + 80);
            a3 = Avx512F.FusedMultiplyAdd(v, w2, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w1, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w0, a5);
            v = Vector512.Load(p + 96);
            a4 = Avx512F.FusedMultiplyAdd(v, w2, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w1, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w0, a6);
            v = Vector512.Load(p + 112);
            a5 = Avx512F.FusedMultiplyAdd(v, w2, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w1, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w0, a7);
            v = Vector512.Load(p + 128);
            a6 = Avx512F.FusedMultiplyAdd(v, w2, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w1, a7);
            v = Vector512.Load(p + 144);
            a7 = Avx512F.FusedMultiplyAdd(v, w2, a7);
        }

        Store8(results, a0, a1, a2, a3, a4, a5, a6, a7, activation, alpha, beta);
    }

    /// <summary>8 consecutive outputs of a row, stride 1, kernel width 5: the weights of a kernel row stay in registers and each patch column is loaded once for every output that reads it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Group8S1K5(float** rows, int kh, int column, float* weights, Vector512<float> bias, float* results, Activation activation, float alpha, float beta)
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int ky = 0; ky < kh; ky++)
        {
            float* p = rows[ky] + column;
            float* wr = weights + ky * 80;
            Vector512<float> w0 = Vector512.Load(wr + 0);
            Vector512<float> w1 = Vector512.Load(wr + 16);
            Vector512<float> w2 = Vector512.Load(wr + 32);
            Vector512<float> w3 = Vector512.Load(wr + 48);
            Vector512<float> w4 = Vector512.Load(wr + 64);
            Vector512<float> v;
            v = Vector512.Load(p + 0);
            a0 = Avx512F.FusedMultiplyAdd(v, w0, a0);
            v = Vector512.Load(p + 16);
            a0 = Avx512F.FusedMultiplyAdd(v, w1, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w0, a1);
            v = Vector512.Load(p + 32);
            a0 = Avx512F.FusedMultiplyAdd(v, w2, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w1, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w0, a2);
            v = Vector512.Load(p + 48);
            a0 = Avx512F.FusedMultiplyAdd(v, w3, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w2, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w1, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w0, a3);
            v = Vector512.Load(p + 64);
            a0 = Avx512F.FusedMultiplyAdd(v, w4, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w3, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w2, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w1, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w0, a4);
            v = Vector512.Load(p + 80);
            a1 = Avx512F.FusedMultiplyAdd(v, w4, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w3, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w2, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w1, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w0, a5);
            v = Vector512.Load(p + 96);
            a2 = Avx512F.FusedMultiplyAdd(v, w4, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w3, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w2, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w1, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w0, a6);
            v = Vector512.Load(p + 112);
            a3 = Avx512F.FusedMultiplyAdd(v, w4, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w3, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w2, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w1, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w0, a7);
            v = Vector512.Load(p + 128);
            a4 = Avx512F.FusedMultiplyAdd(v, w4, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w3, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w2, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w1, a7);
            v = Vector512.Load(p + 144);
            a5 = Avx512F.FusedMultiplyAdd(v, w4, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w3, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w2, a7);
            v = Vector512.Load(p + 160);
            a6 = Avx512F.FusedMultiplyAdd(v, w4, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w3, a7);
            v = Vector512.Load(p + 176);
            a7 = Avx512F.FusedMultiplyAdd(v, w4, a7);
        }

        Store8(results, a0, a1, a2, a3, a4, a5, a6, a7, activation, alpha, beta);
    }

    /// <summary>8 consecutive outputs of a row, stride 2, kernel width 3: the weights of a kernel row stay in registers and each patch column is loaded once for every output that reads it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Group8S2K3(float** rows, int kh, int column, float* weights, Vector512<float> bias, float* results, Activation activation, float alpha, float beta)
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int ky = 0; ky < kh; ky++)
        {
            float* p = rows[ky] + column;
            float* wr = weights + ky * 48;
            Vector512<float> w0 = Vector512.Load(wr + 0);
            Vector512<float> w1 = Vector512.Load(wr + 16);
            Vector512<float> w2 = Vector512.Load(wr + 32);
            Vector512<float> v;
            v = Vector512.Load(p + 0);
            a0 = Avx512F.FusedMultiplyAdd(v, w0, a0);
            v = Vector512.Load(p + 16);
            a0 = Avx512F.FusedMultiplyAdd(v, w1, a0);
            v = Vector512.Load(p + 32);
            a0 = Avx512F.FusedMultiplyAdd(v, w2, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w0, a1);
            v = Vector512.Load(p + 48);
            a1 = Avx512F.FusedMultiplyAdd(v, w1, a1);
            v = Vector512.Load(p + 64);
            a1 = Avx512F.FusedMultiplyAdd(v, w2, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w0, a2);
            v = Vector512.Load(p + 80);
            a2 = Avx512F.FusedMultiplyAdd(v, w1, a2);
            v = Vector512.Load(p + 96);
            a2 = Avx512F.FusedMultiplyAdd(v, w2, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w0, a3);
            v = Vector512.Load(p + 112);
            a3 = Avx512F.FusedMultiplyAdd(v, w1, a3);
            v = Vector512.Load(p + 128);
            a3 = Avx512F.FusedMultiplyAdd(v, w2, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w0, a4);
            v = Vector512.Load(p + 144);
            a4 = Avx512F.FusedMultiplyAdd(v, w1, a4);
            v = Vector512.Load(p + 160);
            a4 = Avx512F.FusedMultiplyAdd(v, w2, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w0, a5);
            v = Vector512.Load(p + 176);
            a5 = Avx512F.FusedMultiplyAdd(v, w1, a5);
            v = Vector512.Load(p + 192);
            a5 = Avx512F.FusedMultiplyAdd(v, w2, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w0, a6);
            v = Vector512.Load(p + 208);
            a6 = Avx512F.FusedMultiplyAdd(v, w1, a6);
            v = Vector512.Load(p + 224);
            a6 = Avx512F.FusedMultiplyAdd(v, w2, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w0, a7);
            v = Vector512.Load(p + 240);
            a7 = Avx512F.FusedMultiplyAdd(v, w1, a7);
            v = Vector512.Load(p + 256);
            a7 = Avx512F.FusedMultiplyAdd(v, w2, a7);
        }

        Store8(results, a0, a1, a2, a3, a4, a5, a6, a7, activation, alpha, beta);
    }

    /// <summary>8 consecutive outputs of a row, stride 2, kernel width 5: the weights of a kernel row stay in registers and each patch column is loaded once for every output that reads it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Group8S2K5(float** rows, int kh, int column, float* weights, Vector512<float> bias, float* results, Activation activation, float alpha, float beta)
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        for (int ky = 0; ky < kh; ky++)
        {
            float* p = rows[ky] + column;
            float* wr = weights + ky * 80;
            Vector512<float> w0 = Vector512.Load(wr + 0);
            Vector512<float> w1 = Vector512.Load(wr + 16);
            Vector512<float> w2 = Vector512.Load(wr + 32);
            Vector512<float> w3 = Vector512.Load(wr + 48);
            Vector512<float> w4 = Vector512.Load(wr + 64);
            Vector512<float> v;
            v = Vector512.Load(p + 0);
            a0 = Avx512F.FusedMultiplyAdd(v, w0, a0);
            v = Vector512.Load(p + 16);
            a0 = Avx512F.FusedMultiplyAdd(v, w1, a0);
            v = Vector512.Load(p + 32);
            a0 = Avx512F.FusedMultiplyAdd(v, w2, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w0, a1);
            v = Vector512.Load(p + 48);
            a0 = Avx512F.FusedMultiplyAdd(v, w3, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w1, a1);
            v = Vector512.Load(p + 64);
            a0 = Avx512F.FusedMultiplyAdd(v, w4, a0);
            a1 = Avx512F.FusedMultiplyAdd(v, w2, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w0, a2);
            v = Vector512.Load(p + 80);
            a1 = Avx512F.FusedMultiplyAdd(v, w3, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w1, a2);
            v = Vector512.Load(p + 96);
            a1 = Avx512F.FusedMultiplyAdd(v, w4, a1);
            a2 = Avx512F.FusedMultiplyAdd(v, w2, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w0, a3);
            v = Vector512.Load(p + 112);
            a2 = Avx512F.FusedMultiplyAdd(v, w3, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w1, a3);
            v = Vector512.Load(p + 128);
            a2 = Avx512F.FusedMultiplyAdd(v, w4, a2);
            a3 = Avx512F.FusedMultiplyAdd(v, w2, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w0, a4);
            v = Vector512.Load(p + 144);
            a3 = Avx512F.FusedMultiplyAdd(v, w3, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w1, a4);
            v = Vector512.Load(p + 160);
            a3 = Avx512F.FusedMultiplyAdd(v, w4, a3);
            a4 = Avx512F.FusedMultiplyAdd(v, w2, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w0, a5);
            v = Vector512.Load(p + 176);
            a4 = Avx512F.FusedMultiplyAdd(v, w3, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w1, a5);
            v = Vector512.Load(p + 192);
            a4 = Avx512F.FusedMultiplyAdd(v, w4, a4);
            a5 = Avx512F.FusedMultiplyAdd(v, w2, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w0, a6);
            v = Vector512.Load(p + 208);
            a5 = Avx512F.FusedMultiplyAdd(v, w3, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w1, a6);
            v = Vector512.Load(p + 224);
            a5 = Avx512F.FusedMultiplyAdd(v, w4, a5);
            a6 = Avx512F.FusedMultiplyAdd(v, w2, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w0, a7);
            v = Vector512.Load(p + 240);
            a6 = Avx512F.FusedMultiplyAdd(v, w3, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w1, a7);
            v = Vector512.Load(p + 256);
            a6 = Avx512F.FusedMultiplyAdd(v, w4, a6);
            a7 = Avx512F.FusedMultiplyAdd(v, w2, a7);
            v = Vector512.Load(p + 272);
            a7 = Avx512F.FusedMultiplyAdd(v, w3, a7);
            v = Vector512.Load(p + 288);
            a7 = Avx512F.FusedMultiplyAdd(v, w4, a7);
        }

        Store8(results, a0, a1, a2, a3, a4, a5, a6, a7, activation, alpha, beta);
    }

    /// <summary>
    /// Rows <c>[0, count)</c> of <paramref name="m"/> floats each, <paramref name="stride"/> apart (zero past them), transposed:
    /// column <c>j &lt; m</c> becomes the sixteen floats at <c>dst + 16·j</c>. One method, so the sixteen rows stay in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TransposeIn(float* src, long stride, int count, int m, float* dst)
    {
        Vector512<float> r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15;
        if (count == Lanes && m == Lanes)
        {
            r0 = Vector512.Load(src + 0 * stride);
            r1 = Vector512.Load(src + 1 * stride);
            r2 = Vector512.Load(src + 2 * stride);
            r3 = Vector512.Load(src + 3 * stride);
            r4 = Vector512.Load(src + 4 * stride);
            r5 = Vector512.Load(src + 5 * stride);
            r6 = Vector512.Load(src + 6 * stride);
            r7 = Vector512.Load(src + 7 * stride);
            r8 = Vector512.Load(src + 8 * stride);
            r9 = Vector512.Load(src + 9 * stride);
            r10 = Vector512.Load(src + 10 * stride);
            r11 = Vector512.Load(src + 11 * stride);
            r12 = Vector512.Load(src + 12 * stride);
            r13 = Vector512.Load(src + 13 * stride);
            r14 = Vector512.Load(src + 14 * stride);
            r15 = Vector512.Load(src + 15 * stride);
        }
        else
        {
            Vector512<float> mask = Vector512.GreaterThan(Vector512.Create(m), Vector512<int>.Indices).AsSingle();
            r0 = 0 < count ? Avx512F.MaskLoad(src + 0 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r1 = 1 < count ? Avx512F.MaskLoad(src + 1 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r2 = 2 < count ? Avx512F.MaskLoad(src + 2 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r3 = 3 < count ? Avx512F.MaskLoad(src + 3 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r4 = 4 < count ? Avx512F.MaskLoad(src + 4 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r5 = 5 < count ? Avx512F.MaskLoad(src + 5 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r6 = 6 < count ? Avx512F.MaskLoad(src + 6 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r7 = 7 < count ? Avx512F.MaskLoad(src + 7 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r8 = 8 < count ? Avx512F.MaskLoad(src + 8 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r9 = 9 < count ? Avx512F.MaskLoad(src + 9 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r10 = 10 < count ? Avx512F.MaskLoad(src + 10 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r11 = 11 < count ? Avx512F.MaskLoad(src + 11 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r12 = 12 < count ? Avx512F.MaskLoad(src + 12 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r13 = 13 < count ? Avx512F.MaskLoad(src + 13 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r14 = 14 < count ? Avx512F.MaskLoad(src + 14 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            r15 = 15 < count ? Avx512F.MaskLoad(src + 15 * stride, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
        }

        Interleave(
            ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7,
            ref r8, ref r9, ref r10, ref r11, ref r12, ref r13, ref r14, ref r15);
        if (m == Lanes)
        {
            r0.Store(dst + 0);
            r1.Store(dst + 16);
            r2.Store(dst + 32);
            r3.Store(dst + 48);
            r4.Store(dst + 64);
            r5.Store(dst + 80);
            r6.Store(dst + 96);
            r7.Store(dst + 112);
            r8.Store(dst + 128);
            r9.Store(dst + 144);
            r10.Store(dst + 160);
            r11.Store(dst + 176);
            r12.Store(dst + 192);
            r13.Store(dst + 208);
            r14.Store(dst + 224);
            r15.Store(dst + 240);
            return;
        }

        if (m > 0)
        {
            r0.Store(dst + 0);
        }

        if (m > 1)
        {
            r1.Store(dst + 16);
        }

        if (m > 2)
        {
            r2.Store(dst + 32);
        }

        if (m > 3)
        {
            r3.Store(dst + 48);
        }

        if (m > 4)
        {
            r4.Store(dst + 64);
        }

        if (m > 5)
        {
            r5.Store(dst + 80);
        }

        if (m > 6)
        {
            r6.Store(dst + 96);
        }

        if (m > 7)
        {
            r7.Store(dst + 112);
        }

        if (m > 8)
        {
            r8.Store(dst + 128);
        }

        if (m > 9)
        {
            r9.Store(dst + 144);
        }

        if (m > 10)
        {
            r10.Store(dst + 160);
        }

        if (m > 11)
        {
            r11.Store(dst + 176);
        }

        if (m > 12)
        {
            r12.Store(dst + 192);
        }

        if (m > 13)
        {
            r13.Store(dst + 208);
        }

        if (m > 14)
        {
            r14.Store(dst + 224);
        }

        if (m > 15)
        {
            r15.Store(dst + 240);
        }
    }

    /// <summary>
    /// Back to NCHW: <paramref name="m"/> ≤ 16 staged outputs at <paramref name="src"/> (sixteen channels each) become
    /// <paramref name="m"/> consecutive elements of the first <paramref name="count"/> channel planes, <paramref name="planeOut"/> apart.
    /// Staged vectors past the <paramref name="m"/>-th are read but not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TransposeOut(float* src, float* y, long planeOut, int count, int m)
    {
        Vector512<float> r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15;
        r0 = Vector512.Load(src + 0);
        r1 = Vector512.Load(src + 16);
        r2 = Vector512.Load(src + 32);
        r3 = Vector512.Load(src + 48);
        r4 = Vector512.Load(src + 64);
        r5 = Vector512.Load(src + 80);
        r6 = Vector512.Load(src + 96);
        r7 = Vector512.Load(src + 112);
        r8 = Vector512.Load(src + 128);
        r9 = Vector512.Load(src + 144);
        r10 = Vector512.Load(src + 160);
        r11 = Vector512.Load(src + 176);
        r12 = Vector512.Load(src + 192);
        r13 = Vector512.Load(src + 208);
        r14 = Vector512.Load(src + 224);
        r15 = Vector512.Load(src + 240);

        Interleave(
            ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7,
            ref r8, ref r9, ref r10, ref r11, ref r12, ref r13, ref r14, ref r15);
        if (count == Lanes && m == Lanes)
        {
            r0.Store(y + 0 * planeOut);
            r1.Store(y + 1 * planeOut);
            r2.Store(y + 2 * planeOut);
            r3.Store(y + 3 * planeOut);
            r4.Store(y + 4 * planeOut);
            r5.Store(y + 5 * planeOut);
            r6.Store(y + 6 * planeOut);
            r7.Store(y + 7 * planeOut);
            r8.Store(y + 8 * planeOut);
            r9.Store(y + 9 * planeOut);
            r10.Store(y + 10 * planeOut);
            r11.Store(y + 11 * planeOut);
            r12.Store(y + 12 * planeOut);
            r13.Store(y + 13 * planeOut);
            r14.Store(y + 14 * planeOut);
            r15.Store(y + 15 * planeOut);
            return;
        }

        Vector512<float> mask = Vector512.GreaterThan(Vector512.Create(m), Vector512<int>.Indices).AsSingle();
        if (count > 0)
        {
            Avx512F.MaskStore(y + 0 * planeOut, mask, r0);
        }

        if (count > 1)
        {
            Avx512F.MaskStore(y + 1 * planeOut, mask, r1);
        }

        if (count > 2)
        {
            Avx512F.MaskStore(y + 2 * planeOut, mask, r2);
        }

        if (count > 3)
        {
            Avx512F.MaskStore(y + 3 * planeOut, mask, r3);
        }

        if (count > 4)
        {
            Avx512F.MaskStore(y + 4 * planeOut, mask, r4);
        }

        if (count > 5)
        {
            Avx512F.MaskStore(y + 5 * planeOut, mask, r5);
        }

        if (count > 6)
        {
            Avx512F.MaskStore(y + 6 * planeOut, mask, r6);
        }

        if (count > 7)
        {
            Avx512F.MaskStore(y + 7 * planeOut, mask, r7);
        }

        if (count > 8)
        {
            Avx512F.MaskStore(y + 8 * planeOut, mask, r8);
        }

        if (count > 9)
        {
            Avx512F.MaskStore(y + 9 * planeOut, mask, r9);
        }

        if (count > 10)
        {
            Avx512F.MaskStore(y + 10 * planeOut, mask, r10);
        }

        if (count > 11)
        {
            Avx512F.MaskStore(y + 11 * planeOut, mask, r11);
        }

        if (count > 12)
        {
            Avx512F.MaskStore(y + 12 * planeOut, mask, r12);
        }

        if (count > 13)
        {
            Avx512F.MaskStore(y + 13 * planeOut, mask, r13);
        }

        if (count > 14)
        {
            Avx512F.MaskStore(y + 14 * planeOut, mask, r14);
        }

        if (count > 15)
        {
            Avx512F.MaskStore(y + 15 * planeOut, mask, r15);
        }
    }

    /// <summary>
    /// Transposes sixteen rows of sixteen floats: four rounds of interleaving row <c>i</c> with row <c>i + 8</c>
    /// (a perfect shuffle of the rows) take element <c>(r, c)</c> to <c>(c, r)</c>. Inlined into its two callers,
    /// which are kept small: in a large method the JIT stops enregistering the 34 vectors and the transpose runs
    /// through the stack, about 5× slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(
        ref Vector512<float> r0, ref Vector512<float> r1, ref Vector512<float> r2, ref Vector512<float> r3,
        ref Vector512<float> r4, ref Vector512<float> r5, ref Vector512<float> r6, ref Vector512<float> r7,
        ref Vector512<float> r8, ref Vector512<float> r9, ref Vector512<float> r10, ref Vector512<float> r11,
        ref Vector512<float> r12, ref Vector512<float> r13, ref Vector512<float> r14, ref Vector512<float> r15)
    {
        Vector512<int> lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        Vector512<int> hi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
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
    }
}
