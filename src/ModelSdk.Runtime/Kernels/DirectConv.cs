using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Direct 1-d/2-d convolution for few input channels per group (depthwise convolutions, channel
/// multipliers, first layers on images). The output is cut into tiles of rows; for each tile the input
/// window it reads is copied once into a zero-padded patch split into stride phases: phase <c>(a, b)</c>
/// holds padded input rows <c>a, a + sy, …</c> and columns <c>b, b + sx, …</c>, every phase row as long
/// as a tile row of output plus the kernel's reach. Output <c>(oy, ox)</c> of the tile is then element
/// <c>j = oy·rowLength + ox</c> of a flat run, and kernel tap <c>(ky, kx)</c> reads element
/// <c>j + (ky·dy div sy)·rowLength + kx·dx div sx</c> of phase <c>(ky·dy mod sy, kx·dx mod sx)</c>:
/// every tap is one contiguous shifted run, whatever the strides and dilations. Whole vectors of that
/// run accumulate tap by tap in registers (the few columns past each row's end are computed and thrown
/// away), so narrow planes (14×14, 7×7) fill every lane; the sums go through a staging buffer from
/// which each output row is stored with the epilogue (bias, residual, activation).
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectConv
{
    // Patch budget per tile (floats, on the stack): the phases of a tile stay in L1 while every
    // output channel of the group reads them.
    private const int PatchBudget = 8 * 1024;
    private const int MaxTileWidth = 256;
    private const long MinParallelMacs = 64 * 1024;

    // Floats past the last phase (plus the horizontal reach) that a tile's last vector may read, into lanes
    // that are thrown away; also past the staged sums, which rows load as whole vectors.
    private const int Slack = 16;

    /// <summary>Geometry of one group's convolution, 1-d treated as 2-d with one row.</summary>
    private struct Geometry
    {
        public int Cg, Mg, H, W, OH, OW, KH, KW, SY, SX, DY, DX, PT, PL;

        public readonly int Taps => KH * KW;

        /// <summary>How many phase rows (columns) past an output row (column) the kernel reaches.</summary>
        public readonly int ReachY => (KH - 1) * DY / SY;

        public readonly int ReachX => (KW - 1) * DX / SX;
    }

    /// <summary>Tiling of the output and the patch layout of one tile.</summary>
    private struct Tiling
    {
        public int TileRows, TileCols, RowTiles, ColTiles;
        public int ChannelChunk; // input channels per patch (all of them unless the patch would not fit)
        public int RowLength;    // phase row length: tile columns + horizontal reach
        public int PhaseRows;    // tile rows + vertical reach
        public int PhaseStride, ChannelStride;
        public int StageLength;  // flat outputs of a full tile, rounded up to whole vectors
    }

    private struct Job
    {
        public float* X, W, B, R, Y;
        public int* Offsets; // patch offset of each (channel, tap) of a chunk, for flat output 0
        public Geometry G;
        public Tiling T;
        public int Group, Units, UnitsPerItem;
        public Activation Activation;
        public float Alpha, Beta;
        public SimdWidth Width;
    }

    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, ReadOnlySpan<float> residual, Span<float> y,
        int batch, int group, int cg, int mg,
        ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin,
        Activation activation, float alpha, float beta, KernelContext context)
    {
        if (DepthwiseBlocked.Handles(group, cg, mg, input, output, kernel, strides, dilations, !residual.IsEmpty))
        {
            DepthwiseBlocked.Run(x, w, b, y, batch, group, input, output, kernel, strides, dilations, padsBegin, activation, alpha, beta, context);
            return;
        }

        bool twoD = input.Length == 2;
        var g = new Geometry
        {
            Cg = cg, Mg = mg,
            H = twoD ? input[0] : 1, W = input[^1],
            OH = twoD ? output[0] : 1, OW = output[^1],
            KH = twoD ? kernel[0] : 1, KW = kernel[^1],
            SY = twoD ? strides[0] : 1, SX = strides[^1],
            DY = twoD ? dilations[0] : 1, DX = dilations[^1],
            PT = twoD ? padsBegin[0] : 0, PL = padsBegin[^1],
        };

        Tiling t = Plan(g);
        SimdWidth resolved = Fit(Simd.Width, t.TileRows * t.RowLength);
        int units = batch * group * t.RowTiles * t.ColTiles;
        long macs = (long)batch * group * mg * g.OH * g.OW * cg * g.Taps;
        int chunks = context.Workers.ThreadCount > 1 ? Math.Min(units, context.Workers.Chunks(macs, MinParallelMacs)) : 1;
        int* offsets = stackalloc int[t.ChannelChunk * g.Taps];
        int o = 0;
        for (int c = 0; c < t.ChannelChunk; c++)
        {
            for (int ky = 0; ky < g.KH; ky++)
            {
                for (int kx = 0; kx < g.KW; kx++)
                {
                    int sy = ky * g.DY, sx = kx * g.DX;
                    offsets[o++] = c * t.ChannelStride + (sy % g.SY * g.SX + sx % g.SX) * t.PhaseStride + sy / g.SY * t.RowLength + sx / g.SX;
                }
            }
        }

        fixed (float* px = x, pw = w, pb = b, pr = residual, py = y)
        {
            var job = new Job
            {
                X = px, W = pw, B = pb, R = pr, Y = py, Offsets = offsets, G = g, T = t, Group = group, Units = units,
                UnitsPerItem = (units + chunks - 1) / chunks,
                Activation = activation, Alpha = alpha, Beta = beta, Width = resolved,
            };

            int items = (units + job.UnitsPerItem - 1) / job.UnitsPerItem;
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

    /// <summary>Chooses tile sizes so that one tile's patch fits the budget.</summary>
    private static Tiling Plan(Geometry g)
    {
        int tileCols = Math.Min(g.OW, MaxTileWidth);
        int chunk = g.Cg;
        int phases = g.SY * g.SX;
        while (true)
        {
            int rowLength = tileCols + g.ReachX;

            // Most output rows whose phases fit for `chunk` channels.
            long perChannel = PatchBudget / Math.Max(1, chunk);
            long fit = perChannel / ((long)phases * rowLength) - g.ReachY;
            if (fit >= 1 || (chunk == 1 && tileCols == 1))
            {
                int tileRows = (int)Math.Clamp(fit, 1, g.OH);
                int rowTiles = (g.OH + tileRows - 1) / tileRows;
                tileRows = (g.OH + rowTiles - 1) / rowTiles; // tiles of even height
                int phaseRows = tileRows + g.ReachY;
                int phaseStride = phaseRows * rowLength;
                return new Tiling
                {
                    TileRows = tileRows, TileCols = tileCols,
                    RowTiles = rowTiles, ColTiles = (g.OW + tileCols - 1) / tileCols,
                    ChannelChunk = chunk, RowLength = rowLength, PhaseRows = phaseRows,
                    PhaseStride = phaseStride, ChannelStride = phases * phaseStride,
                    StageLength = RoundUp(tileRows * rowLength, 16),
                };
            }

            if (chunk > 1)
            {
                chunk = Math.Max(1, chunk / 2);
            }
            else
            {
                tileCols = Math.Max(1, tileCols / 2);
            }
        }
    }

    /// <summary>The narrowest width, not wider than <paramref name="limit"/>, whose vectors cover <paramref name="outputs"/> flat outputs with least waste.</summary>
    private static SimdWidth Fit(SimdWidth limit, int outputs)
        => limit == SimdWidth.W512 && outputs <= 8 ? (outputs <= 4 ? SimdWidth.W128 : SimdWidth.W256)
            : limit == SimdWidth.W256 && outputs <= 4 ? SimdWidth.W128
            : limit;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static void RunItem(void* state, int index)
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        int first = index * job.UnitsPerItem, last = Math.Min(job.Units, first + job.UnitsPerItem);
        float* patch = stackalloc float[job.T.ChannelChunk * job.T.ChannelStride + job.G.ReachX + Slack];
        float* stage = stackalloc float[4 * job.T.StageLength + Slack];
        for (int u = first; u < last; u++)
        {
            int tx = u % job.T.ColTiles, rest = u / job.T.ColTiles;
            int ty = rest % job.T.RowTiles;
            rest /= job.T.RowTiles;
            switch (job.Width)
            {
                case SimdWidth.W512:
                    ComputeTile<Vector512<float>, Simd512>(ref job, patch, stage, rest / job.Group, rest % job.Group, ty, tx);
                    break;
                case SimdWidth.W256:
                    ComputeTile<Vector256<float>, Simd256>(ref job, patch, stage, rest / job.Group, rest % job.Group, ty, tx);
                    break;
                default:
                    ComputeTile<Vector128<float>, Simd128>(ref job, patch, stage, rest / job.Group, rest % job.Group, ty, tx);
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeTile<TV, TS>(ref Job job, float* patch, float* stage, int n, int g, int ty, int tx)
        where TS : ISimd<TV>
        where TV : struct
    {
        Geometry geo = job.G;
        Tiling t = job.T;
        int oy0 = ty * t.TileRows, rows = Math.Min(geo.OH - oy0, t.TileRows);
        int ox0 = tx * t.TileCols, cols = Math.Min(geo.OW - ox0, t.TileCols);
        int channels = geo.Cg * job.Group;
        int planeIn = geo.H * geo.W;
        int vectors = (rows * t.RowLength + TS.Count - 1) / TS.Count;
        for (int c0 = 0; c0 < geo.Cg; c0 += t.ChannelChunk)
        {
            int cc = Math.Min(t.ChannelChunk, geo.Cg - c0);
            float* xc = job.X + (long)(n * channels + g * geo.Cg + c0) * planeIn;
            BuildPatch(xc, patch, geo, t, cc, rows + geo.ReachY, oy0 * geo.SY - geo.PT, ox0 * geo.SX - geo.PL);

            bool firstChunk = c0 == 0, lastChunk = c0 + cc == geo.Cg;
            int taps = cc * geo.Taps;

            // Output channels in fours, then pairs: sixteen (eight) accumulators, four vectors of each channel,
            // share each patch load — a first layer on an image reads its patch once per four output channels.
            int m = 0;
            for (; m + 3 < geo.Mg; m += 4)
            {
                int oc = g * geo.Mg + m;
                float* wa = job.W + ((long)oc * geo.Cg + c0) * geo.Taps;
                long wStride = (long)geo.Cg * geo.Taps;
                float* stageB = stage + t.StageLength, stageC = stageB + t.StageLength, stageD = stageC + t.StageLength;
                int v = 0;
                for (; v + 4 <= vectors; v += 4)
                {
                    int at = v * TS.Count;
                    Accumulate4x4<TV, TS>(patch + at, job.Offsets, wa, wStride, taps, stage + at, t.StageLength);
                }

                for (; v < vectors; v++)
                {
                    for (int q = 0; q < 4; q++)
                    {
                        Accumulate1<TV, TS>(patch + v * TS.Count, job.Offsets, wa + q * wStride, taps, stage + q * t.StageLength + v * TS.Count);
                    }
                }

                StoreRows<TV, TS>(ref job, stage, n, oc, oy0, ox0, rows, cols, firstChunk, lastChunk);
                StoreRows<TV, TS>(ref job, stageB, n, oc + 1, oy0, ox0, rows, cols, firstChunk, lastChunk);
                StoreRows<TV, TS>(ref job, stageC, n, oc + 2, oy0, ox0, rows, cols, firstChunk, lastChunk);
                StoreRows<TV, TS>(ref job, stageD, n, oc + 3, oy0, ox0, rows, cols, firstChunk, lastChunk);
            }

            for (; m + 1 < geo.Mg; m += 2)
            {
                int oc = g * geo.Mg + m;
                float* wa = job.W + ((long)oc * geo.Cg + c0) * geo.Taps, wb = wa + geo.Cg * geo.Taps;
                float* stageB = stage + t.StageLength;
                int v = 0;
                for (; v + 4 <= vectors; v += 4)
                {
                    Accumulate4x2<TV, TS>(patch + v * TS.Count, job.Offsets, wa, wb, taps, stage + v * TS.Count, stageB + v * TS.Count);
                }

                for (; v < vectors; v++)
                {
                    Accumulate1<TV, TS>(patch + v * TS.Count, job.Offsets, wa, taps, stage + v * TS.Count);
                    Accumulate1<TV, TS>(patch + v * TS.Count, job.Offsets, wb, taps, stageB + v * TS.Count);
                }

                StoreRows<TV, TS>(ref job, stage, n, oc, oy0, ox0, rows, cols, firstChunk, lastChunk);
                StoreRows<TV, TS>(ref job, stageB, n, oc + 1, oy0, ox0, rows, cols, firstChunk, lastChunk);
            }

            if (m < geo.Mg)
            {
                int oc = g * geo.Mg + m;
                float* wa = job.W + ((long)oc * geo.Cg + c0) * geo.Taps;
                int v = 0;
                for (; v + 8 <= vectors; v += 8)
                {
                    Accumulate8<TV, TS>(patch + v * TS.Count, job.Offsets, wa, taps, stage + v * TS.Count);
                }

                if (v + 4 <= vectors)
                {
                    Accumulate4<TV, TS>(patch + v * TS.Count, job.Offsets, wa, taps, stage + v * TS.Count);
                    v += 4;
                }

                for (; v < vectors; v++)
                {
                    Accumulate1<TV, TS>(patch + v * TS.Count, job.Offsets, wa, taps, stage + v * TS.Count);
                }

                StoreRows<TV, TS>(ref job, stage, n, oc, oy0, ox0, rows, cols, firstChunk, lastChunk);
            }
        }
    }

    /// <summary>
    /// Builds phase rows <c>[0, phaseRows)</c> of <paramref name="channels"/> planes: phase <c>(a, b)</c>, row <c>r</c>,
    /// element <c>i</c> is input <c>(iy0 + sy·r + a, ix0 + sx·i + b)</c>, zero where that is outside the input.
    /// </summary>
    private static void BuildPatch(float* x, float* patch, Geometry g, Tiling t, int channels, int phaseRows, int iy0, int ix0)
    {
        int length = t.RowLength;

        // Phase column b, element i reads column ix0 + b + sx·i: in range for i in [lo, hi), the same on every row.
        int* bounds = stackalloc int[2 * g.SX];
        for (int q = 0; q < g.SX; q++)
        {
            int first = ix0 + q;
            bounds[2 * q] = Math.Clamp(CeilDiv(-first, g.SX), 0, length);
            bounds[2 * q + 1] = Math.Clamp(CeilDiv(g.W - first, g.SX), bounds[2 * q], length);
        }

        // Rows that hang over the input are zero, and so are the columns [0, lo) and [hi, length) of the others:
        // with any padding, the whole phase is cleared first (a few full-vector stores) and the input copied over it.
        bool padded = false;
        for (int q = 0; q < g.SX; q++)
        {
            padded |= bounds[2 * q] > 0 || bounds[2 * q + 1] < length;
        }

        // Input columns [colLo, colHi) of a row are read (the same on every row); with stride 2 both phases
        // of a row are split from it in one pass.
        int colLo = Math.Max(0, ix0), colHi = Math.Min(g.W, ix0 + g.SX * length);
        bool split2 = g.SX == 2 && Avx512F.IsSupported;
        for (int c = 0; c < channels; c++)
        {
            float* plane = x + (long)c * g.H * g.W;
            for (int a = 0; a < g.SY; a++)
            {
                // Phase row r reads input row iy0 + a + sy·r: in range for r in [rowLo, rowHi).
                int rowLo = Math.Clamp(CeilDiv(-(iy0 + a), g.SY), 0, phaseRows);
                int rowHi = Math.Clamp(CeilDiv(g.H - (iy0 + a), g.SY), rowLo, phaseRows);
                float* phases = patch + c * t.ChannelStride + a * g.SX * t.PhaseStride;
                if (padded || rowLo > 0 || rowHi < phaseRows)
                {
                    Fill(phases, g.SX * t.PhaseStride);
                }

                for (int r = rowLo; r < rowHi; r++)
                {
                    float* row = plane + (long)(iy0 + a + g.SY * r) * g.W;
                    if (split2)
                    {
                        // Column colLo goes to phase (colLo - ix0) mod 2, element (colLo - ix0) div 2; the next to the other phase.
                        int first = colLo - ix0;
                        float* even = phases + (first & 1) * t.PhaseStride + r * length + (first >> 1);
                        float* odd = phases + ((first + 1) & 1) * t.PhaseStride + r * length + ((first + 1) >> 1);
                        Split2(row + colLo, even, odd, colHi - colLo);
                        continue;
                    }

                    for (int q = 0; q < g.SX; q++)
                    {
                        int lo = bounds[2 * q], hi = bounds[2 * q + 1];
                        float* dst = phases + q * t.PhaseStride + r * length;
                        float* src = row + ix0 + q;
                        if (g.SX == 1)
                        {
                            Copy(src + lo, dst + lo, hi - lo);
                        }
                        else
                        {
                            Gather(src + lo * g.SX, dst + lo, hi - lo, g.SX);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// <c>even[i] = src[2i]</c>, <c>odd[i] = src[2i + 1]</c> for the <paramref name="count"/> elements of <paramref name="src"/>,
    /// by AVX-512 two-source permutes, with masked loads and stores at the end: nothing past <c>src[count - 1]</c> is read.
    /// </summary>
    private static void Split2(float* src, float* even, float* odd, int count)
    {
        Vector512<int> evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<int> odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        int i = 0;
        for (; i + 32 <= count; i += 32)
        {
            Vector512<float> lo = Avx512F.LoadVector512(src + i), hi = Avx512F.LoadVector512(src + i + 16);
            Avx512F.Store(even + i / 2, Avx512F.PermuteVar16x32x2(lo, evens, hi));
            Avx512F.Store(odd + i / 2, Avx512F.PermuteVar16x32x2(lo, odds, hi));
        }

        int left = count - i;
        if (left > 0)
        {
            Vector512<float> lo = left >= 16 ? Avx512F.LoadVector512(src + i) : Simd512.LoadPartial(src + i, left);
            Vector512<float> hi = left > 16 ? Simd512.LoadPartial(src + i + 16, left - 16) : Vector512<float>.Zero;
            Simd512.StorePartial(Avx512F.PermuteVar16x32x2(lo, evens, hi), even + i / 2, (left + 1) / 2);
            if (left > 1)
            {
                Simd512.StorePartial(Avx512F.PermuteVar16x32x2(lo, odds, hi), odd + i / 2, left / 2);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fill(float* p, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                Vector512<float>.Zero.Store(p + i);
            }

            if (i < count && Avx512F.IsSupported)
            {
                Simd512.StorePartial(Vector512<float>.Zero, p + i, count - i);
                return;
            }
        }

        for (; i + 8 <= count; i += 8)
        {
            Vector256<float>.Zero.Store(p + i);
        }

        for (; i < count; i++)
        {
            p[i] = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* src, float* dst, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                Vector512.Load(src + i).Store(dst + i);
            }

            // Masked: nothing past src[count - 1] is read, nothing past dst[count - 1] written.
            if (i < count && Avx512F.IsSupported)
            {
                Simd512.StorePartial(Simd512.LoadPartial(src + i, count - i), dst + i, count - i);
                return;
            }
        }

        for (; i + 8 <= count; i += 8)
        {
            Vector256.Load(src + i).Store(dst + i);
        }

        for (; i < count; i++)
        {
            dst[i] = src[i];
        }
    }

    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

    /// <summary>
    /// <c>dst[i] = src[i · stride]</c>; stride 2 (the common one) uses AVX-512 two-source permutes, with masked
    /// loads and stores for the last vector so that nothing past <c>src[(count - 1) · 2]</c> is read.
    /// </summary>
    private static void Gather(float* src, float* dst, int count, int stride)
    {
        int i = 0;
        if (stride == 2 && Avx512F.IsSupported)
        {
            // Even lanes of 32 consecutive floats: indices 0, 2, …, 30 across the two sources.
            Vector512<int> evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; i + 16 <= count && 2 * i + 32 <= 2 * count - 1; i += 16)
            {
                Vector512<float> lo = Avx512F.LoadVector512(src + 2 * i), hi = Avx512F.LoadVector512(src + 2 * i + 16);
                Avx512F.Store(dst + i, Avx512F.PermuteVar16x32x2(lo, evens, hi));
            }

            if (i < count)
            {
                int available = 2 * (count - i) - 1; // source elements up to the last one needed
                Vector512<float> lo = available >= 16 ? Avx512F.LoadVector512(src + 2 * i) : Simd512.LoadPartial(src + 2 * i, available);
                Vector512<float> hi = available > 16 ? Simd512.LoadPartial(src + 2 * i + 16, available - 16) : Vector512<float>.Zero;
                Vector512<float> packed = Avx512F.PermuteVar16x32x2(lo, evens, hi);
                if (count - i == 16)
                {
                    Avx512F.Store(dst + i, packed);
                }
                else
                {
                    Simd512.StorePartial(packed, dst + i, count - i);
                }
            }

            return;
        }

        for (; i < count; i++)
        {
            dst[i] = src[i * stride];
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate8<TV, TS>(float* p, int* offsets, float* weights, int taps, float* sums)
        where TS : ISimd<TV>
        where TV : struct
    {
        int v = TS.Count;
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero, a4 = TS.Zero, a5 = TS.Zero, a6 = TS.Zero, a7 = TS.Zero;
        for (int k = 0; k < taps; k++)
        {
            TV wv = TS.Create(weights[k]);
            float* q = p + offsets[k];
            a0 = TS.MultiplyAdd(wv, TS.Load(ref *q, 0), a0);
            a1 = TS.MultiplyAdd(wv, TS.Load(ref q[v], 0), a1);
            a2 = TS.MultiplyAdd(wv, TS.Load(ref q[2 * v], 0), a2);
            a3 = TS.MultiplyAdd(wv, TS.Load(ref q[3 * v], 0), a3);
            a4 = TS.MultiplyAdd(wv, TS.Load(ref q[4 * v], 0), a4);
            a5 = TS.MultiplyAdd(wv, TS.Load(ref q[5 * v], 0), a5);
            a6 = TS.MultiplyAdd(wv, TS.Load(ref q[6 * v], 0), a6);
            a7 = TS.MultiplyAdd(wv, TS.Load(ref q[7 * v], 0), a7);
        }

        TS.Store(a0, ref *sums, 0);
        TS.Store(a1, ref sums[v], 0);
        TS.Store(a2, ref sums[2 * v], 0);
        TS.Store(a3, ref sums[3 * v], 0);
        TS.Store(a4, ref sums[4 * v], 0);
        TS.Store(a5, ref sums[5 * v], 0);
        TS.Store(a6, ref sums[6 * v], 0);
        TS.Store(a7, ref sums[7 * v], 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate4<TV, TS>(float* p, int* offsets, float* weights, int taps, float* sums)
        where TS : ISimd<TV>
        where TV : struct
    {
        int v = TS.Count;
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
        for (int k = 0; k < taps; k++)
        {
            TV wv = TS.Create(weights[k]);
            float* q = p + offsets[k];
            a0 = TS.MultiplyAdd(wv, TS.Load(ref *q, 0), a0);
            a1 = TS.MultiplyAdd(wv, TS.Load(ref q[v], 0), a1);
            a2 = TS.MultiplyAdd(wv, TS.Load(ref q[2 * v], 0), a2);
            a3 = TS.MultiplyAdd(wv, TS.Load(ref q[3 * v], 0), a3);
        }

        TS.Store(a0, ref *sums, 0);
        TS.Store(a1, ref sums[v], 0);
        TS.Store(a2, ref sums[2 * v], 0);
        TS.Store(a3, ref sums[3 * v], 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate4x2<TV, TS>(float* p, int* offsets, float* wa, float* wb, int taps, float* sumsA, float* sumsB)
        where TS : ISimd<TV>
        where TV : struct
    {
        int v = TS.Count;
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
        TV b0 = TS.Zero, b1 = TS.Zero, b2 = TS.Zero, b3 = TS.Zero;
        for (int k = 0; k < taps; k++)
        {
            TV va = TS.Create(wa[k]), vb = TS.Create(wb[k]);
            float* q = p + offsets[k];
            TV x0 = TS.Load(ref *q, 0), x1 = TS.Load(ref q[v], 0), x2 = TS.Load(ref q[2 * v], 0), x3 = TS.Load(ref q[3 * v], 0);
            a0 = TS.MultiplyAdd(va, x0, a0);
            b0 = TS.MultiplyAdd(vb, x0, b0);
            a1 = TS.MultiplyAdd(va, x1, a1);
            b1 = TS.MultiplyAdd(vb, x1, b1);
            a2 = TS.MultiplyAdd(va, x2, a2);
            b2 = TS.MultiplyAdd(vb, x2, b2);
            a3 = TS.MultiplyAdd(va, x3, a3);
            b3 = TS.MultiplyAdd(vb, x3, b3);
        }

        TS.Store(a0, ref *sumsA, 0);
        TS.Store(a1, ref sumsA[v], 0);
        TS.Store(a2, ref sumsA[2 * v], 0);
        TS.Store(a3, ref sumsA[3 * v], 0);
        TS.Store(b0, ref *sumsB, 0);
        TS.Store(b1, ref sumsB[v], 0);
        TS.Store(b2, ref sumsB[2 * v], 0);
        TS.Store(b3, ref sumsB[3 * v], 0);
    }

    /// <summary>Four output channels (weights <paramref name="stride"/> apart) by four vectors; channel q's sums at <c>sums + q · stageLength</c>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate4x4<TV, TS>(float* p, int* offsets, float* w, long stride, int taps, float* sums, int stageLength)
        where TS : ISimd<TV>
        where TV : struct
    {
        int v = TS.Count;
        float* wb = w + stride, wc = wb + stride, wd = wc + stride;
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
        TV b0 = TS.Zero, b1 = TS.Zero, b2 = TS.Zero, b3 = TS.Zero;
        TV c0 = TS.Zero, c1 = TS.Zero, c2 = TS.Zero, c3 = TS.Zero;
        TV d0 = TS.Zero, d1 = TS.Zero, d2 = TS.Zero, d3 = TS.Zero;
        for (int k = 0; k < taps; k++)
        {
            float* q = p + offsets[k];
            TV x0 = TS.Load(ref *q, 0), x1 = TS.Load(ref q[v], 0), x2 = TS.Load(ref q[2 * v], 0), x3 = TS.Load(ref q[3 * v], 0);
            TV wv = TS.Create(w[k]);
            a0 = TS.MultiplyAdd(wv, x0, a0);
            a1 = TS.MultiplyAdd(wv, x1, a1);
            a2 = TS.MultiplyAdd(wv, x2, a2);
            a3 = TS.MultiplyAdd(wv, x3, a3);
            wv = TS.Create(wb[k]);
            b0 = TS.MultiplyAdd(wv, x0, b0);
            b1 = TS.MultiplyAdd(wv, x1, b1);
            b2 = TS.MultiplyAdd(wv, x2, b2);
            b3 = TS.MultiplyAdd(wv, x3, b3);
            wv = TS.Create(wc[k]);
            c0 = TS.MultiplyAdd(wv, x0, c0);
            c1 = TS.MultiplyAdd(wv, x1, c1);
            c2 = TS.MultiplyAdd(wv, x2, c2);
            c3 = TS.MultiplyAdd(wv, x3, c3);
            wv = TS.Create(wd[k]);
            d0 = TS.MultiplyAdd(wv, x0, d0);
            d1 = TS.MultiplyAdd(wv, x1, d1);
            d2 = TS.MultiplyAdd(wv, x2, d2);
            d3 = TS.MultiplyAdd(wv, x3, d3);
        }

        float* sb = sums + stageLength, sc = sb + stageLength, sd = sc + stageLength;
        TS.Store(a0, ref *sums, 0);
        TS.Store(a1, ref sums[v], 0);
        TS.Store(a2, ref sums[2 * v], 0);
        TS.Store(a3, ref sums[3 * v], 0);
        TS.Store(b0, ref *sb, 0);
        TS.Store(b1, ref sb[v], 0);
        TS.Store(b2, ref sb[2 * v], 0);
        TS.Store(b3, ref sb[3 * v], 0);
        TS.Store(c0, ref *sc, 0);
        TS.Store(c1, ref sc[v], 0);
        TS.Store(c2, ref sc[2 * v], 0);
        TS.Store(c3, ref sc[3 * v], 0);
        TS.Store(d0, ref *sd, 0);
        TS.Store(d1, ref sd[v], 0);
        TS.Store(d2, ref sd[2 * v], 0);
        TS.Store(d3, ref sd[3 * v], 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate1<TV, TS>(float* p, int* offsets, float* weights, int taps, float* sums)
        where TS : ISimd<TV>
        where TV : struct
    {
        TV a0 = TS.Zero, a1 = TS.Zero;
        int k = 0;
        // Two chains, so consecutive multiply-adds do not wait on each other.
        for (; k + 1 < taps; k += 2)
        {
            a0 = TS.MultiplyAdd(TS.Create(weights[k]), TS.Load(ref p[offsets[k]], 0), a0);
            a1 = TS.MultiplyAdd(TS.Create(weights[k + 1]), TS.Load(ref p[offsets[k + 1]], 0), a1);
        }

        if (k < taps)
        {
            a0 = TS.MultiplyAdd(TS.Create(weights[k]), TS.Load(ref p[offsets[k]], 0), a0);
        }

        TS.Store(TS.Add(a0, a1), ref *sums, 0);
    }

    /// <summary><see cref="FinishRows"/> with the activation <see cref="StoreEpilogue.Dispatch"/> chose.</summary>
    private readonly struct FinishUser<TV, TS>(float* stage, int length, float* y, int ldy, int rows, int cols, TV bias) : StoreEpilogue.IActivationUser
        where TS : ISimd<TV>
        where TV : struct
    {
        public void Use<TA>(TA function)
            where TA : struct, StoreEpilogue.IActivationFunction<TA> => FinishRows<TV, TS, TA>(stage, length, y, ldy, rows, cols, bias, function);

        public void UseAny(StoreEpilogue.AnyActivation function) => Use(function);
    }

    /// <summary><c>y[r, c] = act(stage[r · length + c] + bias)</c> for a tile's rows; the ragged end of a row is one masked vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishRows<TV, TS, TA>(float* stage, int length, float* y, int ldy, int rows, int cols, TV bias, TA function)
        where TS : ISimd<TV>
        where TV : struct
        where TA : struct, StoreEpilogue.IActivationFunction<TA>
    {
        for (int r = 0; r < rows; r++)
        {
            float* s = stage + (r * length), yr = y + ((long)r * ldy);
            int ox = 0;
            for (; ox + TS.Count <= cols; ox += TS.Count)
            {
                TS.Store(function.Apply<TV, TS>(TS.Add(TS.Load(ref s[ox], 0), bias)), ref yr[ox], 0);
            }

            if (ox < cols)
            {
                TS.StorePartial(function.Apply<TV, TS>(TS.Add(TS.Load(ref s[ox], 0), bias)), yr + ox, cols - ox);
            }
        }
    }

    /// <summary>
    /// Stores output channel <paramref name="oc"/>'s part of a tile from the staged flat sums (row <c>r</c> at
    /// <c>r · rowLength</c>), adding the earlier channel chunks and, after the last one, applying the epilogue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreRows<TV, TS>(ref Job job, float* stage, int n, int oc, int oy0, int ox0, int rows, int cols, bool firstChunk, bool lastChunk)
        where TS : ISimd<TV>
        where TV : struct
    {
        Geometry geo = job.G;
        int v = TS.Count, length = job.T.RowLength;
        long at = (long)(n * geo.Mg * job.Group + oc) * geo.OH * geo.OW + (long)oy0 * geo.OW + ox0;
        float* y = job.Y + at;
        float* residual = job.R == null ? null : job.R + at;
        TV bias = TS.Create(job.B == null ? 0 : job.B[oc]);
        Activation activation = job.Activation;
        float alpha = job.Alpha, beta = job.Beta;
        if (firstChunk && lastChunk && residual == null)
        {
            // The common case: each staged row goes to y through the bias and the activation in one pass.
            var finish = new FinishUser<TV, TS>(stage, length, y, geo.OW, rows, cols, bias);
            StoreEpilogue.Dispatch(ref finish, activation, alpha, beta);
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            float* s = stage + r * length;
            float* yr = y + (long)r * geo.OW;
            float* rr = residual == null ? null : residual + (long)r * geo.OW;
            for (int ox = 0; ox < cols; ox += v)
            {
                int count = Math.Min(v, cols - ox);
                bool full = count == v;
                TV acc = TS.Load(ref s[ox], 0);
                if (!firstChunk)
                {
                    acc = TS.Add(acc, full ? TS.Load(ref yr[ox], 0) : TS.LoadPartial(yr + ox, count));
                }

                if (lastChunk)
                {
                    acc = TS.Add(acc, bias);
                    if (rr != null)
                    {
                        acc = TS.Add(acc, full ? TS.Load(ref rr[ox], 0) : TS.LoadPartial(rr + ox, count));
                    }

                    acc = StoreEpilogue.Activate<TV, TS>(acc, activation, alpha, beta);
                }

                if (full)
                {
                    TS.Store(acc, ref yr[ox], 0);
                }
                else
                {
                    TS.StorePartial(acc, yr + ox, count);
                }
            }
        }
    }
}
