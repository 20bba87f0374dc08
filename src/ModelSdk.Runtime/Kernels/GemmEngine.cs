using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>How a GEMM operand is stored.</summary>
internal enum GemmOperand
{
    /// <summary>Row-major <c>[rows, cols]</c> of <c>op(X)</c>, with a leading dimension.</summary>
    RowMajor,
    /// <summary>Stored transposed: <c>op(X)(i, j)</c> at <c>j · ld + i</c>.</summary>
    Transposed,
    /// <summary>In the panel layout of <see cref="GemmPacking"/> (no leading dimension).</summary>
    Packed,
}

/// <summary>
/// One float32 product <c>y = act(alpha · op(A) · op(B) + beta · C + residual)</c>, described with raw
/// pointers so that it can be handed to worker threads. Pointers stay valid for the call (pinned spans).
/// </summary>
internal unsafe struct GemmProblem
{
    public float* A;
    public nint Lda;
    public GemmOperand ALayout;
    public float* B;
    public nint Ldb;
    public GemmOperand BLayout;

    /// <summary>Row <c>p</c> of <c>op(B)</c> scaled by <c>BRowScale[p]</c> as B is packed (a squeeze-excite scale of a 1×1 convolution's input); null when absent. B is not pre-packed.</summary>
    public float* BRowScale;
    public float* Y;
    public nint Ldy;
    public int M;
    public int N;
    public int K;
    public float Alpha;

    /// <summary>Bias, element (i, j) at <c>i · CRowStride + j · CColStride</c>; null when absent.</summary>
    public float* C;
    public nint CRowStride;
    public nint CColStride;
    public float Beta;

    /// <summary>Added after the bias, element (i, j) at <c>i · Ldy + j</c> like y; null when absent.</summary>
    public float* Residual;
    public Activation Activation;
    public float ActivationAlpha;
    public float ActivationBeta;
    public SimdWidth Path;

    public readonly bool HasEpilogue => Alpha != 1 || C != null || Residual != null || Activation != Activation.None;
}

