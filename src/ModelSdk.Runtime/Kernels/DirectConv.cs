using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Direct 1-d/2-d convolution for few input channels per group (depthwise convolutions, channel
/// multipliers, first layers on images). The output is cut into tiles of rows; for each tile the input
/// window it reads is copied once into a zero-padded patch, split by horizontal stride phase, so that
/// every kernel tap reads a contiguous run: output row <c>oy</c>, column <c>ox</c> reads patch row
/// <c>oy·sy + ky·dy</c>, phase <c>(kx·dx) mod sx</c>, element <c>ox + (kx·dx) div sx</c>. Four output
/// rows accumulate at once in vector registers, so one broadcast weight feeds four multiply-adds, and
/// the epilogue (bias, residual, activation) is applied as the registers are stored.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectConv
{
    // Patch budget per tile (floats, on the stack): input rows of a tile stay in L1/L2 while every
    // output channel of the group reads them.
    private const int PatchBudget = 12 * 1024;
    private const int MaxTileWidth = 256;
    private const int MaxTileRows = 32;
    private const long MinParallelMacs = 64 * 1024;

    /// <summary>Geometry of one group's convolution, 1-d treated as 2-d with one row.</summary>
    private struct Geometry
    {
        public int Cg, Mg, H, W, OH, OW, KH, KW, SY, SX, DY, DX, PT, PL;

        public readonly int Taps => KH * KW;
    }

    /// <summary>Tiling of the output and the patch layout of one tile.</summary>
    private struct Tiling
    {
        public int TileRows, TileCols, RowTiles, ColTiles;
        public int ChannelChunk; // input channels per patch (all of them unless the patch would not fit)
        public int PhaseLength, RowStride, ChannelStride, PatchRows;
    }

    private struct Job
    {
        public float* X, W, B, R, Y;
        public int* Offsets; // patch offset of each (channel, tap) of a chunk, for the first output row
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

        SimdWidth resolved = Fit(Simd.Width, g.OW);
        Tiling t = Plan(g);
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
                    int shift = kx * g.DX;
                    offsets[o++] = c * t.ChannelStride + ky * g.DY * t.RowStride + shift % g.SX * t.PhaseLength + shift / g.SX;
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
        int maxShift = (g.KW - 1) * g.DX / g.SX;
        int tileCols = Math.Min(g.OW, MaxTileWidth);
        int chunk = g.Cg;
        while (true)
        {
            int phase = RoundUp(tileCols, 16) + maxShift;
            int rowStride = g.SX * phase;
            int rowsForOne = (g.KH - 1) * g.DY + 1;

            // Most output rows whose patch fits for `chunk` channels.
            long perChannel = PatchBudget / Math.Max(1, chunk);
            long fit = (perChannel / rowStride - rowsForOne) / g.SY + 1;
            if (fit >= 1 || (chunk == 1 && tileCols == 1))
            {
                int tileRows = (int)Math.Clamp(fit, 1, Math.Min(g.OH, MaxTileRows));
                if (tileRows >= 4 && tileRows < g.OH)
                {
                    tileRows &= ~3; // whole blocks of four rows, unless one tile takes the whole plane
                }

                int patchRows = (tileRows - 1) * g.SY + rowsForOne;
                return new Tiling
                {
                    TileRows = tileRows, TileCols = tileCols,
                    RowTiles = (g.OH + tileRows - 1) / tileRows, ColTiles = (g.OW + tileCols - 1) / tileCols,
                    ChannelChunk = chunk, PhaseLength = phase, RowStride = rowStride, PatchRows = patchRows,
                    ChannelStride = patchRows * rowStride,
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

    /// <summary>The narrowest width, not wider than <paramref name="limit"/>, whose vectors cover <paramref name="columns"/> with least waste.</summary>
    private static SimdWidth Fit(SimdWidth limit, int columns)
        => limit == SimdWidth.W512 && columns <= 8 ? (columns <= 4 ? SimdWidth.W128 : SimdWidth.W256)
            : limit == SimdWidth.W256 && columns <= 4 ? SimdWidth.W128
            : limit;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static void RunItem(void* state, int index)
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        int first = index * job.UnitsPerItem, last = Math.Min(job.Units, first + job.UnitsPerItem);
        for (int u = first; u < last; u++)
        {
            int tx = u % job.T.ColTiles, rest = u / job.T.ColTiles;
            int ty = rest % job.T.RowTiles;
            rest /= job.T.RowTiles;
            ComputeTile(ref job, rest / job.Group, rest % job.Group, ty, tx);
        }
    }

    private static void ComputeTile(ref Job job, int n, int g, int ty, int tx)
    {
        Geometry geo = job.G;
        Tiling t = job.T;
        int oy0 = ty * t.TileRows, rows = Math.Min(geo.OH - oy0, t.TileRows);
        int ox0 = tx * t.TileCols, cols = Math.Min(geo.OW - ox0, t.TileCols);
        float* patch = stackalloc float[t.ChannelChunk * t.ChannelStride];
        int channels = geo.Cg * job.Group;
        int planeIn = geo.H * geo.W;
        for (int c0 = 0; c0 < geo.Cg; c0 += t.ChannelChunk)
        {
            int cc = Math.Min(t.ChannelChunk, geo.Cg - c0);
            float* xc = job.X + (long)(n * channels + g * geo.Cg + c0) * planeIn;
            BuildPatch(xc, patch, geo, t, cc, oy0 * geo.SY - geo.PT, ox0 * geo.SX - geo.PL);

            bool firstChunk = c0 == 0, lastChunk = c0 + cc == geo.Cg;
            // Output channels in pairs where blocks of four rows fit: eight accumulators share each patch load.
            int m = 0;
            for (; m + 1 < geo.Mg && rows >= 4; m += 2)
            {
                Tile a = MakeTile(ref job, patch, n, g * geo.Mg + m, c0, cc, oy0, ox0, cols, firstChunk, lastChunk);
                Tile b = MakeTile(ref job, patch, n, g * geo.Mg + m + 1, c0, cc, oy0, ox0, cols, firstChunk, lastChunk);
                switch (job.Width)
                {
                    case SimdWidth.W512:
                        AccumulatePair<Vector512<float>, Simd512>(ref a, ref b, rows);
                        break;
                    case SimdWidth.W256:
                        AccumulatePair<Vector256<float>, Simd256>(ref a, ref b, rows);
                        break;
                    default:
                        AccumulatePair<Vector128<float>, Simd128>(ref a, ref b, rows);
                        break;
                }
            }

            for (; m < geo.Mg; m++)
            {
                Tile tile = MakeTile(ref job, patch, n, g * geo.Mg + m, c0, cc, oy0, ox0, cols, firstChunk, lastChunk);
                switch (job.Width)
                {
                    case SimdWidth.W512:
                        AccumulateRows<Vector512<float>, Simd512>(ref tile, 0, rows);
                        break;
                    case SimdWidth.W256:
                        AccumulateRows<Vector256<float>, Simd256>(ref tile, 0, rows);
                        break;
                    default:
                        AccumulateRows<Vector128<float>, Simd128>(ref tile, 0, rows);
                        break;
                }
            }
        }
    }

    /// <summary>Output channel <paramref name="oc"/>'s part of a tile, for input channels <c>[c0, c0 + cc)</c> of its group.</summary>
    private static Tile MakeTile(ref Job job, float* patch, int n, int oc, int c0, int cc, int oy0, int ox0, int cols, bool firstChunk, bool lastChunk)
    {
        Geometry geo = job.G;
        long at = (long)(n * geo.Mg * job.Group + oc) * geo.OH * geo.OW + oy0 * geo.OW + ox0;
        return new Tile
        {
            Patch = patch, Offsets = job.Offsets, Taps = cc * geo.Taps,
            Weights = job.W + ((long)oc * geo.Cg + c0) * geo.Taps,
            Y = job.Y + at,
            Residual = job.R == null ? null : job.R + at,
            Bias = job.B == null ? 0 : job.B[oc],
            RowStep = geo.SY * job.T.RowStride, OutRowStride = geo.OW, Cols = cols,
            Accumulate = !firstChunk, Finish = lastChunk,
            Activation = job.Activation, Alpha = job.Alpha, Beta = job.Beta,
        };
    }

    /// <summary>
    /// Copies input rows <c>[iy0, iy0 + patchRows)</c>, columns from <paramref name="ix0"/>, of <paramref name="channels"/>
    /// planes into the patch, zero where the window hangs over the input, each row split into its stride phases.
    /// </summary>
    private static void BuildPatch(float* x, float* patch, Geometry g, Tiling t, int channels, int iy0, int ix0)
    {
        int phase = t.PhaseLength;
        int rowLo = Math.Clamp(-iy0, 0, t.PatchRows), rowHi = Math.Clamp(g.H - iy0, rowLo, t.PatchRows);

        // Phase q, element i reads column ix0 + q + sx·i: in range for i in [lo, hi), the same on every row.
        int* bounds = stackalloc int[2 * g.SX];
        for (int q = 0; q < g.SX; q++)
        {
            int first = ix0 + q;
            bounds[2 * q] = Math.Clamp(CeilDiv(-first, g.SX), 0, phase);
            bounds[2 * q + 1] = Math.Clamp(CeilDiv(g.W - first, g.SX), bounds[2 * q], phase);
        }

        // Only the padding is zeroed: whole rows above and below the input, and each phase's ends.
        for (int c = 0; c < channels; c++)
        {
            float* plane = x + (long)c * g.H * g.W;
            float* cp = patch + c * t.ChannelStride;
            Fill(cp, rowLo * t.RowStride);
            Fill(cp + rowHi * t.RowStride, (t.PatchRows - rowHi) * t.RowStride);
            for (int pr = rowLo; pr < rowHi; pr++)
            {
                float* row = cp + pr * t.RowStride;
                float* src = plane + (iy0 + pr) * g.W + ix0;
                for (int q = 0; q < g.SX; q++)
                {
                    int lo = bounds[2 * q], hi = bounds[2 * q + 1];
                    float* dst = row + q * phase;
                    Fill(dst, lo);
                    if (g.SX == 1)
                    {
                        Copy(src + lo, dst + lo, hi - lo);
                    }
                    else
                    {
                        Gather(src + q + lo * g.SX, dst + lo, hi - lo, g.SX);
                    }

                    Fill(dst + hi, phase - hi);
                }
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

    /// <summary>One output channel's rows of a tile, and what its store does.</summary>
    private struct Tile
    {
        public float* Patch, Weights, Y, Residual;
        public int* Offsets;
        public int Taps, RowStep, OutRowStride, Cols;
        public float Bias;
        public bool Accumulate, Finish;
        public Activation Activation;
        public float Alpha, Beta;
    }

    /// <summary>Rows <c>[r0, rows)</c> of one output channel's tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRows<TV, TS>(ref Tile tile, int r0, int rows)
        where TS : ISimd<TV>
        where TV : struct
    {
        int r = r0;
        for (; r + 4 <= rows; r += 4)
        {
            RowBlock<TV, TS>(ref tile, r, 4);
        }

        if (r + 2 <= rows)
        {
            RowBlock<TV, TS>(ref tile, r, 2);
            r += 2;
        }

        if (r < rows)
        {
            RowBlock<TV, TS>(ref tile, r, 1);
        }
    }

    /// <summary>Two output channels' tiles over the same patch: blocks of four rows together, the rest apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulatePair<TV, TS>(ref Tile a, ref Tile b, int rows)
        where TS : ISimd<TV>
        where TV : struct
    {
        int v = TS.Count, step = a.RowStep, r = 0;
        float* sums = stackalloc float[8 * 16];
        for (; r + 4 <= rows; r += 4)
        {
            for (int ox = 0; ox < a.Cols; ox += v)
            {
                Accumulate4x2<TV, TS>(a.Patch + r * step + ox, a.Offsets, a.Weights, b.Weights, a.Taps, step, sums);
                int n = Math.Min(v, a.Cols - ox);
                long at = (long)r * a.OutRowStride + ox;
                for (int i = 0; i < 4; i++)
                {
                    Store<TV, TS>(ref a, TS.Load(ref sums[16 * i], 0), at + i * a.OutRowStride, n);
                    Store<TV, TS>(ref b, TS.Load(ref sums[16 * (4 + i)], 0), at + i * b.OutRowStride, n);
                }
            }
        }

        if (r < rows)
        {
            AccumulateRows<TV, TS>(ref a, r, rows);
            AccumulateRows<TV, TS>(ref b, r, rows);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate4x2<TV, TS>(float* p, int* offsets, float* wa, float* wb, int taps, int step, float* sums)
        where TS : ISimd<TV>
        where TV : struct
    {
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
        TV b0 = TS.Zero, b1 = TS.Zero, b2 = TS.Zero, b3 = TS.Zero;
        for (int k = 0; k < taps; k++)
        {
            TV va = TS.Create(wa[k]), vb = TS.Create(wb[k]);
            float* q = p + offsets[k];
            TV x0 = TS.Load(ref *q, 0), x1 = TS.Load(ref q[step], 0), x2 = TS.Load(ref q[2 * step], 0), x3 = TS.Load(ref q[3 * step], 0);
            a0 = TS.MultiplyAdd(va, x0, a0);
            b0 = TS.MultiplyAdd(vb, x0, b0);
            a1 = TS.MultiplyAdd(va, x1, a1);
            b1 = TS.MultiplyAdd(vb, x1, b1);
            a2 = TS.MultiplyAdd(va, x2, a2);
            b2 = TS.MultiplyAdd(vb, x2, b2);
            a3 = TS.MultiplyAdd(va, x3, a3);
            b3 = TS.MultiplyAdd(vb, x3, b3);
        }

        TS.Store(a0, ref sums[0], 0);
        TS.Store(a1, ref sums[16], 0);
        TS.Store(a2, ref sums[32], 0);
        TS.Store(a3, ref sums[48], 0);
        TS.Store(b0, ref sums[64], 0);
        TS.Store(b1, ref sums[80], 0);
        TS.Store(b2, ref sums[96], 0);
        TS.Store(b3, ref sums[112], 0);
    }

    /// <summary>Output rows <c>[r, r + count)</c> of the tile, count 1, 2 or 4, one vector of columns at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowBlock<TV, TS>(ref Tile tile, int r, int count)
        where TS : ISimd<TV>
        where TV : struct
    {
        int v = TS.Count, step = tile.RowStep;
        // The sums leave the registers through this buffer: the multiply-add loops stay small and call-free,
        // so the JIT keeps every accumulator in a register.
        float* sums = stackalloc float[4 * 16];
        for (int ox = 0; ox < tile.Cols; ox += v)
        {
            float* p = tile.Patch + r * step + ox;
            switch (count)
            {
                case 4:
                    Accumulate4<TV, TS>(p, tile.Offsets, tile.Weights, tile.Taps, step, sums);
                    break;
                case 2:
                    Accumulate2<TV, TS>(p, tile.Offsets, tile.Weights, tile.Taps, step, sums);
                    break;
                default:
                    Accumulate1<TV, TS>(p, tile.Offsets, tile.Weights, tile.Taps, sums);
                    break;
            }

            int n = Math.Min(v, tile.Cols - ox);
            long at = (long)r * tile.OutRowStride + ox;
            for (int i = 0; i < count; i++)
            {
                Store<TV, TS>(ref tile, TS.Load(ref sums[16 * i], 0), at + i * tile.OutRowStride, n);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate4<TV, TS>(float* p, int* offsets, float* weights, int taps, int step, float* sums)
        where TS : ISimd<TV>
        where TV : struct
    {
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
        for (int k = 0; k < taps; k++)
        {
            TV wv = TS.Create(weights[k]);
            float* q = p + offsets[k];
            a0 = TS.MultiplyAdd(wv, TS.Load(ref *q, 0), a0);
            a1 = TS.MultiplyAdd(wv, TS.Load(ref q[step], 0), a1);
            a2 = TS.MultiplyAdd(wv, TS.Load(ref q[2 * step], 0), a2);
            a3 = TS.MultiplyAdd(wv, TS.Load(ref q[3 * step], 0), a3);
        }

        TS.Store(a0, ref sums[0], 0);
        TS.Store(a1, ref sums[16], 0);
        TS.Store(a2, ref sums[32], 0);
        TS.Store(a3, ref sums[48], 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate2<TV, TS>(float* p, int* offsets, float* weights, int taps, int step, float* sums)
        where TS : ISimd<TV>
        where TV : struct
    {
        TV a0 = TS.Zero, a1 = TS.Zero;
        for (int k = 0; k < taps; k++)
        {
            TV wv = TS.Create(weights[k]);
            float* q = p + offsets[k];
            a0 = TS.MultiplyAdd(wv, TS.Load(ref *q, 0), a0);
            a1 = TS.MultiplyAdd(wv, TS.Load(ref q[step], 0), a1);
        }

        TS.Store(a0, ref sums[0], 0);
        TS.Store(a1, ref sums[16], 0);
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

        TS.Store(TS.Add(a0, a1), ref sums[0], 0);
    }

    /// <summary>Stores <paramref name="n"/> lanes at output offset <paramref name="at"/>, adding the earlier channel chunks and applying the epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TV, TS>(ref Tile tile, TV acc, long at, int n)
        where TS : ISimd<TV>
        where TV : struct
    {
        float* y = tile.Y + at;
        bool full = n == TS.Count;
        if (tile.Accumulate)
        {
            acc = TS.Add(acc, full ? TS.Load(ref *y, 0) : TS.LoadPartial(y, n));
        }

        if (tile.Finish)
        {
            acc = TS.Add(acc, TS.Create(tile.Bias));
            if (tile.Residual != null)
            {
                acc = TS.Add(acc, full ? TS.Load(ref tile.Residual[at], 0) : TS.LoadPartial(tile.Residual + at, n));
            }

            acc = StoreEpilogue.Activate<TV, TS>(acc, tile.Activation, tile.Alpha, tile.Beta);
        }

        if (full)
        {
            TS.Store(acc, ref *y, 0);
        }
        else
        {
            TS.StorePartial(acc, y, n);
        }
    }
}
