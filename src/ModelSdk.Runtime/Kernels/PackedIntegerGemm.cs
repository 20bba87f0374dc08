using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>What <see cref="PackedIntegerGemm"/> writes: the raw sums, floats, or requantized bytes.</summary>
internal enum PackedOutput
{
    Int32,
    Float32,
    UInt8,
    Int8,
}

/// <summary>
/// The integer GEMM with a constant right operand packed at compile time: <c>y = f(a' · b' + terms[j])</c>
/// where <c>a'</c> is the left operand as unsigned bytes (int8 shifted by +128), <c>b'</c> the right
/// operand as signed bytes whose zero point is 0 in that domain (int8 with zero point 0, uint8 with 128),
/// and <c>terms</c> folds the bias and the left zero point's correction (<c>bias[j] − za'·Σₚ b'[p, j]</c>),
/// both known when compiling. The store applies the epilogue: int32 as is, float32
/// <c>(sum) · scale[j]</c>, or bytes <c>saturate(round((sum) · scale[j]) + zero)</c> (half to even),
/// optionally transposed (a convolution computes <c>[pixels, channels]</c> and stores <c>[channels, pixels]</c>).
/// </summary>
/// <remarks>
/// Layout of the packed operand (does not depend on the compiling machine): the depth is rounded up to
/// a multiple of 4 (<c>k4</c>) and the columns to a multiple of 8, with zeros; panels of 32 columns (the
/// last one 8, 16, 24 or 32 wide) follow each other, panel <c>j0</c> at byte <c>j0 · k4</c>; inside a panel
/// of width <c>w</c>, value <c>(p, j)</c> is at byte <c>((p / 4) · w + j) · 4 + p % 4</c>: the quads of
/// <c>vpdpbusd</c>, eight columns per 32 bytes. AVX-VNNI multiplies them on 256 bits; without it the
/// AVX-512BW path sign-extends those 32 bytes to int16 and multiplies them with four int16 values of
/// <c>a'</c> broadcast (<c>vpmaddwd</c>, exact), leaving two partial sums per column that are added once
/// per tile. (.NET 10 exposes 512-bit <c>vpdpbusd</c> only through <c>Avx10v1</c>, which AVX-512 processors
/// without AVX10, Zen 5 among them, do not report.)
/// </remarks>
public static unsafe class PackedIntegerGemm
{
    /// <summary>Columns per panel.</summary>
    public const int PanelWidth = 32;

    /// <summary>Rows of the register tile.</summary>
    private const int MR = 6;

    /// <summary>Rows per work item (a multiple of <see cref="MR"/>): their packed left operand stays in L2 while the panels pass.</summary>
    private const int RowChunk = 96;

    /// <summary>Below this many multiply-adds a product runs on the calling thread.</summary>
    private const long ParallelThreshold = 1L << 19;

    /// <summary>Forces a path on the calling thread (tests).</summary>
    [ThreadStatic]
    internal static IntegerGemmPath Forced;

    /// <summary>The depth rounded up to whole quads.</summary>
    public static int Depth(int k) => (k + 3) & ~3;

    /// <summary>Bytes of the packed operand.</summary>
    public static long PackedLength(int k, int n) => (long)Depth(k) * ((n + 7) & ~7);

    /// <summary>Bytes of the left-operand scratch for <paramref name="m"/> rows.</summary>
    public static long ScratchLength(int m, int k) => 2L * m * Depth(k);

    /// <summary>
    /// Packs <c>b [k, n]</c> and returns each column's sum of packed (signed) values in <paramref name="columnSums"/>;
    /// false when some column's zero point is not 0 once shifted to signed, which this layout cannot serve.
    /// </summary>
    public static bool Pack(ReadOnlySpan<byte> b, bool bSigned, ReadOnlySpan<byte> bZero, int k, int n, Span<sbyte> packed, Span<int> columnSums)
    {
        byte flip = bSigned ? (byte)0 : (byte)0x80;
        foreach (byte z in bZero)
        {
            if ((byte)(z ^ flip) != 0)
            {
                return false;
            }
        }

        int k4 = Depth(k), padded = (n + 7) & ~7;
        packed.Slice(0, k4 * padded).Clear();
        columnSums.Slice(0, n).Clear();
        for (int j0 = 0; j0 < padded; j0 += PanelWidth)
        {
            int w = Math.Min(PanelWidth, padded - j0);
            Span<sbyte> panel = packed.Slice(j0 * k4, w * k4);
            for (int p = 0; p < k; p++)
            {
                for (int j = 0; j < w && j0 + j < n; j++)
                {
                    sbyte v = (sbyte)(b[p * n + j0 + j] ^ flip);
                    panel[((p >> 2) * w + j) * 4 + (p & 3)] = v;
                    columnSums[j0 + j] += v;
                }
            }
        }

        return true;
    }

