using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Scaled dot-product attention (float32), <c>y = softmax(scale · q · kᵀ + mask) · v</c> over the
/// last axis, for a batch of heads whose batch dimensions broadcast like MatMul's. Query rows go
/// through in blocks of <see cref="BlockRows"/>: the block's scores fill a scratch of
/// <c>BlockRows × keys</c> (scaled as they are stored, masked and exponentiated in one pass), weight the
/// value rows straight into the output, and each output row is divided by its sum of exponentials at the
/// end. The <c>[queries, keys]</c> matrices of the decomposition are never stored. Both products run on a
/// register-blocked kernel over rows of K (transposed per head into the scratch first when K comes as
/// <c>[keys, depth]</c>) and of V, which stay in cache across the blocks of a head. Blocks are spread over
/// the worker threads, each working in its own slice of the scratch. Every operand's rows may lie apart
/// (a row stride of its own): a head of a <c>[batch, sequence, heads, depth]</c> tensor is read, and the
/// output written, in place, without the transposes to <c>[batch, heads, sequence, depth]</c> around it.
/// </summary>
public static unsafe class Attention
{
    /// <summary>Query rows per block: the rows of the register tile.</summary>
    public const int BlockRows = 6;

    /// <summary>
    /// Scratch slices (one per concurrently running part). The scratch holds up to <c>Slices</c> slices of
    /// <see cref="SliceLength"/> elements; fewer slices (a smaller scratch) only limit how many threads share the work.
    /// </summary>
    public const int Slices = 8;

    /// <summary>
    /// Elements of one slice of the scratch: a block's scores, a head's keys by column unless K comes transposed
    /// and dense (<paramref name="kRowStride"/> = keys), and a dense copy of a head's values when their rows lie
    /// apart (a power-of-two row stride would crowd them into a few sets of the L1 cache, read once per block).
    /// </summary>
    public static long SliceLength(int keys, int depth, int valueDepth, bool keyTransposed, int kRowStride, int vRowStride)
        => (long)BlockRows * keys + (keyTransposed && kRowStride == keys ? 0 : (long)depth * keys) + (vRowStride == valueDepth ? 0 : (long)keys * valueDepth);

    // Multiply-adds below which the call stays on the calling thread.
    private const long MinParallelMacs = 1 << 18;