/// <summary>
/// The blocked float32 GEMM: cache blocking around the register-tiled <see cref="GemmMicroKernel"/>,
/// packing of operands into scratch where they are reused, the fused epilogue, and the split of large
/// products over the worker threads.
/// </summary>
/// <remarks>
/// Loop nest (after Goto/BLIS): column blocks of <see cref="NC"/> → depth blocks of <see cref="KC"/> (B's
/// <c>KC × NC</c> block, packed or pre-packed, stays in L2) → row blocks of <see cref="MC"/> (A packed into
/// <c>MC × KC</c> panels, in L2) → 64-column panels of B (one <c>KC × 64</c> micro-panel, in L1) → 6-row
/// panels of A → micro-kernel. Sums are kept in y between depth blocks. After the last one the epilogue
/// (scale, bias, residual, activation) is applied by the micro-kernel to the sums in registers when it is a
/// convolution's (see <see cref="IGemmStore{TSelf}"/>), otherwise by a pass over the tile while it is in L1.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class GemmEngine
{
    /// <summary>Rows of the register tile (= <see cref="GemmPacking.PanelRows"/>).</summary>
    public const int MR = GemmPacking.PanelRows;

    /// <summary>Columns of a B panel (= <see cref="GemmPacking.PanelColumns"/>).</summary>
    public const int NR = GemmPacking.PanelColumns;

    /// <summary>Depth of a block: a <c>KC × 64</c> micro-panel of B (64 KB) streams from L2 through L1 once per 6-row panel of A.</summary>
    public const int KC = 256;

    /// <summary>Rows of a packed A block (<c>MC × KC</c> floats, 120 KB, stays in L2).</summary>
    public const int MC = 120;

    /// <summary>Columns of a B block packed at run time (<c>KC × NC</c> floats, 512 KB, in L2).</summary>
    public const int NC = 512;

    /// <summary>The deepest product a single row block computes in one depth pass (a 64-column panel of 256 KB, in L2).</summary>
    public const int SingleRowBlockDepth = 1024;

    /// <summary>The deepest row-major B read in place by several row panels: a 64-column panel of 16 KB, a third of L1.</summary>
    public const int InPlaceDepth = 64;

    /// <summary>Products below this many multiply-adds run on the calling thread: a parallel loop costs a few microseconds.</summary>
    public const long ParallelMacs = 1L << 16;

    /// <summary>The least work worth one parallel item.</summary>
    public const long ItemMacs = 1L << 15;

    private const int ScratchFloats = MC * KC + KC * NC + MR * NR + 16;

    [ThreadStatic]
    private static float[]? t_scratch;

    // B packed once by the thread that splits a product by rows, read by every item (see PackShared).
    [ThreadStatic]
    private static float[]? t_shared;

    /// <summary>The width <paramref name="path"/> means on this thread (tests force narrower ones through <see cref="Simd.Forced"/>).</summary>
    public static SimdWidth Resolve(SimdWidth path) => path != SimdWidth.Auto ? path : Simd.Width;

    /// <summary>Computes one product, split over <paramref name="context"/>'s threads when it is large enough.</summary>
    public static void Run(in GemmProblem problem, KernelContext? context)
    {
        var batch = default(BatchWalk);
        RunBatch(problem, 1, batch, context);
    }

    /// <summary>
    /// Computes <paramref name="count"/> products: product <c>t</c> reads A and B at the offsets <paramref name="walk"/>
    /// gives and writes y (and reads the residual) at <c>t · M · N</c>.
    /// </summary>
    public static void RunBatch(in GemmProblem problem, int count, in BatchWalk walk, KernelContext? context)
    {
        if (problem.M == 0 || problem.N == 0 || count == 0)
        {
            return;
        }

        GemmProblem p = problem;
        p.Path = Resolve(p.Path);
        long macs = (long)count * p.M * p.N * Math.Max(p.K, 1);
        WorkerPool? pool = context?.Workers;
        if (pool is null || pool.ThreadCount == 1 || macs < ParallelMacs || !pool.Splits(macs, count * ActivationElements(p), p.K))
        {
            for (int t = 0; t < count; t++)
            {
                GemmProblem q = walk.At(p, t);
                Compute(q, 0, q.M, 0, q.N);
            }

            return;
        }

        int rowPanels = (p.M + MR - 1) / MR, colPanels = (p.N + NR - 1) / NR;
        int items = pool.Chunks(macs, ItemMacs);
        int perProduct = Math.Max(1, items / count);
        (int mItems, int nItems) = Split(p, rowPanels, colPanels, perProduct);
        if (count == 1 && mItems > 1 && PacksBPerItem(p, (rowPanels + mItems - 1) / mItems * MR))
        {
            // Split by rows, every item would pack the same panels of B (a 1×1 convolution of 576 channels on a
            // 7×7 plane: 8 items, 8 packings of its whole input). Packed once here, they are read by all.
            p.B = PackShared(p, pool);
            p.Ldb = 0;
            p.BLayout = GemmOperand.Packed;
            p.BRowScale = null; // applied by the packing
        }

        var state = new ParallelState
        {
            Problem = p,
            Walk = walk,
            MItems = mItems,
            NItems = nItems,
            RowPanels = rowPanels,
            ColPanels = colPanels,
        };
        pool.For(count * mItems * nItems, &RunItem, &state);
    }

    /// <summary>The elements of one product that are activations (operands computed at run time, and y), not pre-packed weights.</summary>
    private static long ActivationElements(in GemmProblem p) =>
        (p.ALayout == GemmOperand.Packed ? 0 : (long)p.M * p.K) + (p.BLayout == GemmOperand.Packed ? 0 : (long)p.K * p.N) + ((long)p.M * p.N);

    /// <summary>How to cut one product into <paramref name="items"/> rectangles of whole panels.</summary>
    private static (int MItems, int NItems) Split(in GemmProblem p, int rowPanels, int colPanels, int items)
    {
        if (items <= 1)
        {
            return (1, 1);
        }

        // A pre-packed B is split by rows only when each item keeps enough rows (two row blocks) to reuse every B
        // panel it streams: otherwise every item would stream all of B for a few rows (batch-64 layers), and
        // columns give each thread its own part of B instead. A B packed at run time is split by columns, so each
        // item packs only its part.
        if (p.BLayout == GemmOperand.Packed && rowPanels >= 2 * (MC / MR) * 2)
        {
            return (Math.Min(items, rowPanels / (2 * (MC / MR))), 1);
        }

        if (rowPanels >= items && colPanels < items)
        {
            return (items, 1);
        }

        if (colPanels >= items)
        {
            return (1, items);
        }

        return (Math.Min(rowPanels, (items + colPanels - 1) / colPanels), colPanels);
    }

    private static void RunItem(void* state, int index)
    {
        ref ParallelState s = ref Unsafe.AsRef<ParallelState>(state);
        int perProduct = s.MItems * s.NItems;
        int product = index / perProduct, rest = index % perProduct;
        int mi = rest / s.NItems, ni = rest % s.NItems;
        GemmProblem q = s.Walk.At(s.Problem, product);
        int i0 = (int)((long)mi * s.RowPanels / s.MItems) * MR, i1 = Math.Min(q.M, (int)((long)(mi + 1) * s.RowPanels / s.MItems) * MR);
        int j0 = (int)((long)ni * s.ColPanels / s.NItems) * NR, j1 = Math.Min(q.N, (int)((long)(ni + 1) * s.ColPanels / s.NItems) * NR);
        if (i0 < i1 && j0 < j1)
        {
            Compute(q, i0, i1, j0, j1);
        }
    }

    /// <summary>
    /// Computes rows <c>[i0, i1)</c> and columns <c>[j0, j1)</c> of y on this thread; <paramref name="i0"/> is a
    /// multiple of <see cref="MR"/> and <paramref name="j0"/> of <see cref="NR"/>, so packed panels line up.
    /// </summary>
    // Fully optimized from the first call, like the micro-kernels: left to tiering, a model's first runs (and runs on
    // a busy machine, where the background recompilation waits) took this loop nest at tier 0, 2× slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(in GemmProblem p, int i0, int i1, int j0, int j1)
    {
        if (p.K == 0)
        {
            for (int i = i0; i < i1; i++)
            {
                new Span<float>(p.Y + i * p.Ldy + j0, j1 - j0).Clear();
            }

            if (p.HasEpilogue)
            {
                EpilogueTile(p, i0, i1 - i0, j0, j1 - j0);
            }

            return;
        }

        if (!p.HasEpilogue || p.Alpha != 1)
        {
            Compute<GemmRawStore>(p, i0, i1, j0, j1);
            return;
        }

        // The epilogue leaves the registers with the sums when it is one of the common ones: a convolution's
        // per-channel bias (or a dense layer's per-feature bias) with no activation or a clamp-like one, or a
        // convolution's bias with the residual of its block.
        bool perRow = p.C == null || p.CColStride == 0;
        if (p.Residual != null)
        {
            if (perRow && p.Activation == Activation.None)
            {
                Compute<GemmRowResidualStore>(p, i0, i1, j0, j1);
            }
            else
            {
                Compute<GemmRawStore>(p, i0, i1, j0, j1);
            }

            return;
        }

        if (!perRow && p.CColStride != 1)
        {
            Compute<GemmRawStore>(p, i0, i1, j0, j1); // a gathered bias
            return;
        }

        var user = new ActivatedProduct(p, perRow, i0, i1, j0, j1);
        StoreEpilogue.Dispatch(ref user, p.Activation, p.ActivationAlpha, p.ActivationBeta);
    }

    /// <summary>
    /// The product with its bias (one per row, or one per column) and an activation of its own struct applied in
    /// registers; any other activation (its switch per vector would cost more in every store) in a second pass.
    /// </summary>
    private readonly struct ActivatedProduct(in GemmProblem p, bool perRow, int i0, int i1, int j0, int j1) : StoreEpilogue.IActivationUser
    {
        private readonly GemmProblem _p = p;

        public void Use<TAct>(TAct function)
            where TAct : struct, StoreEpilogue.IActivationFunction<TAct>
        {
            if (perRow)
            {
                Compute<GemmRowStore<TAct>>(_p, i0, i1, j0, j1);
            }
            else
            {
                Compute<GemmColumnStore<TAct>>(_p, i0, i1, j0, j1);
            }
        }

        public void UseAny(StoreEpilogue.AnyActivation function) => Compute<GemmRawStore>(_p, i0, i1, j0, j1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Compute<TE>(in GemmProblem p, int i0, int i1, int j0, int j1)
        where TE : struct, IGemmStore<TE>
    {
        if (p.M == 1 && p.BLayout == GemmOperand.Packed)
        {
            VectorTimesPanels<TE>(p, j0, j1);
        }
        else
        {
            Blocks<TE>(p, i0, i1, j0, j1);
        }
    }

    /// <summary>
    /// The blocked loop nest of <see cref="Compute"/> over a product of depth above 0. With a store other than
    /// <see cref="GemmRawStore"/>, the micro-kernel applies the epilogue to full tiles as it stores the last depth
    /// block; otherwise (and for a shorter last row panel, or a padded tile the store cannot finish) the epilogue
    /// is a second pass over the tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocks<TE>(in GemmProblem p, int i0, int i1, int j0, int j1)
        where TE : struct, IGemmStore<TE>
    {
        int k = p.K;
        bool fusedStore = typeof(TE) != typeof(GemmRawStore);
        float* scratch = Scratch();
        float* aPack = scratch, bPack = scratch + MC * KC, tile = bPack + KC * NC;

        // Depth blocks of equal size (784 = 4 × 196, not 3 × 256 + 16): a thin last block would cost a whole
        // extra pass over y for little work.
        int blocks = (k + KC - 1) / KC, depth = (k + blocks - 1) / blocks;

        // B is packed only when row panels reuse it from a panel too deep for L1; a single row panel, or a
        // shallow product (a 1×1 convolution over few channels: its KC × 64 panel read in place stays in L1
        // across the row panels), reads a row-major B in place.
        bool bInPlace = p.BLayout == GemmOperand.RowMajor && p.BRowScale == null && (i1 - i0 <= MR || k <= InPlaceDepth);
        bool packB = p.BLayout != GemmOperand.Packed && !bInPlace;
        bool epilogue = p.HasEpilogue;

        // With a single row block (decided on the whole product, so every split over threads sums alike) no B
        // panel is reused across row blocks, so its depth block need not stay in L2: the whole depth in one pass
        // spares y its re-reads and the epilogue its second pass (a KC-deep panel streams from L2 anyway). A B
        // packed at run time must fit the scratch (KC × NC) over the whole depth: a few column panels, as in
        // the 1×1 convolutions of 7×7 and 14×14 planes (576→96 on 7×7: 18% faster).
        long packedColumns = Math.Min(NC, (p.N + NR - 1) / NR * NR);
        if (p.M <= MC && k <= SingleRowBlockDepth && (p.BLayout == GemmOperand.Packed || (long)k * packedColumns <= (long)KC * NC))
        {
            depth = k;
        }

        // Row blocks of equal size too (whole panels): 128 rows as 120 + 8 would stream every B panel once more for 8 rows.
        int rowBlocks = (i1 - i0 + MC - 1) / MC;
        int rowBlock = ((i1 - i0 + rowBlocks - 1) / rowBlocks + MR - 1) / MR * MR;
        for (int jc = j0; jc < j1; jc += NC)
        {
            int nc = Math.Min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += depth)
            {
                int kc = Math.Min(depth, k - pc);
                bool accumulate = pc > 0, last = pc + kc == k;
                if (packB)
                {
                    bool transposed = p.BLayout == GemmOperand.Transposed;
                    for (int jr = jc; jr < jc + nc; jr += NR)
                    {
                        GemmPacking.PackBPanel(p.B, p.Ldb, transposed, pc, kc, jr, Math.Min(NR, p.N - jr), bPack + (nint)(jr - jc) * kc, p.BRowScale);
                    }
                }

                for (int ic = i0; ic < i1; ic += rowBlock)
                {
                    int mc = Math.Min(rowBlock, i1 - ic);
                    // A row-major A is read in place by the micro-kernel (rows through their stride): packing
                    // it cost about a twelfth of a large product. A transposed one is packed unless it is one
                    // contiguous row.
                    bool aRows = p.ALayout == GemmOperand.RowMajor;
                    bool aInPlace = aRows || p.ALayout == GemmOperand.Packed || (mc == 1 && p.Lda == 1);
                    if (!aInPlace)
                    {
                        for (int ir = ic; ir < ic + mc; ir += MR)
                        {
                            GemmPacking.PackAPanel(p.A, p.Lda, p.ALayout == GemmOperand.Transposed, ir, Math.Min(MR, ic + mc - ir), pc, kc, aPack + (nint)(ir - ic) * kc);
                        }
                    }

                    for (int jr = jc; jr < jc + nc; jr += NR)
                    {
                        int nr = Math.Min(NR, p.N - jr), w = GemmPacking.PanelWidth(nr);
                        float* b;
                        nint ldb;
                        if (p.BLayout == GemmOperand.Packed)
                        {
                            b = p.B + (nint)jr * k + (nint)pc * w;
                            ldb = w;
                        }
                        else if (packB)
                        {
                            b = bPack + (nint)(jr - jc) * kc;
                            ldb = w;
                        }
                        else if (nr == w)
                        {
                            b = p.B + pc * p.Ldb + jr;
                            ldb = p.Ldb;
                        }
                        else
                        {
                            // A ragged last panel read in place would run past the row: pad a copy.
                            GemmPacking.PackBPanel(p.B, p.Ldb, false, pc, kc, jr, nr, bPack);
                            b = bPack;
                            ldb = w;
                        }

                        for (int ir = ic; ir < ic + mc; ir += MR)
                        {
                            int mr = Math.Min(MR, ic + mc - ir);
                            float* a = p.ALayout == GemmOperand.Packed ? p.A + (nint)ir * k + (nint)pc * mr
                                : aRows ? p.A + ir * p.Lda + pc
                                : aInPlace ? p.A + pc * p.Lda + ir
                                : aPack + (nint)(ir - ic) * kc;
                            nint lda = aRows ? p.Lda : 0;
                            float* y = p.Y + ir * p.Ldy + jr;
                            if (accumulate)
                            {
                                PrefetchTile(y, p.Ldy, mr, nr);
                            }

                            bool finished = false;
                            bool fuse = fusedStore && last && mr == MR;
                            if (nr == w)
                            {
                                if (fuse)
                                {
                                    GemmMicroKernel.FullTile(p.Path, w, a, lda, b, ldb, kc, y, p.Ldy, accumulate, TE.At(p, ir, jr));
                                    finished = true;
                                }
                                else
                                {
                                    GemmMicroKernel.Tile(p.Path, mr, w, a, lda, b, ldb, kc, y, p.Ldy, accumulate);
                                }
                            }
                            else if (fuse && !accumulate && !TE.ReadsColumns)
                            {
                                // Padded columns must not be written: compute into a tile (finished, its store reads
                                // nothing by column) and copy the real ones.
                                GemmMicroKernel.FullTile(p.Path, w, a, lda, b, ldb, kc, tile, w, false, TE.At(p, ir, jr));
                                StoreRagged(p.Path, tile, w, y, p.Ldy, mr, nr, false);
                                finished = true;
                            }
                            else
                            {
                                GemmMicroKernel.Tile(p.Path, mr, w, a, lda, b, ldb, kc, tile, w, false);
                                StoreRagged(p.Path, tile, w, y, p.Ldy, mr, nr, accumulate);
                            }

                            if (last && epilogue && !finished)
                            {
                                EpilogueTile(p, ir, mr, jr, nr);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Columns <c>[j0, j1)</c> of a one-row product over a pre-packed B: each panel streamed once, over the whole
    /// depth (no depth blocks: the row of A and the panel's sums stay in registers), the epilogue applied by the
    /// store as the sums leave the registers, or else on the panel's results while they are in L1. A's single
    /// row is contiguous in every layout.
    /// </summary>
    private static void VectorTimesPanels<TE>(in GemmProblem p, int j0, int j1)
        where TE : struct, IGemmStore<TE>
    {
        bool fusedStore = typeof(TE) != typeof(GemmRawStore);
        float* tile = stackalloc float[NR];
        for (int jr = j0; jr < j1; jr += NR)
        {
            int nr = Math.Min(NR, p.N - jr), w = GemmPacking.PanelWidth(nr);
            float* b = p.B + (nint)jr * p.K, y = p.Y + jr;
            if (nr == w && fusedStore)
            {
                GemmMicroKernel.Vector(p.Path, w, p.A, b, w, p.K, y, TE.At(p, 0, jr));
                continue;
            }

            if (nr == w)
            {
                GemmMicroKernel.Vector(p.Path, w, p.A, b, w, p.K, y);
            }
            else if (fusedStore && !TE.ReadsColumns)
            {
                GemmMicroKernel.Vector(p.Path, w, p.A, b, w, p.K, tile, TE.At(p, 0, jr));
                StoreRagged(p.Path, tile, w, y, p.Ldy, 1, nr, false);
                continue;
            }
            else
            {
                GemmMicroKernel.Vector(p.Path, w, p.A, b, w, p.K, tile);
                StoreRagged(p.Path, tile, w, y, p.Ldy, 1, nr, false);
            }

            if (p.HasEpilogue)
            {
                EpilogueTile(p, 0, 1, jr, nr);
            }
        }
    }

    /// <summary>
    /// Asks for the y tile a micro-kernel adds to at its end: between depth blocks the sums have usually left
    /// the caches, and the kernel's own work covers the fetch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(float* y, nint ldy, int mr, int nr)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            for (int r = 0; r < mr; r++)
            {
                for (int j = 0; j < nr; j += 16)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch0(y + r * ldy + j);
                }
            }
        }
    }

    private static void StoreRagged(SimdWidth path, float* tile, int w, float* y, nint ldy, int mr, int nr, bool accumulate)
    {
        switch (path)
        {
            case SimdWidth.W512:
                StoreRagged<Vector512<float>, Simd512>(tile, w, y, ldy, mr, nr, accumulate);
                break;
            case SimdWidth.W256:
                StoreRagged<Vector256<float>, Simd256>(tile, w, y, ldy, mr, nr, accumulate);
                break;
            default:
                StoreRagged<Vector128<float>, Simd128>(tile, w, y, ldy, mr, nr, accumulate);
                break;
        }
    }

    /// <summary>The first <paramref name="nr"/> columns of a tile computed <paramref name="w"/> wide, stored (or added) into y.</summary>
    private static void StoreRagged<TV, TS>(float* tile, int w, float* y, nint ldy, int mr, int nr, bool accumulate)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        for (int r = 0; r < mr; r++)
        {
            float* src = tile + (r * w), dst = y + (r * ldy);
            for (int j = 0; j < nr; j += TS.Count)
            {
                TV v = TS.Load(ref *src, (nuint)j);
                if (j + TS.Count <= nr)
                {
                    TS.Store(accumulate ? TS.Add(TS.Load(ref *dst, (nuint)j), v) : v, ref *dst, (nuint)j);
                    continue;
                }

                int count = nr - j;
                TS.StorePartial(accumulate ? TS.Add(TS.LoadPartial(dst + j, count), v) : v, dst + j, count);
            }
        }
    }

    /// <summary>
    /// Applies scale, bias, residual and activation to rows <c>[i, i+mr)</c>, columns <c>[j, j+nr)</c> of y (a tile
    /// just computed, still in L1), the activation chosen once for the tile: a per-vector switch cost more than a
    /// shallow tile's sums. The ragged end of a row is one masked vector.
    /// </summary>
    private static void EpilogueTile(in GemmProblem p, int i, int mr, int j, int nr)
    {
        var rows = new TileRows(p, i, j);
        float* y = p.Y + (i * p.Ldy) + j;
        switch (p.Path)
        {
            case SimdWidth.W512:
                StoreEpilogue.ActivateRows<Vector512<float>, Simd512, TileRows>(ref rows, y, p.Ldy, mr, nr, p.Activation, p.ActivationAlpha, p.ActivationBeta);
                break;
            case SimdWidth.W256:
                StoreEpilogue.ActivateRows<Vector256<float>, Simd256, TileRows>(ref rows, y, p.Ldy, mr, nr, p.Activation, p.ActivationAlpha, p.ActivationBeta);
                break;
            default:
                StoreEpilogue.ActivateRows<Vector128<float>, Simd128, TileRows>(ref rows, y, p.Ldy, mr, nr, p.Activation, p.ActivationAlpha, p.ActivationBeta);
                break;
        }
    }

    /// <summary><c>alpha · v + beta · c + residual</c> for the vectors of a tile at (i, j); a bias with a column stride other than 0 or 1 is gathered.</summary>
    private readonly struct TileRows(in GemmProblem p, int i, int j) :
        StoreEpilogue.IEpilogueRows<Vector512<float>>, StoreEpilogue.IEpilogueRows<Vector256<float>>, StoreEpilogue.IEpilogueRows<Vector128<float>>
    {
        private readonly float _alpha = p.Alpha, _beta = p.Beta;
        private readonly float* _c = p.C == null ? null : p.C + (i * p.CRowStride) + (j * p.CColStride);
        private readonly nint _cRowStride = p.CRowStride, _cColStride = p.CColStride;
        private readonly float* _residual = p.Residual == null ? null : p.Residual + (i * p.Ldy) + j;
        private readonly nint _ldy = p.Ldy;

        public Vector512<float> Combine(Vector512<float> v, int row, int column, int count) => Combine<Vector512<float>, Simd512>(v, row, column, count);

        public Vector256<float> Combine(Vector256<float> v, int row, int column, int count) => Combine<Vector256<float>, Simd256>(v, row, column, count);

        public Vector128<float> Combine(Vector128<float> v, int row, int column, int count) => Combine<Vector128<float>, Simd128>(v, row, column, count);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private TV Combine<TV, TS>(TV v, int row, int column, int count)
            where TV : struct
            where TS : struct, ISimd<TV>
        {
            if (_alpha != 1)
            {
                v = TS.Multiply(v, TS.Create(_alpha));
            }

            if (_c != null)
            {
                float* c = _c + (row * _cRowStride);
                v = _cColStride == 0 ? TS.Add(v, TS.Create(_beta * c[0]))
                    : TS.Add(v, TS.Multiply(_cColStride == 1 ? Load<TV, TS>(c + column, count) : Gather<TV, TS>(c + (column * _cColStride), _cColStride, count), TS.Create(_beta)));
            }

            return _residual != null ? TS.Add(v, Load<TV, TS>(_residual + (row * _ldy) + column, count)) : v;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV Load<TV, TS>(float* source, int count)
            where TV : struct
            where TS : struct, ISimd<TV> => count == TS.Count ? TS.Load(ref *source, 0) : TS.LoadPartial(source, count);

        private static TV Gather<TV, TS>(float* c, nint stride, int count)
            where TV : struct
            where TS : struct, ISimd<TV>
        {
            float* lanes = stackalloc float[16];
            for (int t = 0; t < TS.Count; t++)
            {
                lanes[t] = t < count ? c[t * stride] : 0;
            }

            return TS.Load(ref *lanes, 0);
        }
    }

    /// <summary>
    /// Whether items of <paramref name="rows"/> rows each would pack B themselves (see <see cref="Blocks"/>), and the
    /// packed B fits the panel budget of the scratch, so one shared packing changes nothing of the sums' order.
    /// </summary>
    private static bool PacksBPerItem(in GemmProblem p, int rows) =>
        p.BLayout != GemmOperand.Packed
        && (p.BLayout == GemmOperand.Transposed || p.BRowScale != null || (p.K > InPlaceDepth && rows > MR))
        && (long)p.K * ((p.N + NR - 1) / NR * NR) <= (long)KC * NC;

    /// <summary>Packs the whole B of <paramref name="p"/> into this thread's shared buffer, in the layout of a pre-packed operand.</summary>
    private static float* PackShared(in GemmProblem p, WorkerPool pool)
    {
        var state = new PackState
        {
            Problem = p,
            Packed = Aligned(t_shared ??= GC.AllocateUninitializedArray<float>(KC * NC + 16, pinned: true)),
            Items = pool.ThreadCount,
        };
        pool.For(state.Items, &PackItem, &state);
        return state.Packed;
    }

    private static void PackItem(void* state, int index)
    {
        ref PackState s = ref Unsafe.AsRef<PackState>(state);
        ref GemmProblem p = ref s.Problem;
        int p0 = (int)((long)index * p.K / s.Items), p1 = (int)((long)(index + 1) * p.K / s.Items);
        GemmPacking.PackBRows(p.B, p.Ldb, p.BLayout == GemmOperand.Transposed, p.K, p.N, p0, p1, s.Packed, p.BRowScale);
    }

    private struct PackState
    {
        public GemmProblem Problem;
        public float* Packed;
        public int Items;
    }

    private static float* Scratch()
    {
        // One buffer per thread, allocated on its first product and kept: later products allocate nothing.
        return Aligned(t_scratch ??= GC.AllocateUninitializedArray<float>(ScratchFloats, pinned: true));
    }

    /// <summary>The first 64-byte boundary in a pinned buffer (allocated 16 floats longer than it is used).</summary>
    private static float* Aligned(float[] buffer)
        => (float*)(((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)) + 63) & ~(nuint)63);

    private struct ParallelState
    {
        public GemmProblem Problem;
        public BatchWalk Walk;
        public int MItems;
        public int NItems;
        public int RowPanels;
        public int ColPanels;
    }
}

/// <summary>
/// Where product <c>t</c> of a batch finds its operands: batch index <c>t</c> in row-major order over
/// <see cref="Shape"/>, with element strides per dimension for A and B. The default walks one product.
/// </summary>
internal unsafe struct BatchWalk
{
    public int* Shape;
    public int* AStrides;
    public int* BStrides;
    public int Rank;

    /// <summary>The problem of product <paramref name="t"/>.</summary>
    public readonly GemmProblem At(in GemmProblem p, int t)
    {
        GemmProblem q = p;
        if (t == 0)
        {
            return q;
        }

        long aOffset = 0, bOffset = 0;
        int rest = t;
        for (int d = Rank - 1; d >= 0; d--)
        {
            int index = rest % Shape[d];
            rest /= Shape[d];
            aOffset += (long)index * AStrides[d];
            bOffset += (long)index * BStrides[d];
        }

        long yOffset = (long)t * p.M * p.N;
        q.A += aOffset;
        q.B += bOffset;
        q.Y += yOffset;
        if (q.Residual != null)
        {
            q.Residual += yOffset;
        }

        return q;
    }
}
