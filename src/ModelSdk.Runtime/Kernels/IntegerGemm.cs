using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Which inner loop <see cref="IntegerGemm"/> uses; tests force each to check they agree.</summary>
internal enum IntegerGemmPath
{
    /// <summary>The fastest path the processor supports.</summary>
    Auto,
    /// <summary>Vector256 widening multiply-add on any processor.</summary>
    Portable,
    /// <summary>AVX-VNNI <c>vpdpbusd</c> (unsigned × signed bytes, four products summed per int32 lane).</summary>
    AvxVnni,
    /// <summary>
    /// AVX-512BW <c>vpmaddwd</c> on bytes widened to int16 pairs, 8 × 32 register tile (.NET 10 exposes no
    /// 512-bit <c>vpdpbusd</c>; <c>vpmaddubsw</c> saturates, so it would not be exact).
    /// </summary>
    Avx512,
}

/// <summary>
/// 8-bit matrix product with int32 accumulation: <c>y[i, j] = Σₚ (a[i, p] − za(i)) · (b[p, j] − zb(j))</c>
/// for row-major <c>a [m, k]</c> and <c>b [k, n]</c> of int8 or uint8, with a zero point per tensor or
/// per row of <c>a</c> and per tensor or per column of <c>b</c>.
/// </summary>
/// <remarks>
/// Both paths multiply unsigned bytes of <c>a</c> by signed bytes of <c>b</c>, the operand types of
/// <c>vpdpbusd</c>: a signed <c>a</c> is shifted by +128 and an unsigned <c>b</c> by −128, zero points
/// shifted alike, which leaves every difference <c>a − za</c>, <c>b − zb</c> unchanged. The zero points
/// then come out of the raw product as row- and column-sum corrections applied once per strip,
/// so the inner loops see only bytes. The sums wrap in int32 exactly as the true result would fit.
/// </remarks>
internal static class IntegerGemm
{
    // Register tile: MR rows by NR = 16 columns. B is packed per KC-deep panel as groups of four
    // consecutive k of one column (the vpdpbusd layout): quad q, column j at byte (q · NR + j) · 4.
    // The AVX-512 path tiles MR512 rows by NR512 columns and packs B as int16 pairs of consecutive k
    // of one column (the vpmaddwd layout): pair t, column j at element (t · NR512 + j) · 2.
    private const int MR = 4;
    private const int NR = 16;
    private const int MR512 = 8;
    private const int NR512 = 32;
    private const int KC = 256;