    /// <summary>Computes every head of the batch.</summary>
    /// <param name="q">Queries, <c>[queries, depth]</c> per head (rows <paramref name="qRowStride"/> apart).</param>
    /// <param name="k">Keys, <c>[keys, depth]</c> per head, or <c>[depth, keys]</c> when <paramref name="keyTransposed"/> (rows <paramref name="kRowStride"/> apart).</param>
    /// <param name="v">Values, <c>[keys, valueDepth]</c> per head (rows <paramref name="vRowStride"/> apart).</param>
    /// <param name="mask">Optional additive mask (empty when absent), element (i, j) of a head at its batch offset + <c>i · maskRowStride + j · maskColStride</c>.</param>
    /// <param name="y">Output: element (i, j) of a head at its batch offset + <c>i · yRowStride + j</c>.</param>
    /// <param name="scores">Scratch of at least one slice (see <see cref="Slices"/>).</param>
    /// <param name="queries">Query rows per head.</param>
    /// <param name="keys">Key rows per head.</param>
    /// <param name="depth">Elements of a query or key row.</param>
    /// <param name="valueDepth">Elements of a value row.</param>
    /// <param name="keyTransposed">Whether each head of <paramref name="k"/> is stored transposed.</param>
    /// <param name="scale">Factor of the dot products.</param>
    /// <param name="batchShape">Collapsed batch shape (at least one dimension; <c>[1]</c> for one head).</param>
    /// <param name="qBatchStrides">Element stride of <paramref name="q"/> per batch dimension (0 where broadcast).</param>
    /// <param name="kBatchStrides">Element stride of <paramref name="k"/> per batch dimension.</param>
    /// <param name="vBatchStrides">Element stride of <paramref name="v"/> per batch dimension.</param>
    /// <param name="maskBatchStrides">Element stride of <paramref name="mask"/> per batch dimension.</param>
    /// <param name="maskRowStride">Element stride of <paramref name="mask"/> between query rows (0 when broadcast).</param>
    /// <param name="maskColStride">Element stride of <paramref name="mask"/> between keys (0 when broadcast).</param>
    /// <param name="yBatchStrides">Element stride of <paramref name="y"/> per batch dimension.</param>
    /// <param name="qRowStride">Elements between consecutive rows of a head of <paramref name="q"/> (<paramref name="depth"/> when dense).</param>
    /// <param name="kRowStride">Elements between consecutive rows of a head of <paramref name="k"/>.</param>
    /// <param name="vRowStride">Elements between consecutive rows of a head of <paramref name="v"/>.</param>
    /// <param name="yRowStride">Elements between consecutive rows of a head of <paramref name="y"/>.</param>
    /// <param name="context">The worker threads that share the heads and blocks.</param>
    public static void Run(
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> mask, Span<float> y, Span<float> scores,
        int queries, int keys, int depth, int valueDepth, bool keyTransposed, float scale,
        ReadOnlySpan<int> batchShape, ReadOnlySpan<int> qBatchStrides, ReadOnlySpan<int> kBatchStrides, ReadOnlySpan<int> vBatchStrides,
        ReadOnlySpan<int> maskBatchStrides, int maskRowStride, int maskColStride,
        ReadOnlySpan<int> yBatchStrides, int qRowStride, int kRowStride, int vRowStride, int yRowStride, KernelContext context)
    {
        int rank = batchShape.Length;
        long slice = SliceLength(keys, depth, valueDepth, keyTransposed, kRowStride, vRowStride);
        if (rank == 0 || rank > Odometer.MaxRank || qBatchStrides.Length != rank || kBatchStrides.Length != rank
            || vBatchStrides.Length != rank || maskBatchStrides.Length != rank || yBatchStrides.Length != rank
            || queries < 0 || keys < 0 || depth < 0 || valueDepth < 0 || scores.Length < slice || (maskColStride | maskRowStride) < 0
            || (qRowStride | kRowStride | vRowStride) < 0 || yRowStride < valueDepth)
        {
            throw new ArgumentException("Invalid attention dimensions or batch layout.");
        }

        int batch = 1;
        foreach (int d in batchShape)
        {
            batch = checked(batch * d);
        }

        if (y.Length != checked(batch * queries * valueDepth))
        {
            throw new ArgumentException("The output length does not match the batch and head sizes.");
        }

        // Every head's operands must lie inside their buffers: the parts read and write them through raw pointers.
        // (Batch strides are not negative: a stride below 0 would fail the reach of the first head.)
        long qLast = 0, kLast = 0, vLast = 0, mLast = 0, yLast = 0;
        for (int d = 0; d < rank; d++)
        {
            if ((qBatchStrides[d] | kBatchStrides[d] | vBatchStrides[d] | maskBatchStrides[d] | yBatchStrides[d]) < 0)
            {
                throw new ArgumentException("Attention batch strides must not be negative.");
            }

            qLast += (long)qBatchStrides[d] * (batchShape[d] - 1);
            kLast += (long)kBatchStrides[d] * (batchShape[d] - 1);
            vLast += (long)vBatchStrides[d] * (batchShape[d] - 1);
            mLast += (long)maskBatchStrides[d] * (batchShape[d] - 1);
            yLast += (long)yBatchStrides[d] * (batchShape[d] - 1);
        }

        long maskReach = mLast + (long)Math.Max(queries - 1, 0) * maskRowStride + (long)Math.Max(keys - 1, 0) * maskColStride;
        if (batch > 0 && (Reach(qLast, queries, qRowStride, depth) > q.Length
            || Reach(kLast, keyTransposed ? depth : keys, kRowStride, keyTransposed ? keys : depth) > k.Length
            || Reach(vLast, keys, vRowStride, valueDepth) > v.Length || Reach(yLast, queries, yRowStride, valueDepth) > y.Length
            || (!mask.IsEmpty && maskReach >= mask.Length)))
        {
            throw new ArgumentException("An attention operand is smaller than its batch strides and head sizes require.");
        }

        if (batch == 0 || queries == 0 || valueDepth == 0)
        {
            return;
        }

        if (keys == 0)
        {
            // Softmax over no keys weights nothing.
            y.Clear();
            return;
        }

        int blocks = (queries + BlockRows - 1) / BlockRows;
        int items = batch * blocks;
        long macs = (long)batch * queries * keys * (depth + valueDepth);
        int parts = (int)Math.Min(Math.Min(items, scores.Length / slice), Math.Min(Slices, macs < MinParallelMacs ? 1 : context.Workers.Chunks(macs, MinParallelMacs / 2)));
        fixed (float* pq = q, pk = k, pv = v, pm = mask, py = y, ps = scores)
        fixed (int* shape = batchShape, qs = qBatchStrides, ks = kBatchStrides, vs = vBatchStrides, ms = maskBatchStrides, ys = yBatchStrides)
        {
            var state = new State
            {
                Q = pq, K = pk, V = pv, Mask = mask.IsEmpty ? null : pm, Y = py, Scores = ps, Slice = slice,
                Queries = queries, Keys = keys, Depth = depth, ValueDepth = valueDepth, KeyTransposed = keyTransposed, Scale = scale,
                Rank = rank, Shape = shape, QStrides = qs, KStrides = ks, VStrides = vs, MaskStrides = ms, YStrides = ys,
                QRow = qRowStride, KRow = kRowStride, VRow = vRowStride, YRow = yRowStride,
                MaskRowStride = maskRowStride, MaskColStride = maskColStride, Blocks = blocks, Items = items, Parts = parts,
            };
            SimdParts.Run(context, parts, &state, &Body<Vector512<float>, Simd512>, &Body<Vector256<float>, Simd256>, &Body<Vector128<float>, Simd128>);
        }
    }