    /// <summary>The path the processor supports (or the one a test forced).</summary>
    internal static IntegerGemmPath Resolve()
    {
        IntegerGemmPath path = Forced;
        if (path == IntegerGemmPath.Auto)
        {
            // vpdpbusd on 256 bits beats vpmaddwd on 512 (no separate add, no widening): 1024³ ~365 vs ~215 G int-op/s on Zen 5.
            return AvxVnni.IsSupported ? IntegerGemmPath.AvxVnni : Avx512BW.IsSupported ? IntegerGemmPath.Avx512 : IntegerGemmPath.Portable;
        }

        if ((path == IntegerGemmPath.Avx512 && !Avx512BW.IsSupported) || (path == IntegerGemmPath.AvxVnni && !AvxVnni.IsSupported))
        {
            throw new PlatformNotSupportedException($"{path} is not supported by this processor.");
        }

        return path;
    }

    /// <summary>Everything a work item needs, on the caller's stack.</summary>
    internal struct Job
    {
        public byte* A;
        public int Lda;
        public sbyte* B;
        public int* Terms;
        public float* Scale;
        public int ScaleCount;
        public void* Y;
        public PackedOutput Output;
        public int Zero;
        public bool Transposed;
        public int M;
        public int N;
        public int K4;
        public IntegerGemmPath Path;
        public int RowChunks;
        public int Panels;
    }

    /// <summary>
    /// Multiplies <paramref name="m"/> rows of <paramref name="a"/> (bytes, row stride <paramref name="k"/>) by the packed operand.
    /// <paramref name="scratch"/> holds <see cref="ScratchLength"/> bytes.
    /// </summary>
    internal static void Multiply(
        ReadOnlySpan<byte> a, bool aSigned, ReadOnlySpan<sbyte> packed, ReadOnlySpan<int> terms, ReadOnlySpan<float> scale, int zero,
        void* y, PackedOutput output, bool transposed, Span<byte> scratch, int m, int n, int k, KernelContext context)
    {
        int k4 = Depth(k);
        if (a.Length < (long)m * k || packed.Length < PackedLength(k, n) || terms.Length < PaddedColumns(n)
            || (output is not PackedOutput.Int32 && !(scale.Length == 1 || scale.Length >= PaddedColumns(n))))
        {
            throw new ArgumentException("Packed integer GEMM operand lengths do not match m, n and k.");
        }

        if (m == 0 || n == 0)
        {
            return;
        }

        IntegerGemmPath path = Resolve();
        bool wide = path == IntegerGemmPath.Avx512;

        // The left operand as the tile reads it: unsigned, whole quads (zeros past k), int16 for AVX-512.
        // Unsigned rows already in whole quads are read in place.
        bool inPlace = !wide && !aSigned && k == k4;
        if (!inPlace && scratch.Length < (wide ? 2L : 1L) * m * k4)
        {
            throw new ArgumentException("The packed integer GEMM scratch buffer is too small.");
        }

        fixed (byte* pa = a, pscratch = scratch)
        fixed (sbyte* pb = packed)
        fixed (int* pt = terms)
        fixed (float* ps = scale)
        {
            if (!inPlace)
            {
                PackA(pa, k, aSigned, pscratch, k4, m, wide);
            }

            var job = new Job
            {
                A = inPlace ? pa : pscratch,
                Lda = k4,
                B = pb,
                Terms = pt,
                Scale = ps,
                ScaleCount = scale.Length,
                Y = y,
                Output = output,
                Zero = zero,
                Transposed = transposed,
                M = m,
                N = n,
                K4 = k4,
                Path = path,
                RowChunks = (m + RowChunk - 1) / RowChunk,
                Panels = (n + PanelWidth - 1) / PanelWidth,
            };

            int items = job.RowChunks * job.Panels;
            if (items <= 1 || (long)m * n * k < ParallelThreshold || context.Workers.ThreadCount <= 1)
            {
                for (int i = 0; i < items; i++)
                {
                    RunItem(&job, i);
                }
            }
            else
            {
                context.Workers.For(items, &RunItem, &job);
            }
        }
    }

