using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>A count known when the JIT specialises a generic micro-kernel (rows or column vectors of a tile).</summary>
internal interface IGemmCount
{
    static abstract int Value { get; }
}

internal struct GemmCount1 : IGemmCount
{
    public static int Value => 1;
}

internal struct GemmCount2 : IGemmCount
{
    public static int Value => 2;
}

internal struct GemmCount3 : IGemmCount
{
    public static int Value => 3;
}

internal struct GemmCount4 : IGemmCount
{
    public static int Value => 4;
}

internal struct GemmCount5 : IGemmCount
{
    public static int Value => 5;
}

internal struct GemmCount6 : IGemmCount
{
    public static int Value => 6;
}

/// <summary>Where a micro-kernel finds A: a packed micro-panel, or rows read in place.</summary>
internal interface IGemmALayout
{
    static abstract bool InPlace { get; }
}

/// <summary>A packed micro-panel: element (r, p) at <c>a[p · rows + r]</c>.</summary>
internal struct GemmPackedA : IGemmALayout
{
    public static bool InPlace => false;
}

/// <summary>Rows in place: element (r, p) at <c>a[r · lda + p]</c>.</summary>
internal struct GemmRowsA : IGemmALayout
{
    public static bool InPlace => true;
}

/// <summary>
/// The register-blocked float32 GEMM micro-kernels: a tile of up to 6 rows × 4 vectors of <c>y</c> held in
/// registers (24 accumulators at 512 bits) over <c>kc</c> steps of the inner dimension.
/// </summary>
/// <remarks>
/// The left operand is a packed micro-panel: element (r, p) at <c>a[p · rows + r]</c>, so each step broadcasts
/// <c>rows</c> consecutive floats. The right operand is a micro-panel of B whose row p starts at
/// <c>b + p · ldb</c> (the panel width when B is packed, its row stride when it is read in place). Each
/// accumulator sums its products in order of p with fused multiply-adds, whatever the vector width, so every
/// path and every split of the work over threads gives bit-identical results.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class GemmMicroKernel
{
    /// <summary>
    /// Computes a tile of <paramref name="mr"/> rows by <paramref name="width"/> columns (a multiple of 16) into
    /// <paramref name="y"/>, overwriting or adding. A is a packed micro-panel when <paramref name="lda"/> is 0,
    /// otherwise read in place: row r at <c>a + r · lda</c>, contiguous along the depth.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(SimdWidth path, int mr, int width, float* a, nint lda, float* b, nint ldb, int kc, float* y, nint ldy, bool accumulate)
    {
        if (lda == 0)
        {
            Tile<GemmPackedA, GemmRawStore, GemmAnyRows>(path, mr, width, a, 0, b, ldb, kc, y, ldy, accumulate, default);
        }
        else
        {
            Tile<GemmRowsA, GemmRawStore, GemmAnyRows>(path, mr, width, a, lda, b, ldb, kc, y, ldy, accumulate, default);
        }
    }

    /// <summary>
    /// A full tile (<see cref="GemmPacking.PanelRows"/> rows) as <see cref="Tile(SimdWidth, int, int, float*, nint, float*, nint, int, float*, nint, bool)"/>
    /// computes it, with the sums passed through <paramref name="store"/> (bias, residual, activation) on their way
    /// out of the registers. Full tiles only: one kernel per store and width instead of one per row count too
    /// (the engine finishes a shorter last row panel in a second pass), which keeps a NativeAOT image small.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FullTile<TE>(SimdWidth path, int width, float* a, nint lda, float* b, nint ldb, int kc, float* y, nint ldy, bool accumulate, in TE store)
        where TE : struct, IGemmStore<TE>
    {
        if (lda == 0)
        {
            Tile<GemmPackedA, TE, GemmFullRows>(path, GemmPacking.PanelRows, width, a, 0, b, ldb, kc, y, ldy, accumulate, store);
        }
        else
        {
            Tile<GemmRowsA, TE, GemmFullRows>(path, GemmPacking.PanelRows, width, a, lda, b, ldb, kc, y, ldy, accumulate, store);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TA, TE, TRows>(SimdWidth path, int mr, int width, float* a, nint lda, float* b, nint ldb, int kc, float* y, nint ldy, bool accumulate, in TE store)
        where TA : struct, IGemmALayout
        where TE : struct, IGemmStore<TE>
        where TRows : struct, IGemmRows
    {
        switch (path)
        {
            case SimdWidth.W512:
                switch (width >> 4)
                {
                    case 1:
                        TRows.Run<Simd512, Vector512<float>, GemmCount1, TA, TE>(mr, a, lda, b, ldb, kc, y, ldy, accumulate, store);
                        return;
                    case 2:
                        TRows.Run<Simd512, Vector512<float>, GemmCount2, TA, TE>(mr, a, lda, b, ldb, kc, y, ldy, accumulate, store);
                        return;
                    case 3:
                        TRows.Run<Simd512, Vector512<float>, GemmCount3, TA, TE>(mr, a, lda, b, ldb, kc, y, ldy, accumulate, store);
                        return;
                    case 4:
                        TRows.Run<Simd512, Vector512<float>, GemmCount4, TA, TE>(mr, a, lda, b, ldb, kc, y, ldy, accumulate, store);
                        return;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(width));
                }

            case SimdWidth.W256:
                // Two vectors per tile keep 12 accumulators within AVX2's 16 registers; the tile walks the panel in strips.
                for (int s = 0; s < width; s += 16)
                {
                    TRows.Run<Simd256, Vector256<float>, GemmCount2, TA, TE>(mr, a, lda, b + s, ldb, kc, y + s, ldy, accumulate, store.Columns(s));
                }

                return;
            default:
                for (int s = 0; s < width; s += 8)
                {
                    TRows.Run<Simd128, Vector128<float>, GemmCount2, TA, TE>(mr, a, lda, b + s, ldb, kc, y + s, ldy, accumulate, store.Columns(s));
                }

                return;
        }
    }

    /// <summary>
    /// How far ahead (in floats of a contiguous panel) <see cref="Vector"/> prefetches: a single row of A has no
    /// reuse to hide memory latency behind, and the hardware prefetcher alone leaves the L3 bandwidth unused.
    /// Short on purpose: 1 KB (two iterations of a 64-wide panel) ahead. Measured on the batch-1 MLP (2.6 MB of
    /// weights from L3), alternating builds in one session: 256 or 384 floats ≈ 28.2 µs, 2048 ≈ 30 µs (and 7–9%
    /// behind 256 while the machine ran slow), no prefetch 32.8 µs; a pure streaming sum shows the same optimum.
    /// </summary>
    private const int PrefetchFloats = 256;

    /// <summary>
    /// <c>y[0..width] = a[0..kc] · b[0..kc, 0..width]</c> for one row of A (a matrix-vector product over one panel of
    /// B, row p at <c>b + p · ldb</c>), overwriting y.
    /// </summary>
    /// <remarks>
    /// With one row there is one multiply-add per loaded vector of B, so the kernel streams B: two sets of
    /// accumulators (even and odd p) keep enough multiply-adds in flight, and the rows ahead are prefetched.
    /// The sums therefore differ in order from <see cref="Tile"/>'s; a product takes this path whenever A has
    /// one row, whatever the width and the split over threads, so its results stay independent of both.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector(SimdWidth path, int width, float* a, float* b, nint ldb, int kc, float* y) =>
        Vector(path, width, a, b, ldb, kc, y, default(GemmRawStore));

    /// <summary>
    /// <see cref="Vector(SimdWidth, int, float*, float*, nint, int, float*)"/> with the sums passed through
    /// <paramref name="store"/> on their way out of the registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector<TE>(SimdWidth path, int width, float* a, float* b, nint ldb, int kc, float* y, in TE store)
        where TE : struct, IGemmStore<TE>
    {
        switch (path)
        {
            case SimdWidth.W512:
                switch (width >> 4)
                {
                    case 1:
                        VectorKernel<Simd512, Vector512<float>, GemmCount1, TE>(a, b, ldb, kc, y, store);
                        return;
                    case 2:
                        VectorKernel<Simd512, Vector512<float>, GemmCount2, TE>(a, b, ldb, kc, y, store);
                        return;
                    case 3:
                        VectorKernel<Simd512, Vector512<float>, GemmCount3, TE>(a, b, ldb, kc, y, store);
                        return;
                    case 4:
                        VectorKernel<Simd512, Vector512<float>, GemmCount4, TE>(a, b, ldb, kc, y, store);
                        return;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(width));
                }

            case SimdWidth.W256:
                // Strips of four vectors (32 columns), a last one of two when the width is 16 modulo 32.
                for (int s = 0; s < width; s += 32)
                {
                    if (width - s >= 32)
                    {
                        VectorKernel<Simd256, Vector256<float>, GemmCount4, TE>(a, b + s, ldb, kc, y + s, store.Columns(s));
                    }
                    else
                    {
                        VectorKernel<Simd256, Vector256<float>, GemmCount2, TE>(a, b + s, ldb, kc, y + s, store.Columns(s));
                    }
                }

                return;
            default:
                for (int s = 0; s < width; s += 16)
                {
                    VectorKernel<Simd128, Vector128<float>, GemmCount4, TE>(a, b + s, ldb, kc, y + s, store.Columns(s));
                }

                return;
        }
    }

    /// <summary>y[0..TC·width] = a[0..kc] · b[0..kc, 0..TC·width].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VectorKernel<TS, TV, TC, TE>(float* a, float* b, nint ldb, int kc, float* y, in TE store)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TC : struct, IGemmCount
        where TE : struct, IGemmStore<TE>
    {
        int w = TS.Count, rowFloats = TC.Value * TS.Count;
        TV c0 = default; TV c1 = default; TV c2 = default; TV c3 = default;
        TV d0 = default; TV d1 = default; TV d2 = default; TV d3 = default;
        int p = 0;
        for (; p + 2 <= kc; p += 2)
        {
            if (Sse.IsSupported)
            {
                // The strip's lines of the two rows PrefetchFloats ahead (in a packed panel, that is also the next panel's start).
                float* f = b + PrefetchFloats;
                Sse.Prefetch0(f);
                Sse.Prefetch0(f + ldb);
                if (rowFloats > 16)
                {
                    Sse.Prefetch0(f + 16);
                    Sse.Prefetch0(f + ldb + 16);
                }

                if (rowFloats > 32)
                {
                    Sse.Prefetch0(f + 32);
                    Sse.Prefetch0(f + ldb + 32);
                }

                if (rowFloats > 48)
                {
                    Sse.Prefetch0(f + 48);
                    Sse.Prefetch0(f + ldb + 48);
                }
            }

            TV x = TS.Create(a[p]);
            c0 = TS.MultiplyAdd(x, TS.Load(ref *b, 0), c0);
            if (TC.Value > 1) c1 = TS.MultiplyAdd(x, TS.Load(ref *b, (nuint)w), c1);
            if (TC.Value > 2) c2 = TS.MultiplyAdd(x, TS.Load(ref *b, (nuint)(2 * w)), c2);
            if (TC.Value > 3) c3 = TS.MultiplyAdd(x, TS.Load(ref *b, (nuint)(3 * w)), c3);
            float* b1 = b + ldb;
            x = TS.Create(a[p + 1]);
            d0 = TS.MultiplyAdd(x, TS.Load(ref *b1, 0), d0);
            if (TC.Value > 1) d1 = TS.MultiplyAdd(x, TS.Load(ref *b1, (nuint)w), d1);
            if (TC.Value > 2) d2 = TS.MultiplyAdd(x, TS.Load(ref *b1, (nuint)(2 * w)), d2);
            if (TC.Value > 3) d3 = TS.MultiplyAdd(x, TS.Load(ref *b1, (nuint)(3 * w)), d3);
            b += 2 * ldb;
        }

        if (p < kc)
        {
            TV x = TS.Create(a[p]);
            c0 = TS.MultiplyAdd(x, TS.Load(ref *b, 0), c0);
            if (TC.Value > 1) c1 = TS.MultiplyAdd(x, TS.Load(ref *b, (nuint)w), c1);
            if (TC.Value > 2) c2 = TS.MultiplyAdd(x, TS.Load(ref *b, (nuint)(2 * w)), c2);
            if (TC.Value > 3) c3 = TS.MultiplyAdd(x, TS.Load(ref *b, (nuint)(3 * w)), c3);
        }

        TE finish = store;
        StoreRow<TS, TV, TC, TE>(y, TS.Add(c0, d0), TS.Add(c1, d1), TS.Add(c2, d2), TS.Add(c3, d3), false, finish, 0);
    }

    /// <summary>y[0..TR, 0..TC·width] (+)= a[0..TR, 0..kc] · b[0..kc, 0..TC·width].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel<TS, TV, TR, TC, TA, TE>(float* a, nint lda, float* b, nint ldb, int kc, float* y, nint ldy, bool accumulate, in TE store)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TR : struct, IGemmCount
        where TC : struct, IGemmCount
        where TA : struct, IGemmALayout
        where TE : struct, IGemmStore<TE>
    {
        // The counts are constants of each instantiation: the JIT drops the branches and dead accumulators.
        // A row-major A is read in place through one pointer per row (no packing pass over A); the same
        // values in the same order as from a packed panel, so both give bit-identical sums.
        int w = TS.Count;
        float* a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        TV c00 = default; TV c01 = default; TV c02 = default; TV c03 = default;
        TV c10 = default; TV c11 = default; TV c12 = default; TV c13 = default;
        TV c20 = default; TV c21 = default; TV c22 = default; TV c23 = default;
        TV c30 = default; TV c31 = default; TV c32 = default; TV c33 = default;
        TV c40 = default; TV c41 = default; TV c42 = default; TV c43 = default;
        TV c50 = default; TV c51 = default; TV c52 = default; TV c53 = default;
        for (int p = 0; p < kc; p++)
        {
            TV b0 = TS.Load(ref *b, 0);
            TV b1 = TC.Value > 1 ? TS.Load(ref *b, (nuint)w) : default;
            TV b2 = TC.Value > 2 ? TS.Load(ref *b, (nuint)(2 * w)) : default;
            TV b3 = TC.Value > 3 ? TS.Load(ref *b, (nuint)(3 * w)) : default;
            TV x = TS.Create(TA.InPlace ? a[p] : a[0]);
            c00 = TS.MultiplyAdd(x, b0, c00);
            if (TC.Value > 1) c01 = TS.MultiplyAdd(x, b1, c01);
            if (TC.Value > 2) c02 = TS.MultiplyAdd(x, b2, c02);
            if (TC.Value > 3) c03 = TS.MultiplyAdd(x, b3, c03);
            if (TR.Value > 1)
            {
                x = TS.Create(TA.InPlace ? a1[p] : a[1]);
                c10 = TS.MultiplyAdd(x, b0, c10);
                if (TC.Value > 1) c11 = TS.MultiplyAdd(x, b1, c11);
                if (TC.Value > 2) c12 = TS.MultiplyAdd(x, b2, c12);
                if (TC.Value > 3) c13 = TS.MultiplyAdd(x, b3, c13);
            }

            if (TR.Value > 2)
            {
                x = TS.Create(TA.InPlace ? a2[p] : a[2]);
                c20 = TS.MultiplyAdd(x, b0, c20);
                if (TC.Value > 1) c21 = TS.MultiplyAdd(x, b1, c21);
                if (TC.Value > 2) c22 = TS.MultiplyAdd(x, b2, c22);
                if (TC.Value > 3) c23 = TS.MultiplyAdd(x, b3, c23);
            }

            if (TR.Value > 3)
            {
                x = TS.Create(TA.InPlace ? a3[p] : a[3]);
                c30 = TS.MultiplyAdd(x, b0, c30);
                if (TC.Value > 1) c31 = TS.MultiplyAdd(x, b1, c31);
                if (TC.Value > 2) c32 = TS.MultiplyAdd(x, b2, c32);
                if (TC.Value > 3) c33 = TS.MultiplyAdd(x, b3, c33);
            }

            if (TR.Value > 4)
            {
                x = TS.Create(TA.InPlace ? a4[p] : a[4]);
                c40 = TS.MultiplyAdd(x, b0, c40);
                if (TC.Value > 1) c41 = TS.MultiplyAdd(x, b1, c41);
                if (TC.Value > 2) c42 = TS.MultiplyAdd(x, b2, c42);
                if (TC.Value > 3) c43 = TS.MultiplyAdd(x, b3, c43);
            }

            if (TR.Value > 5)
            {
                x = TS.Create(TA.InPlace ? a5[p] : a[5]);
                c50 = TS.MultiplyAdd(x, b0, c50);
                if (TC.Value > 1) c51 = TS.MultiplyAdd(x, b1, c51);
                if (TC.Value > 2) c52 = TS.MultiplyAdd(x, b2, c52);
                if (TC.Value > 3) c53 = TS.MultiplyAdd(x, b3, c53);
            }

            if (!TA.InPlace)
            {
                a += TR.Value;
            }

            b += ldb;
        }

        // A copy the JIT keeps in registers: read through the reference, the store's fields were reloaded after
        // every vector written to y (which might alias them).
        TE finish = store;
        StoreRow<TS, TV, TC, TE>(y, c00, c01, c02, c03, accumulate, finish, 0);
        if (TR.Value > 1)
        {
            StoreRow<TS, TV, TC, TE>(y + 1 * ldy, c10, c11, c12, c13, accumulate, finish, 1);
        }

        if (TR.Value > 2)
        {
            StoreRow<TS, TV, TC, TE>(y + 2 * ldy, c20, c21, c22, c23, accumulate, finish, 2);
        }

        if (TR.Value > 3)
        {
            StoreRow<TS, TV, TC, TE>(y + 3 * ldy, c30, c31, c32, c33, accumulate, finish, 3);
        }

        if (TR.Value > 4)
        {
            StoreRow<TS, TV, TC, TE>(y + 4 * ldy, c40, c41, c42, c43, accumulate, finish, 4);
        }

        if (TR.Value > 5)
        {
            StoreRow<TS, TV, TC, TE>(y + 5 * ldy, c50, c51, c52, c53, accumulate, finish, 5);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TS, TV, TC, TE>(float* y, TV c0, TV c1, TV c2, TV c3, bool accumulate, in TE store, int row)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TC : struct, IGemmCount
        where TE : struct, IGemmStore<TE>
    {
        int w = TS.Count;
        if (accumulate)
        {
            c0 = TS.Add(TS.Load(ref *y, 0), c0);
            c1 = TC.Value > 1 ? TS.Add(TS.Load(ref *y, (nuint)w), c1) : c1;
            c2 = TC.Value > 2 ? TS.Add(TS.Load(ref *y, (nuint)(2 * w)), c2) : c2;
            c3 = TC.Value > 3 ? TS.Add(TS.Load(ref *y, (nuint)(3 * w)), c3) : c3;
        }

        TV rowTerm = store.Row<TV, TS>(row);
        TS.Store(store.Finish<TV, TS>(c0, rowTerm, row, 0), ref *y, 0);
        if (TC.Value > 1)
        {
            TS.Store(store.Finish<TV, TS>(c1, rowTerm, row, w), ref *y, (nuint)(1 * w));
        }

        if (TC.Value > 2)
        {
            TS.Store(store.Finish<TV, TS>(c2, rowTerm, row, 2 * w), ref *y, (nuint)(2 * w));
        }

        if (TC.Value > 3)
        {
            TS.Store(store.Finish<TV, TS>(c3, rowTerm, row, 3 * w), ref *y, (nuint)(3 * w));
        }
    }
}

/// <summary>Which row counts a tile entry point dispatches to (see <see cref="GemmMicroKernel.FullTile"/>).</summary>
internal unsafe interface IGemmRows
{
    static abstract void Run<TS, TV, TC, TA, TE>(int mr, float* a, nint lda, float* b, nint ldb, int kc, float* y, nint ldy, bool accumulate, in TE store)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TC : struct, IGemmCount
        where TA : struct, IGemmALayout
        where TE : struct, IGemmStore<TE>;
}

/// <summary>Any row count from 1 to 6, chosen at run time.</summary>
internal unsafe struct GemmAnyRows : IGemmRows
{
    public static void Run<TS, TV, TC, TA, TE>(int mr, float* a, nint lda, float* b, nint ldb, int kc, float* y, nint ldy, bool accumulate, in TE store)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TC : struct, IGemmCount
        where TA : struct, IGemmALayout
        where TE : struct, IGemmStore<TE>
    {
        switch (mr)
        {
            case 1:
                GemmMicroKernel.Kernel<TS, TV, GemmCount1, TC, TA, TE>(a, lda, b, ldb, kc, y, ldy, accumulate, store);
                return;
            case 2:
                GemmMicroKernel.Kernel<TS, TV, GemmCount2, TC, TA, TE>(a, lda, b, ldb, kc, y, ldy, accumulate, store);
                return;
            case 3:
                GemmMicroKernel.Kernel<TS, TV, GemmCount3, TC, TA, TE>(a, lda, b, ldb, kc, y, ldy, accumulate, store);
                return;
            case 4:
                GemmMicroKernel.Kernel<TS, TV, GemmCount4, TC, TA, TE>(a, lda, b, ldb, kc, y, ldy, accumulate, store);
                return;
            case 5:
                GemmMicroKernel.Kernel<TS, TV, GemmCount5, TC, TA, TE>(a, lda, b, ldb, kc, y, ldy, accumulate, store);
                return;
            case 6:
                GemmMicroKernel.Kernel<TS, TV, GemmCount6, TC, TA, TE>(a, lda, b, ldb, kc, y, ldy, accumulate, store);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(mr));
        }
    }
}

/// <summary>Six rows, a full tile.</summary>
internal unsafe struct GemmFullRows : IGemmRows
{
    public static void Run<TS, TV, TC, TA, TE>(int mr, float* a, nint lda, float* b, nint ldb, int kc, float* y, nint ldy, bool accumulate, in TE store)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TC : struct, IGemmCount
        where TA : struct, IGemmALayout
        where TE : struct, IGemmStore<TE> =>
        GemmMicroKernel.Kernel<TS, TV, GemmCount6, TC, TA, TE>(a, lda, b, ldb, kc, y, ldy, accumulate, store);
}