    private struct State
    {
        public float* Q, K, V, Mask, Y, Scores;
        public long Slice;
        public int Queries, Keys, Depth, ValueDepth, Rank, MaskRowStride, MaskColStride, Blocks, Items, Parts;
        public int QRow, KRow, VRow, YRow;
        public bool KeyTransposed;
        public float Scale;
        public int* Shape, QStrides, KStrides, VStrides, MaskStrides, YStrides;
    }

    /// <summary>One past the last element of <paramref name="rows"/> rows of <paramref name="width"/> elements, <paramref name="stride"/> apart, from <paramref name="first"/>.</summary>
    private static long Reach(long first, int rows, int stride, int width)
        => rows == 0 || width == 0 ? 0 : first + (long)(rows - 1) * stride + width;

    // One part: a contiguous range of (head, block) items, in its own slice of the scratch.
    private static void Body<TV, TS>(void* state, int part)
        where TV : struct
        where TS : ISimd<TV>
    {
        ref readonly State s = ref *(State*)state;
        int first = (int)((long)s.Items * part / s.Parts), end = (int)((long)s.Items * (part + 1) / s.Parts);
        float* scores = s.Scores + part * s.Slice;
        float* keysByColumn = scores + BlockRows * s.Keys;
        bool copyKeys = !s.KeyTransposed || s.KRow != s.Keys, copyValues = s.VRow != s.ValueDepth;
        float* values = keysByColumn + (copyKeys ? (long)s.Depth * s.Keys : 0);
        Span<float> inverseSums = stackalloc float[BlockRows];
        Span<float> factors = stackalloc float[BlockRows];
        factors.Fill(s.Scale);
        int head = -1;
        long qOff = 0, kOff = 0, vOff = 0, mOff = 0, yOff = 0;
        for (int item = first; item < end; item++)
        {
            int h = item / s.Blocks, i0 = item % s.Blocks * BlockRows;
            if (h != head)
            {
                head = h;
                (qOff, kOff, vOff, mOff, yOff) = (0, 0, 0, 0, 0);
                for (int d = s.Rank - 1, rest = h; d >= 0; d--)
                {
                    int index = rest % s.Shape[d];
                    rest /= s.Shape[d];
                    qOff += (long)index * s.QStrides[d];
                    kOff += (long)index * s.KStrides[d];
                    vOff += (long)index * s.VStrides[d];
                    mOff += (long)index * s.MaskStrides[d];
                    yOff += (long)index * s.YStrides[d];
                }

                if (!s.KeyTransposed)
                {
                    TransposeKeys(s.K + kOff, s.KRow, keysByColumn, s.Keys, s.Depth);
                }
                else if (copyKeys)
                {
                    CopyRows(s.K + kOff, s.KRow, keysByColumn, s.Depth, s.Keys);
                }

                if (copyValues)
                {
                    CopyRows(s.V + vOff, s.VRow, values, s.Keys, s.ValueDepth);
                }
            }

            int rows = Math.Min(BlockRows, s.Queries - i0);
            float* kt = copyKeys ? keysByColumn : s.K + kOff;
            float* vh = copyValues ? values : s.V + vOff;
            int ldv = copyValues ? s.ValueDepth : s.VRow;

            // scores = scale · q · kᵀ, then exponentials of the masked, shifted scores, row by row.
            Product<TV, TS>(s.Q + qOff + (long)i0 * s.QRow, s.QRow, rows, kt, s.Keys, s.Depth, s.Keys, scores, s.Keys, ref MemoryMarshal.GetReference(factors));
            for (int r = 0; r < rows; r++)
            {
                float* row = scores + r * s.Keys;
                if (s.Mask != null)
                {
                    AddMask<TV, TS>(row, s.Mask + mOff + (long)(i0 + r) * s.MaskRowStride, s.MaskColStride, s.Keys);
                }

                float max = Softmax.Max<TV, TS>(ref *row, s.Keys);
                inverseSums[r] = 1 / Softmax.ExpSum<TV, TS>(ref *row, ref *row, s.Keys, max);
            }

            // y = exponentials · v, each row divided by its sum.
            Product<TV, TS>(scores, s.Keys, rows, vh, ldv, s.Keys, s.ValueDepth,
                s.Y + yOff + (long)i0 * s.YRow, s.YRow, ref MemoryMarshal.GetReference(inverseSums));
        }
    }