    private static void PackA(byte* a, int k, bool signed, byte* scratch, int k4, int m, bool wide)
    {
        byte flip = signed ? (byte)0x80 : (byte)0;
        var vflip = Vector256.Create(flip);
        for (int i = 0; i < m; i++)
        {
            byte* row = a + (long)i * k;
            int p = 0;
            if (wide)
            {
                short* dst = (short*)scratch + (long)i * k4;
                for (; p + 32 <= k; p += 32)
                {
                    Vector512<short> v = Avx512BW.ConvertToVector512Int16(Vector256.Load(row + p) ^ vflip).AsInt16();
                    v.Store(dst + p);
                }

                for (; p < k; p++)
                {
                    dst[p] = (short)(row[p] ^ flip);
                }

                for (; p < k4; p++)
                {
                    dst[p] = 0;
                }
            }
            else
            {
                byte* dst = scratch + (long)i * k4;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; p + 32 <= k; p += 32)
                    {
                        (Vector256.Load(row + p) ^ vflip).Store(dst + p);
                    }
                }

                for (; p < k; p++)
                {
                    dst[p] = (byte)(row[p] ^ flip);
                }

                for (; p < k4; p++)
                {
                    dst[p] = 0;
                }
            }
        }
    }

    /// <summary>One chunk of rows by one panel: tiles of <see cref="MR"/> rows by 16 columns, then the ragged rows and columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(void* state, int item)
    {
        Job* job = (Job*)state;
        int rowChunk = item / job->Panels, panel = item % job->Panels;
        int i0 = rowChunk * RowChunk, i1 = Math.Min(job->M, i0 + RowChunk);
        int j0 = panel * PanelWidth, padded = (job->N + 7) & ~7;
        int w = Math.Min(PanelWidth, padded - j0);
        int k4 = job->K4;
        sbyte* panelBase = job->B + (long)j0 * k4;
        int* tile = stackalloc int[MR * 16];
        for (int c = 0; c < w; c += 16)
        {
            int cols = Math.Min(16, w - c);
            int i = i0;
            if (job->Path != IntegerGemmPath.Portable)
            {
                for (; i + MR <= i1; i += MR)
                {
                    if (job->Path == IntegerGemmPath.Avx512)
                    {
                        Tile512(job->A, job->Lda, i, panelBase, w, c, cols, k4, tile);
                    }
                    else if (cols == 16)
                    {
                        TileVnni(job->A, job->Lda, i, panelBase, w, c, k4, tile);
                    }
                    else
                    {
                        TileVnni8(job->A, job->Lda, i, panelBase, w, c, k4, tile);
                    }

                    Store(job, tile, i, MR, j0 + c, Math.Min(cols, job->N - j0 - c));
                }
            }

            for (; i < i1; i++)
            {
                switch (job->Path)
                {
                    case IntegerGemmPath.Avx512:
                        Row512((short*)job->A + (long)i * job->Lda, panelBase, w, c, cols, k4, tile);
                        break;
                    case IntegerGemmPath.AvxVnni:
                        RowVnni(job->A + (long)i * job->Lda, panelBase, w, c, cols, k4, tile);
                        break;
                    default:
                        RowPortable(job->A + (long)i * job->Lda, panelBase, w, c, cols, k4, tile);
                        break;
                }

                int valid = Math.Min(cols, job->N - j0 - c);
                if (valid > 0)
                {
                    Store(job, tile, i, 1, j0 + c, valid);
                }
            }
        }
    }

    /// <summary>Sums of <see cref="MR"/> rows (int16 pairs) by 16 columns of a panel (AVX-512BW <c>vpmaddwd</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(byte* aBase, int lda, int i, sbyte* panel, int w, int c, int cols, int k4, int* tile)
    {
        if (cols == 8)
        {
            Tile512Half(aBase, lda, i, panel, w, c, k4, tile);
            return;
        }

        short* a0 = (short*)aBase + (long)i * lda;
        short* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<int> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        sbyte* b = panel + c * 4;
        int stride = w * 4;
        for (int p = 0; p < k4; p += 4)
        {
            Vector512<short> b0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(b));
            Vector512<short> b1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(b + 32));
            Vector512<short> x = Vector512.Create(*(long*)(a0 + p)).AsInt16();
            c00 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c01 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(long*)(a1 + p)).AsInt16();
            c10 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c11 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(long*)(a2 + p)).AsInt16();
            c20 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c21 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(long*)(a3 + p)).AsInt16();
            c30 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c31 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(long*)(a4 + p)).AsInt16();
            c40 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c41 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(long*)(a5 + p)).AsInt16();
            c50 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c51 += Avx512BW.MultiplyAddAdjacent(x, b1);
            b += stride;
        }

        Pairs(c00, c01).Store(tile);
        Pairs(c10, c11).Store(tile + 16);
        Pairs(c20, c21).Store(tile + 32);
        Pairs(c30, c31).Store(tile + 48);
        Pairs(c40, c41).Store(tile + 64);
        Pairs(c50, c51).Store(tile + 80);
    }

    /// <summary>Sums of <see cref="MR"/> rows (int16 pairs) by 8 columns of a panel (AVX-512BW <c>vpmaddwd</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512Half(byte* aBase, int lda, int i, sbyte* panel, int w, int c, int k4, int* tile)
    {
        short* a0 = (short*)aBase + (long)i * lda;
        short* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        sbyte* b = panel + c * 4;
        int stride = w * 4;
        for (int p = 0; p < k4; p += 4)
        {
            Vector512<short> b0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(b));
            c0 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(long*)(a0 + p)).AsInt16(), b0);
            c1 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(long*)(a1 + p)).AsInt16(), b0);
            c2 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(long*)(a2 + p)).AsInt16(), b0);
            c3 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(long*)(a3 + p)).AsInt16(), b0);
            c4 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(long*)(a4 + p)).AsInt16(), b0);
            c5 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(long*)(a5 + p)).AsInt16(), b0);
            b += stride;
        }

        Pairs(c0, default).Store(tile);
        Pairs(c1, default).Store(tile + 16);
        Pairs(c2, default).Store(tile + 32);
        Pairs(c3, default).Store(tile + 48);
        Pairs(c4, default).Store(tile + 64);
        Pairs(c5, default).Store(tile + 80);
    }

    /// <summary>Sums of <see cref="MR"/> rows (bytes) by 8 columns of a panel (AVX-VNNI <c>vpdpbusd</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileVnni8(byte* aBase, int lda, int i, sbyte* panel, int w, int c, int k4, int* tile)
    {
        byte* a0 = aBase + (long)i * lda;
        byte* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        sbyte* b = panel + c * 4;
        int stride = w * 4;
        for (int p = 0; p < k4; p += 4)
        {
            Vector256<sbyte> b0 = Vector256.Load(b);
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, Vector256.Create(*(uint*)(a0 + p)).AsByte(), b0);
            c1 = AvxVnni.MultiplyWideningAndAdd(c1, Vector256.Create(*(uint*)(a1 + p)).AsByte(), b0);
            c2 = AvxVnni.MultiplyWideningAndAdd(c2, Vector256.Create(*(uint*)(a2 + p)).AsByte(), b0);
            c3 = AvxVnni.MultiplyWideningAndAdd(c3, Vector256.Create(*(uint*)(a3 + p)).AsByte(), b0);
            c4 = AvxVnni.MultiplyWideningAndAdd(c4, Vector256.Create(*(uint*)(a4 + p)).AsByte(), b0);
            c5 = AvxVnni.MultiplyWideningAndAdd(c5, Vector256.Create(*(uint*)(a5 + p)).AsByte(), b0);
            b += stride;
        }

        c0.Store(tile);
        c1.Store(tile + 16);
        c2.Store(tile + 32);
        c3.Store(tile + 48);
        c4.Store(tile + 64);
        c5.Store(tile + 80);
    }

    /// <summary>Adds the two partial sums of each column (adjacent lanes) of two accumulators: 16 columns in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Pairs(Vector512<int> lo, Vector512<int> hi)
    {
        Vector512<int> even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return Avx512F.PermuteVar16x32x2(lo, even, hi) + Avx512F.PermuteVar16x32x2(lo, even + Vector512<int>.One, hi);
    }

    /// <summary>Sums of one row (int16) by up to 32 columns of a panel from column <paramref name="c"/> (AVX-512BW).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row512(short* a, sbyte* panel, int w, int c, int cols, int k4, int* tile)
    {
        Vector512<int> c0 = default, c1 = default;
        sbyte* b = panel + c * 4;
        int stride = w * 4;
        if (cols > 8)
        {
            for (int p = 0; p < k4; p += 4)
            {
                Vector512<short> x = Vector512.Create(*(long*)(a + p)).AsInt16();
                c0 += Avx512BW.MultiplyAddAdjacent(x, Avx512BW.ConvertToVector512Int16(Vector256.Load(b)));
                c1 += Avx512BW.MultiplyAddAdjacent(x, Avx512BW.ConvertToVector512Int16(Vector256.Load(b + 32)));
                b += stride;
            }
        }
        else
        {
            for (int p = 0; p < k4; p += 4)
            {
                Vector512<short> x = Vector512.Create(*(long*)(a + p)).AsInt16();
                c0 += Avx512BW.MultiplyAddAdjacent(x, Avx512BW.ConvertToVector512Int16(Vector256.Load(b)));
                b += stride;
            }
        }

        Pairs(c0, c1).Store(tile);
    }

    /// <summary>Sums of <see cref="MR"/> rows (bytes) by 16 columns of a panel (AVX-VNNI <c>vpdpbusd</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileVnni(byte* aBase, int lda, int i, sbyte* panel, int w, int c, int k4, int* tile)
    {
        byte* a0 = aBase + (long)i * lda;
        byte* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<int> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        sbyte* b = panel + c * 4;
        int stride = w * 4;
        for (int p = 0; p < k4; p += 4)
        {
            Vector256<sbyte> b0 = Vector256.Load(b);
            Vector256<sbyte> b1 = Vector256.Load(b + 32);
            Vector256<byte> x = Vector256.Create(*(uint*)(a0 + p)).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            x = Vector256.Create(*(uint*)(a1 + p)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
            x = Vector256.Create(*(uint*)(a2 + p)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
            x = Vector256.Create(*(uint*)(a3 + p)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
            x = Vector256.Create(*(uint*)(a4 + p)).AsByte();
            c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, b0);
            c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, b1);
            x = Vector256.Create(*(uint*)(a5 + p)).AsByte();
            c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, b0);
            c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, b1);
            b += stride;
        }

        c00.Store(tile);
        c01.Store(tile + 8);
        c10.Store(tile + 16);
        c11.Store(tile + 24);
        c20.Store(tile + 32);
        c21.Store(tile + 40);
        c30.Store(tile + 48);
        c31.Store(tile + 56);
        c40.Store(tile + 64);
        c41.Store(tile + 72);
        c50.Store(tile + 80);
        c51.Store(tile + 88);
    }

    /// <summary>Sums of one row (bytes) by up to 16 columns of a panel (AVX-VNNI).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowVnni(byte* a, sbyte* panel, int w, int c, int cols, int k4, int* tile)
    {
        // Two chains per column group (even and odd quads) hide vpdpbusd's latency when one row is all there is.
        Vector256<int> c0 = default, c1 = default, d0 = default, d1 = default;
        sbyte* b = panel + c * 4;
        int stride = w * 4;
        int p = 0;
        if (cols > 8)
        {
            for (; p + 8 <= k4; p += 8)
            {
                Vector256<byte> x = Vector256.Create(*(uint*)(a + p)).AsByte();
                Vector256<byte> x2 = Vector256.Create(*(uint*)(a + p + 4)).AsByte();
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, x, Vector256.Load(b));
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, x, Vector256.Load(b + 32));
                d0 = AvxVnni.MultiplyWideningAndAdd(d0, x2, Vector256.Load(b + stride));
                d1 = AvxVnni.MultiplyWideningAndAdd(d1, x2, Vector256.Load(b + stride + 32));
                b += 2 * stride;
            }

            for (; p < k4; p += 4)
            {
                Vector256<byte> x = Vector256.Create(*(uint*)(a + p)).AsByte();
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, x, Vector256.Load(b));
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, x, Vector256.Load(b + 32));
                b += stride;
            }
        }
        else
        {
            for (; p < k4; p += 4)
            {
                Vector256<byte> x = Vector256.Create(*(uint*)(a + p)).AsByte();
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, x, Vector256.Load(b));
                b += stride;
            }
        }

        (c0 + d0).Store(tile);
        (c1 + d1).Store(tile + 8);
    }

    /// <summary>Sums of one row by up to 16 columns of a panel, without special instructions.</summary>
    private static void RowPortable(byte* a, sbyte* panel, int w, int c, int cols, int k4, int* tile)
    {
        for (int j = 0; j < 16; j++)
        {
            tile[j] = 0;
        }

        sbyte* b = panel + c * 4;
        int stride = w * 4;
        for (int p = 0; p < k4; p += 4)
        {
            int x0 = a[p], x1 = a[p + 1], x2 = a[p + 2], x3 = a[p + 3];
            for (int j = 0; j < cols; j++)
            {
                sbyte* q = b + j * 4;
                tile[j] += (x0 * q[0]) + (x1 * q[1]) + (x2 * q[2]) + (x3 * q[3]);
            }

            b += stride;
        }
    }

    /// <summary>
    /// The epilogue of <paramref name="rows"/> × <paramref name="cols"/> sums of the tile (row stride 16) at (i, j),
    /// eight columns at a time (terms and per-column scales are padded to whole eights by the compiler).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Store(Job* job, int* tile, int i, int rows, int j, int cols)
    {
        int n = job->N, m = job->M;
        PackedOutput output = job->Output;
        bool perColumn = job->ScaleCount != 1, wide = output is PackedOutput.Int32 or PackedOutput.Float32;
        (float lo, float hi) = Requantize.Bounds(output == PackedOutput.Int8, job->Zero);
        Vector256<float> vlo = Vector256.Create(lo), vhi = Vector256.Create(hi);
        Vector256<int> zero = Vector256.Create(job->Zero);
        int* values = stackalloc int[8];
        for (int r = 0; r < rows; r++)
        {
            int* sums = tile + (r * 16);
            for (int c = 0; c < cols; c += 8)
            {
                int count = Math.Min(8, cols - c);
                Vector256<int> q = Vector256.Load(sums + c) + Vector256.Load(job->Terms + j + c);
                if (output != PackedOutput.Int32)
                {
                    Vector256<float> f = Vector256.ConvertToSingle(q) * (perColumn ? Vector256.Load(job->Scale + j + c) : Vector256.Create(job->Scale[0]));

                    q = output == PackedOutput.Float32 ? f.AsInt32() : Requantize.Round(f, vlo, vhi, zero);
                }

                if (!job->Transposed && count == 8)
                {
                    long offset = ((long)(i + r) * n) + j + c;
                    if (wide)
                    {
                        q.Store((int*)job->Y + offset);
                    }
                    else
                    {
                        // In range after the clamp, so narrowing by truncation is exact.
                        Vector256<short> s = Vector256.Narrow(q, q);
                        *(long*)((byte*)job->Y + offset) = Vector256.Narrow(s.AsUInt16(), s.AsUInt16()).AsInt64().GetElement(0);
                    }

                    continue;
                }

                q.Store(values);
                for (int t = 0; t < count; t++)
                {
                    long index = job->Transposed ? ((long)(j + c + t) * m) + i + r : ((long)(i + r) * n) + j + c + t;
                    if (wide)
                    {
                        ((int*)job->Y)[index] = values[t];
                    }
                    else
                    {
                        ((byte*)job->Y)[index] = (byte)values[t];
                    }
                }
            }
        }
    }

    /// <summary>Columns rounded up to whole eights: the length of the per-column terms and scales the store reads.</summary>
    public static int PaddedColumns(int n) => (n + 7) & ~7;
}