    /// <summary>Computes <c>y</c> (overwritten) from one pair of matrices.</summary>
    /// <param name="a">Left matrix bytes, <c>[m, k]</c>.</param>
    /// <param name="aSigned">Whether <paramref name="a"/> holds int8 (otherwise uint8).</param>
    /// <param name="aZero">Zero point of <paramref name="a"/>: empty (0), one value, or one per row.</param>
    /// <param name="b">Right matrix bytes, <c>[k, n]</c>.</param>
    /// <param name="bSigned">Whether <paramref name="b"/> holds int8 (otherwise uint8).</param>
    /// <param name="bZero">Zero point of <paramref name="b"/>: empty (0), one value, or one per column.</param>
    /// <param name="y">Result, <c>[m, n]</c>.</param>
    /// <param name="rowSums">Scratch of at least <paramref name="m"/> values (used only when <paramref name="b"/>'s shifted zero point is not 0).</param>
    /// <param name="m">Rows.</param>
    /// <param name="n">Columns.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="path">The inner loop; <see cref="IntegerGemmPath.AvxVnni"/> requires the instruction set.</param>
    public static void Multiply(
        ReadOnlySpan<byte> a, bool aSigned, ReadOnlySpan<byte> aZero,
        ReadOnlySpan<byte> b, bool bSigned, ReadOnlySpan<byte> bZero,
        Span<int> y, Span<int> rowSums, int m, int n, int k, IntegerGemmPath path = IntegerGemmPath.Auto)
    {
        if (m < 0 || n < 0 || k < 0 || a.Length != m * k || b.Length != k * n || y.Length != m * n
            || !(aZero.Length <= 1 || aZero.Length == m) || !(bZero.Length <= 1 || bZero.Length == n))
        {
            throw new ArgumentException("Integer GEMM operand lengths do not match m, n and k.");
        }

        if (path == IntegerGemmPath.Auto)
        {
            path = Avx512BW.IsSupported ? IntegerGemmPath.Avx512
                : System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? IntegerGemmPath.AvxVnni : IntegerGemmPath.Portable;
        }
        else if (path == IntegerGemmPath.AvxVnni && !System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException("AVX-VNNI is not supported by this processor.");
        }
        else if (path == IntegerGemmPath.Avx512 && !Avx512BW.IsSupported)
        {
            throw new PlatformNotSupportedException("AVX-512BW is not supported by this processor.");
        }

        y.Clear();
        if (m == 0 || n == 0 || k == 0)
        {
            return;
        }

        uint aFlip = aSigned ? 0x80808080u : 0;
        byte bFlip = bSigned ? (byte)0 : (byte)0x80;
        bool bShifted = false;
        for (int j = 0; j < Math.Max(1, bZero.Length) && !bShifted; j++)
        {
            bShifted = ShiftedZero(bZero, j, bSigned, isA: false) != 0;
        }

        if (bShifted)
        {
            if (rowSums.Length < m)
            {
                throw new ArgumentException("The row-sum scratch buffer is too small.");
            }

            for (int i = 0; i < m; i++)
            {
                rowSums[i] = RowSum(a.Slice(i * k, k), aSigned);
            }
        }

        int width = path == IntegerGemmPath.Avx512 ? NR512 : NR;
        Span<sbyte> packed = stackalloc sbyte[KC * NR];
        Span<short> packed16 = stackalloc short[path == IntegerGemmPath.Avx512 ? KC * NR512 : 0];
        Span<int> colSums = stackalloc int[NR512];
        ref byte ra = ref MemoryMarshal.GetReference(a);
        ref int ry = ref MemoryMarshal.GetReference(y);
        for (int j0 = 0; j0 < n; j0 += width)
        {
            int nr = Math.Min(width, n - j0);
            colSums.Clear();
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                ref sbyte rb = ref MemoryMarshal.GetReference(packed);
                int i0 = 0;
                if (path == IntegerGemmPath.Avx512)
                {
                    PackB16(b, bFlip, n, p0, kc, j0, nr, packed16, colSums);
                    ref short rb16 = ref MemoryMarshal.GetReference(packed16);
                    for (; i0 + MR512 <= m; i0 += MR512)
                    {
                        Tile512x8(ref Unsafe.Add(ref ra, i0 * k + p0), k, aFlip, ref rb16, kc, ref Unsafe.Add(ref ry, i0 * n + j0), n, nr);
                    }

                    for (; i0 < m; i0++)
                    {
                        Tile512x1(ref Unsafe.Add(ref ra, i0 * k + p0), aFlip, ref rb16, kc, ref Unsafe.Add(ref ry, i0 * n + j0), nr);
                    }
                }
                else if (path == IntegerGemmPath.AvxVnni)
                {
                    PackB(b, bFlip, n, p0, kc, j0, nr, packed, colSums);
                    for (; i0 + MR <= m; i0 += MR)
                    {
                        TileVnni4(ref Unsafe.Add(ref ra, i0 * k + p0), k, aFlip, ref rb, kc, ref Unsafe.Add(ref ry, i0 * n + j0), n, nr);
                    }

                    for (; i0 < m; i0++)
                    {
                        TileVnni1(ref Unsafe.Add(ref ra, i0 * k + p0), aFlip, ref rb, kc, ref Unsafe.Add(ref ry, i0 * n + j0), nr);
                    }
                }
                else
                {
                    PackB(b, bFlip, n, p0, kc, j0, nr, packed, colSums);
                    for (; i0 < m; i0++)
                    {
                        TilePortable(ref Unsafe.Add(ref ra, i0 * k + p0), aFlip, ref rb, kc, ref Unsafe.Add(ref ry, i0 * n + j0), nr);
                    }
                }
            }

            Correct(y, n, m, k, j0, nr, aZero, aSigned, bZero, bSigned, bShifted ? rowSums : default, colSums);
        }
    }

    /// <summary>The zero point of row or column <paramref name="index"/> in the shifted domain (a: unsigned, b: signed).</summary>
    private static int ShiftedZero(ReadOnlySpan<byte> zero, int index, bool signed, bool isA)
    {
        int value = zero.IsEmpty ? 0 : zero[zero.Length == 1 ? 0 : index];
        if (signed)
        {
            value = (sbyte)(byte)value;
        }

        return isA ? (signed ? value + 128 : value) : (signed ? value : value - 128);
    }

    /// <summary>Σ of a row of a in the unsigned domain.</summary>
    private static int RowSum(ReadOnlySpan<byte> row, bool signed)
    {
        int sum = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> acc = default;
            for (; i <= row.Length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                Vector256<byte> v = Vector256.Create(row.Slice(i, Vector256<byte>.Count));
                if (signed)
                {
                    v ^= Vector256.Create((byte)0x80);
                }

                (Vector256<ushort> lo, Vector256<ushort> hi) = Vector256.Widen(v);
                (Vector256<uint> l0, Vector256<uint> l1) = Vector256.Widen(lo + hi);
                acc += l0 + l1;
            }

            sum = (int)Vector256.Sum(acc);
        }

        for (; i < row.Length; i++)
        {
            sum += signed ? row[i] ^ 0x80 : row[i];
        }

        return sum;
    }

    /// <summary>
    /// Packs <c>b[p0 .. p0+kc, j0 .. j0+nr]</c>, shifted to signed, into quads of k per column, zero past
    /// the matrix, and adds each column's values to <paramref name="colSums"/>.
    /// </summary>
    private static void PackB(ReadOnlySpan<byte> b, byte flip, int n, int p0, int kc, int j0, int nr, Span<sbyte> packed, Span<int> colSums)
    {
        int quads = (kc + 3) / 4;
        if (nr < NR || kc % 4 != 0)
        {
            packed.Slice(0, quads * 4 * NR).Clear();
        }

        for (int p = 0; p < kc; p++)
        {
            ReadOnlySpan<byte> row = b.Slice((p0 + p) * n + j0, nr);
            Span<sbyte> quad = packed.Slice((p >> 2) * 4 * NR + (p & 3));
            for (int j = 0; j < nr; j++)
            {
                sbyte v = (sbyte)(row[j] ^ flip);
                quad[j * 4] = v;
                colSums[j] += v;
            }
        }
    }

    /// <summary>
    /// Packs <c>b[p0 .. p0+kc, j0 .. j0+nr]</c>, shifted to signed, into int16 pairs of k per column
    /// (strip width <see cref="NR512"/>), zero past the matrix, and adds each column's values to <paramref name="colSums"/>.
    /// </summary>
    private static void PackB16(ReadOnlySpan<byte> b, byte flip, int n, int p0, int kc, int j0, int nr, Span<short> packed, Span<int> colSums)
    {
        int pairs = (kc + 1) / 2;
        if (nr < NR512 || kc % 2 != 0)
        {
            packed.Slice(0, pairs * 2 * NR512).Clear();
        }

        for (int p = 0; p < kc; p++)
        {
            ReadOnlySpan<byte> row = b.Slice((p0 + p) * n + j0, nr);
            Span<short> pair = packed.Slice((p >> 1) * 2 * NR512 + (p & 1));
            for (int j = 0; j < nr; j++)
            {
                sbyte v = (sbyte)(row[j] ^ flip);
                pair[j * 2] = v;
                colSums[j] += v;
            }
        }
    }

    /// <summary>Two bytes of a row of a from <paramref name="p"/>, shifted to unsigned, as the two int16 halves; zero past <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Pair(ref byte row, int p, int count, uint flip)
    {
        uint lo = (uint)(Unsafe.Add(ref row, p) ^ (byte)flip);
        uint hi = p + 1 < count ? (uint)(Unsafe.Add(ref row, p + 1) ^ (byte)flip) : 0;
        return lo | (hi << 16);
    }

    /// <summary>Two whole bytes of a row of a from <paramref name="p"/>, shifted to unsigned, as the two int16 halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint WholePair(ref byte row, int p, uint flip)
    {
        uint x = (uint)(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref row, p)) ^ (ushort)flip);
        return (x & 0xFF) | ((x & 0xFF00) << 8);
    }

    /// <summary>Four bytes of a row of a from <paramref name="p"/>, shifted to unsigned; zero past <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Quad(ref byte row, int p, int count, uint flip)
    {
        if (p + 4 <= count)
        {
            return Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref row, p)) ^ flip;
        }

        // The ragged end of the row: b is zero there, so these bytes only must not be read past the matrix.
        uint q = 0;
        for (int t = 0; p + t < count; t++)
        {
            q |= (uint)Unsafe.Add(ref row, p + t) << (8 * t);
        }

        return q ^ flip;
    }

    /// <summary>y[0..4, 0..nr] += a[0..4, 0..kc] · packed (AVX-VNNI).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileVnni4(ref byte a, int lda, uint flip, ref sbyte packed, int kc, ref int y, int ldy, int nr)
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<int> c20 = default, c21 = default, c30 = default, c31 = default;
        ref byte a1 = ref Unsafe.Add(ref a, lda);
        ref byte a2 = ref Unsafe.Add(ref a, 2 * lda);
        ref byte a3 = ref Unsafe.Add(ref a, 3 * lda);
        for (int p = 0; p < kc; p += 4)
        {
            Vector256<sbyte> b0 = Vector256.LoadUnsafe(ref packed);
            Vector256<sbyte> b1 = Vector256.LoadUnsafe(ref packed, 32);
            Vector256<byte> x = Vector256.Create(Quad(ref a, p, kc, flip)).AsByte();
            c00 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            x = Vector256.Create(Quad(ref a1, p, kc, flip)).AsByte();
            c10 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
            c11 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
            x = Vector256.Create(Quad(ref a2, p, kc, flip)).AsByte();
            c20 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
            c21 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
            x = Vector256.Create(Quad(ref a3, p, kc, flip)).AsByte();
            c30 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
            c31 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
            packed = ref Unsafe.Add(ref packed, 4 * NR);
        }

        Store(ref y, c00, c01, nr);
        Store(ref Unsafe.Add(ref y, ldy), c10, c11, nr);
        Store(ref Unsafe.Add(ref y, 2 * ldy), c20, c21, nr);
        Store(ref Unsafe.Add(ref y, 3 * ldy), c30, c31, nr);
    }

    /// <summary>y[0, 0..nr] += a[0, 0..kc] · packed (AVX-VNNI).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileVnni1(ref byte a, uint flip, ref sbyte packed, int kc, ref int y, int nr)
    {
        Vector256<int> c0 = default, c1 = default;
        for (int p = 0; p < kc; p += 4)
        {
            Vector256<byte> x = Vector256.Create(Quad(ref a, p, kc, flip)).AsByte();
            c0 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c0, x, Vector256.LoadUnsafe(ref packed));
            c1 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c1, x, Vector256.LoadUnsafe(ref packed, 32));
            packed = ref Unsafe.Add(ref packed, 4 * NR);
        }

        Store(ref y, c0, c1, nr);
    }

    /// <summary>
    /// y[0, 0..nr] += a[0, 0..kc] · packed with portable vectors: bytes widen to int16 (a product of an
    /// unsigned and a signed byte fits), products widen to int32. Each int32 lane keeps one of the four
    /// k of its quad, so the four are summed once per panel instead of in the inner loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TilePortable(ref byte a, uint flip, ref sbyte packed, int kc, ref int y, int nr)
    {
        // Accumulator c<v> holds columns 2v and 2v+1, four lanes (one per k of the quad) each.
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector256<int> c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p += 4)
        {
            Vector256<short> x = Vector256.WidenLower(Vector256.Create(Quad(ref a, p, kc, flip)).AsByte()).AsInt16();
            (Vector256<short> b0, Vector256<short> b1) = Vector256.Widen(Vector256.LoadUnsafe(ref packed));
            (Vector256<short> b2, Vector256<short> b3) = Vector256.Widen(Vector256.LoadUnsafe(ref packed, 32));
            (Vector256<int> lo, Vector256<int> hi) = Vector256.Widen(x * b0);
            c0 += lo;
            c1 += hi;
            (lo, hi) = Vector256.Widen(x * b1);
            c2 += lo;
            c3 += hi;
            (lo, hi) = Vector256.Widen(x * b2);
            c4 += lo;
            c5 += hi;
            (lo, hi) = Vector256.Widen(x * b3);
            c6 += lo;
            c7 += hi;
            packed = ref Unsafe.Add(ref packed, 4 * NR);
        }

        Span<int> lanes = stackalloc int[4 * NR];
        c0.CopyTo(lanes);
        c1.CopyTo(lanes.Slice(8));
        c2.CopyTo(lanes.Slice(16));
        c3.CopyTo(lanes.Slice(24));
        c4.CopyTo(lanes.Slice(32));
        c5.CopyTo(lanes.Slice(40));
        c6.CopyTo(lanes.Slice(48));
        c7.CopyTo(lanes.Slice(56));
        for (int j = 0; j < nr; j++)
        {
            Unsafe.Add(ref y, j) += lanes[4 * j] + lanes[4 * j + 1] + lanes[4 * j + 2] + lanes[4 * j + 3];
        }
    }

    /// <summary>y[0..8, 0..nr] += a[0..8, 0..kc] · packed (AVX-512BW, strip width <see cref="NR512"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512x8(ref byte a, int lda, uint flip, ref short packed, int kc, ref int y, int ldy, int nr)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<int> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<int> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<int> c60 = default, c61 = default, c70 = default, c71 = default;
        ref byte a1 = ref Unsafe.Add(ref a, lda);
        ref byte a2 = ref Unsafe.Add(ref a, 2 * lda);
        ref byte a3 = ref Unsafe.Add(ref a, 3 * lda);
        ref byte a4 = ref Unsafe.Add(ref a, 4 * lda);
        ref byte a5 = ref Unsafe.Add(ref a, 5 * lda);
        ref byte a6 = ref Unsafe.Add(ref a, 6 * lda);
        ref byte a7 = ref Unsafe.Add(ref a, 7 * lda);

        // Whole quads first: one broadcast of four bytes per row, split into its two int16 pairs by
        // byte shuffles (index 0x80 writes zero). Then whole pairs, then at most one ragged pair.
        Vector512<byte> lowPair = Vector512.Create(0x80018000u).AsByte();
        Vector512<byte> highPair = Vector512.Create(0x80038002u).AsByte();
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            Vector512<short> b0 = Vector512.LoadUnsafe(ref packed);
            Vector512<short> b1 = Vector512.LoadUnsafe(ref packed, 32);
            Vector512<short> b2 = Vector512.LoadUnsafe(ref packed, 64);
            Vector512<short> b3 = Vector512.LoadUnsafe(ref packed, 96);
            Vector512<byte> x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a, p)) ^ flip).AsByte();
            Vector512<short> lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            Vector512<short> hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c00 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c01 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a1, p)) ^ flip).AsByte();
            lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c10 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c11 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a2, p)) ^ flip).AsByte();
            lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c20 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c21 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a3, p)) ^ flip).AsByte();
            lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c30 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c31 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a4, p)) ^ flip).AsByte();
            lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c40 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c41 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a5, p)) ^ flip).AsByte();
            lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c50 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c51 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a6, p)) ^ flip).AsByte();
            lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c60 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c61 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            x = Vector512.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a7, p)) ^ flip).AsByte();
            lo = Avx512BW.Shuffle(x, lowPair).AsInt16();
            hi = Avx512BW.Shuffle(x, highPair).AsInt16();
            c70 += Avx512BW.MultiplyAddAdjacent(lo, b0) + Avx512BW.MultiplyAddAdjacent(hi, b2);
            c71 += Avx512BW.MultiplyAddAdjacent(lo, b1) + Avx512BW.MultiplyAddAdjacent(hi, b3);
            packed = ref Unsafe.Add(ref packed, 4 * NR512);
        }

        int whole = kc & ~1;
        for (; p < whole; p += 2)
        {
            Vector512<short> b0 = Vector512.LoadUnsafe(ref packed);
            Vector512<short> b1 = Vector512.LoadUnsafe(ref packed, 32);
            Vector512<short> x = Vector512.Create(WholePair(ref a, p, flip)).AsInt16();
            c00 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c01 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(WholePair(ref a1, p, flip)).AsInt16();
            c10 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c11 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(WholePair(ref a2, p, flip)).AsInt16();
            c20 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c21 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(WholePair(ref a3, p, flip)).AsInt16();
            c30 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c31 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(WholePair(ref a4, p, flip)).AsInt16();
            c40 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c41 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(WholePair(ref a5, p, flip)).AsInt16();
            c50 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c51 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(WholePair(ref a6, p, flip)).AsInt16();
            c60 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c61 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(WholePair(ref a7, p, flip)).AsInt16();
            c70 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c71 += Avx512BW.MultiplyAddAdjacent(x, b1);
            packed = ref Unsafe.Add(ref packed, 2 * NR512);
        }

        if (p < kc)
        {
            Vector512<short> b0 = Vector512.LoadUnsafe(ref packed);
            Vector512<short> b1 = Vector512.LoadUnsafe(ref packed, 32);
            Vector512<short> x = Vector512.Create(Pair(ref a, p, kc, flip)).AsInt16();
            c00 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c01 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(Pair(ref a1, p, kc, flip)).AsInt16();
            c10 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c11 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(Pair(ref a2, p, kc, flip)).AsInt16();
            c20 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c21 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(Pair(ref a3, p, kc, flip)).AsInt16();
            c30 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c31 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(Pair(ref a4, p, kc, flip)).AsInt16();
            c40 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c41 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(Pair(ref a5, p, kc, flip)).AsInt16();
            c50 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c51 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(Pair(ref a6, p, kc, flip)).AsInt16();
            c60 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c61 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(Pair(ref a7, p, kc, flip)).AsInt16();
            c70 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c71 += Avx512BW.MultiplyAddAdjacent(x, b1);
        }

        Store512(ref y, c00, c01, nr);
        Store512(ref Unsafe.Add(ref y, ldy), c10, c11, nr);
        Store512(ref Unsafe.Add(ref y, 2 * ldy), c20, c21, nr);
        Store512(ref Unsafe.Add(ref y, 3 * ldy), c30, c31, nr);
        Store512(ref Unsafe.Add(ref y, 4 * ldy), c40, c41, nr);
        Store512(ref Unsafe.Add(ref y, 5 * ldy), c50, c51, nr);
        Store512(ref Unsafe.Add(ref y, 6 * ldy), c60, c61, nr);
        Store512(ref Unsafe.Add(ref y, 7 * ldy), c70, c71, nr);
    }

    /// <summary>y[0, 0..nr] += a[0, 0..kc] · packed (AVX-512BW, strip width <see cref="NR512"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512x1(ref byte a, uint flip, ref short packed, int kc, ref int y, int nr)
    {
        Vector512<int> c0 = default, c1 = default;
        for (int p = 0; p < kc; p += 2)
        {
            Vector512<short> x = Vector512.Create(Pair(ref a, p, kc, flip)).AsInt16();
            c0 += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref packed));
            c1 += Avx512BW.MultiplyAddAdjacent(x, Vector512.LoadUnsafe(ref packed, 32));
            packed = ref Unsafe.Add(ref packed, 2 * NR512);
        }

        Store512(ref y, c0, c1, nr);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(ref int y, Vector512<int> lo, Vector512<int> hi, int nr)
    {
        if (nr == NR512)
        {
            (Vector512.LoadUnsafe(ref y) + lo).StoreUnsafe(ref y);
            (Vector512.LoadUnsafe(ref y, 16) + hi).StoreUnsafe(ref y, 16);
            return;
        }

        Span<int> tile = stackalloc int[NR512];
        lo.CopyTo(tile);
        hi.CopyTo(tile.Slice(16));
        for (int j = 0; j < nr; j++)
        {
            Unsafe.Add(ref y, j) += tile[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref int y, Vector256<int> lo, Vector256<int> hi, int nr)
    {
        if (nr == NR)
        {
            (Vector256.LoadUnsafe(ref y) + lo).StoreUnsafe(ref y);
            (Vector256.LoadUnsafe(ref y, 8) + hi).StoreUnsafe(ref y, 8);
            return;
        }

        Span<int> tile = stackalloc int[NR];
        lo.CopyTo(tile);
        hi.CopyTo(tile.Slice(8));
        for (int j = 0; j < nr; j++)
        {
            Unsafe.Add(ref y, j) += tile[j];
        }
    }

    /// <summary>Turns Σ a'·b' into Σ (a' − za')(b' − zb') for the columns of one strip.</summary>
    private static void Correct(
        Span<int> y, int n, int m, int k, int j0, int nr, ReadOnlySpan<byte> aZero, bool aSigned, ReadOnlySpan<byte> bZero, bool bSigned,
        ReadOnlySpan<int> rowSums, ReadOnlySpan<int> colSums)
    {
        Span<int> zb = stackalloc int[NR512];
        for (int j = 0; j < nr; j++)
        {
            zb[j] = ShiftedZero(bZero, j0 + j, bSigned, isA: false);
        }

        for (int i = 0; i < m; i++)
        {
            int za = ShiftedZero(aZero, i, aSigned, isA: true);
            int rowSum = rowSums.IsEmpty ? 0 : rowSums[i];
            Span<int> row = y.Slice(i * n + j0, nr);
            unchecked
            {
                for (int j = 0; j < nr; j++)
                {
                    row[j] += (k * za * zb[j]) - (zb[j] * rowSum) - (za * colSums[j]);
                }
            }
        }
    }
}