    private static void CopyRows(float* source, int stride, float* destination, int rows, int width)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(source + (long)r * stride, width).CopyTo(new Span<float>(destination + (long)r * width, width));
        }
    }

    /// <summary><c>kt[d, j] = k[j, d]</c> for a head: keys <c>ldk</c> apart in <paramref name="k"/>, dense <c>[depth, keys]</c> in <paramref name="kt"/>.</summary>
    private static void TransposeKeys(float* k, int ldk, float* kt, int keys, int depth)
    {
        int j8 = Avx.IsSupported ? keys & ~7 : 0, d8 = depth & ~7;
        for (int j = 0; j < j8; j += 8)
        {
            for (int d = 0; d < d8; d += 8)
            {
                Transpose8(k + (long)j * ldk + d, ldk, kt + (long)d * keys + j, keys);
            }
        }

        // The edges (all of it without AVX): columns past the last full block, then rows.
        for (int j = 0; j < keys; j++)
        {
            for (int d = j < j8 ? d8 : 0; d < depth; d++)
            {
                kt[(long)d * keys + j] = k[(long)j * ldk + d];
            }
        }
    }

    /// <summary>An 8×8 block: eight rows of <paramref name="source"/> (<paramref name="ls"/> apart) become eight columns of <paramref name="target"/> (rows <paramref name="lt"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(float* source, int ls, float* target, int lt)
    {
        Vector256<float> r0 = Avx.LoadVector256(source), r1 = Avx.LoadVector256(source + ls);
        Vector256<float> r2 = Avx.LoadVector256(source + 2 * ls), r3 = Avx.LoadVector256(source + 3 * ls);
        Vector256<float> r4 = Avx.LoadVector256(source + 4 * ls), r5 = Avx.LoadVector256(source + 5 * ls);
        Vector256<float> r6 = Avx.LoadVector256(source + 6 * ls), r7 = Avx.LoadVector256(source + 7 * ls);

        // Pairs of rows interleaved, then quads (two elements of each of four rows per 128-bit lane), then halves exchanged.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(target, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(target + lt, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(target + 2 * lt, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(target + 3 * lt, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(target + 4 * lt, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(target + 5 * lt, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(target + 6 * lt, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(target + 7 * lt, Avx.Permute2x128(s3, s7, 0x31));
    }

    private static void AddMask<TV, TS>(float* row, float* mask, int stride, int n)
        where TV : struct
        where TS : ISimd<TV>
    {
        if (stride == 0)
        {
            float m = *mask;
            for (int j = 0; j < n; j++)
            {
                row[j] += m;
            }

            return;
        }

        int w = TS.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            TS.Store(TS.Add(TS.Load(ref row[i], 0), TS.Load(ref mask[i], 0)), ref row[i], 0);
        }

        for (; i < n; i++)
        {
            row[i] += mask[i];
        }
    }

    /// <summary>
    /// <c>c[r, j] = factor[r] · Σₚ a[r, p] · b[p, j]</c> for <paramref name="rows"/> ≤ <see cref="BlockRows"/> rows:
    /// row-major a (row stride <paramref name="lda"/>), b (<paramref name="ldb"/>) and c (<paramref name="ldc"/>).
    /// Six rows by two vectors of columns accumulate in registers over the whole depth.
    /// </summary>
    private static void Product<TV, TS>(float* a, int lda, int rows, float* b, int ldb, int depth, int n, float* c, int ldc, ref float factor)
        where TV : struct
        where TS : ISimd<TV>
    {
        // A ragged block repeats its last row; the extra results are computed and dropped.
        float* a0 = a, a1 = a + Math.Min(1, rows - 1) * lda, a2 = a + Math.Min(2, rows - 1) * lda;
        float* a3 = a + Math.Min(3, rows - 1) * lda, a4 = a + Math.Min(4, rows - 1) * lda, a5 = a + Math.Min(5, rows - 1) * lda;
        int w = TS.Count, j = 0;
        for (; j <= n - 2 * w; j += 2 * w)
        {
            TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            TV c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            float* bp = b + j;
            for (int p = 0; p < depth; p++, bp += ldb)
            {
                TV b0 = TS.Load(ref *bp, 0), b1 = TS.Load(ref *bp, (nuint)w);
                TV x = TS.Create(a0[p]);
                c00 = TS.MultiplyAdd(x, b0, c00);
                c01 = TS.MultiplyAdd(x, b1, c01);
                x = TS.Create(a1[p]);
                c10 = TS.MultiplyAdd(x, b0, c10);
                c11 = TS.MultiplyAdd(x, b1, c11);
                x = TS.Create(a2[p]);
                c20 = TS.MultiplyAdd(x, b0, c20);
                c21 = TS.MultiplyAdd(x, b1, c21);
                x = TS.Create(a3[p]);
                c30 = TS.MultiplyAdd(x, b0, c30);
                c31 = TS.MultiplyAdd(x, b1, c31);
                x = TS.Create(a4[p]);
                c40 = TS.MultiplyAdd(x, b0, c40);
                c41 = TS.MultiplyAdd(x, b1, c41);
                x = TS.Create(a5[p]);
                c50 = TS.MultiplyAdd(x, b0, c50);
                c51 = TS.MultiplyAdd(x, b1, c51);
            }

            StorePair<TV, TS>(c + j, ldc, 0, rows, c00, c01, ref factor);
            StorePair<TV, TS>(c + j, ldc, 1, rows, c10, c11, ref factor);
            StorePair<TV, TS>(c + j, ldc, 2, rows, c20, c21, ref factor);
            StorePair<TV, TS>(c + j, ldc, 3, rows, c30, c31, ref factor);
            StorePair<TV, TS>(c + j, ldc, 4, rows, c40, c41, ref factor);
            StorePair<TV, TS>(c + j, ldc, 5, rows, c50, c51, ref factor);
        }

        for (; j <= n - w; j += w)
        {
            TV c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            float* bp = b + j;
            for (int p = 0; p < depth; p++, bp += ldb)
            {
                TV b0 = TS.Load(ref *bp, 0);
                c0 = TS.MultiplyAdd(TS.Create(a0[p]), b0, c0);
                c1 = TS.MultiplyAdd(TS.Create(a1[p]), b0, c1);
                c2 = TS.MultiplyAdd(TS.Create(a2[p]), b0, c2);
                c3 = TS.MultiplyAdd(TS.Create(a3[p]), b0, c3);
                c4 = TS.MultiplyAdd(TS.Create(a4[p]), b0, c4);
                c5 = TS.MultiplyAdd(TS.Create(a5[p]), b0, c5);
            }

            StoreOne<TV, TS>(c + j, ldc, 0, rows, c0, ref factor);
            StoreOne<TV, TS>(c + j, ldc, 1, rows, c1, ref factor);
            StoreOne<TV, TS>(c + j, ldc, 2, rows, c2, ref factor);
            StoreOne<TV, TS>(c + j, ldc, 3, rows, c3, ref factor);
            StoreOne<TV, TS>(c + j, ldc, 4, rows, c4, ref factor);
            StoreOne<TV, TS>(c + j, ldc, 5, rows, c5, ref factor);
        }

        for (; j < n; j++)
        {
            for (int r = 0; r < rows; r++)
            {
                float* ar = a + (long)r * lda;
                float sum = 0;
                for (int p = 0; p < depth; p++)
                {
                    sum += ar[p] * b[(long)p * ldb + j];
                }

                c[(long)r * ldc + j] = sum * Unsafe.Add(ref factor, r);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair<TV, TS>(float* c, int ldc, int r, int rows, TV v0, TV v1, ref float factor)
        where TV : struct
        where TS : ISimd<TV>
    {
        if (r < rows)
        {
            TV f = TS.Create(Unsafe.Add(ref factor, r));
            float* row = c + (long)r * ldc;
            TS.Store(TS.Multiply(v0, f), ref *row, 0);
            TS.Store(TS.Multiply(v1, f), ref *row, (nuint)TS.Count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne<TV, TS>(float* c, int ldc, int r, int rows, TV v0, ref float factor)
        where TV : struct
        where TS : ISimd<TV>
    {
        if (r < rows)
        {
            TS.Store(TS.Multiply(v0, TS.Create(Unsafe.Add(ref factor, r))), ref *(c + (long)r * ldc), 0);
        }
    }
}
