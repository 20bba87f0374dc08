using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Matrix multiplication <c>y = alpha · op(a) · op(b) + beta · c</c> (float32), where <c>op</c>
/// optionally transposes. One call multiplies a batch of matrices whose batch dimensions follow
/// NumPy broadcasting (MatMul), or a single pair (Gemm, where <c>c</c> is a bias
/// broadcast to <c>[m, n]</c>). Matrices are dense and row-major.
/// </summary>
public static class Gemm
{
    // Register tile: MR rows of y by NR columns (two 256-bit vectors), accumulated over a panel of
    // KC steps of k. A KC × NR strip of b is packed once per panel and reused by every row of a.
    private const int MR = 4;
    private const int NR = 16;
    private const int KC = 256;

    /// <summary>Computes every matrix of the batch.</summary>
    /// <param name="a">Left operands: <c>[m, k]</c> each, or <c>[k, m]</c> when <paramref name="transA"/>.</param>
    /// <param name="b">Right operands: <c>[k, n]</c> each, or <c>[n, k]</c> when <paramref name="transB"/>.</param>
    /// <param name="c">Optional bias (empty when absent), element <c>(i, j)</c> at <c>i · cRowStride + j · cColStride</c>; the same for every matrix of the batch.</param>
    /// <param name="y">Results, <c>[batch…, m, n]</c> dense.</param>
    /// <param name="m">Rows of each result.</param>
    /// <param name="n">Columns of each result.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="transA">Whether each matrix of <paramref name="a"/> is stored transposed.</param>
    /// <param name="transB">Whether each matrix of <paramref name="b"/> is stored transposed.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the bias (ignored without one).</param>
    /// <param name="cRowStride">Element stride of <paramref name="c"/> between rows (0 when broadcast over rows).</param>
    /// <param name="cColStride">Element stride of <paramref name="c"/> between columns (0 when broadcast over columns).</param>
    /// <param name="batchShape">Collapsed batch shape (at least one dimension; <c>[1]</c> for a single product).</param>
    /// <param name="aBatchStrides">Element stride of <paramref name="a"/> per batch dimension (0 where it is broadcast).</param>
    /// <param name="bBatchStrides">Element stride of <paramref name="b"/> per batch dimension (0 where it is broadcast).</param>
    public static void Run(
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
        int m, int n, int k, bool transA, bool transB, float alpha, float beta, int cRowStride, int cColStride,
        ReadOnlySpan<int> batchShape, ReadOnlySpan<int> aBatchStrides, ReadOnlySpan<int> bBatchStrides)
    {
        (int batch, int matrix) = BatchLayout.Check(batchShape, aBatchStrides, bBatchStrides, m, n, k, y.Length);

        Span<int> index = stackalloc int[batchShape.Length];
        int aOff = 0, bOff = 0;
        for (int i = 0; i < batch; i++)
        {
            Multiply(a.Slice(aOff, m * k), transA, b.Slice(bOff, k * n), transB, y.Slice(i * matrix, matrix), m, n, k, alpha, c, cRowStride, cColStride, beta);
            Odometer.Advance(index, batchShape, aBatchStrides, ref aOff, bBatchStrides, ref bOff);
        }
    }

    /// <summary>One product, <c>y[m, n] = alpha · op(a) · op(b) + beta · c</c>; <paramref name="a"/> and <paramref name="b"/> are exactly one matrix each.</summary>
    internal static void Multiply(
        ReadOnlySpan<float> a, bool transA, ReadOnlySpan<float> b, bool transB, Span<float> y,
        int m, int n, int k, float alpha, ReadOnlySpan<float> c, int cRowStride, int cColStride, float beta)
    {
        if (a.Length != m * k || b.Length != k * n || y.Length != m * n)
        {
            throw new ArgumentException("GEMM operand lengths do not match m, n and k.");
        }

        if (m == 0 || n == 0)
        {
            return;
        }

        InitializeWithBias(y, m, n, c, cRowStride, cColStride, beta);
        if (k == 0)
        {
            return;
        }

        // a(i, p) lives at i · aRowStep + p · aDepthStep, whichever way a is stored.
        int aRowStep = transA ? 1 : k, aDepthStep = transA ? m : 1;
        Span<float> packed = stackalloc float[KC * NR];
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (int p0 = 0; p0 < k; p0 += KC)
        {
            int kc = Math.Min(KC, k - p0);
            for (int j0 = 0; j0 < n; j0 += NR)
            {
                int nr = Math.Min(NR, n - j0);
                PackB(b, transB, n, k, p0, kc, j0, nr, packed);
                ref float rb = ref MemoryMarshal.GetReference(packed);
                int i0 = 0;
                for (; i0 + MR <= m; i0 += MR)
                {
                    ref float a0 = ref Unsafe.Add(ref ra, i0 * aRowStep + p0 * aDepthStep);
                    Tile4(ref a0, aRowStep, aDepthStep, ref rb, kc, ref Unsafe.Add(ref ry, i0 * n + j0), n, nr, alpha);
                }

                for (; i0 < m; i0++)
                {
                    ref float a0 = ref Unsafe.Add(ref ra, i0 * aRowStep + p0 * aDepthStep);
                    Tile1(ref a0, aDepthStep, ref rb, kc, ref Unsafe.Add(ref ry, i0 * n + j0), nr, alpha);
                }
            }
        }
    }

    private static void InitializeWithBias(Span<float> y, int m, int n, ReadOnlySpan<float> c, int cRowStride, int cColStride, float beta)
    {
        // ONNX Runtime skips the bias when beta is 0, so an infinite or NaN bias does not poison the result.
        if (c.IsEmpty || beta == 0)
        {
            y.Clear();
            return;
        }

        if ((long)(m - 1) * cRowStride + (long)(n - 1) * cColStride >= c.Length)
        {
            throw new ArgumentException("The bias is smaller than its strides require.");
        }

        for (int i = 0; i < m; i++)
        {
            Span<float> row = y.Slice(i * n, n);
            ReadOnlySpan<float> cRow = c.Slice(i * cRowStride);
            if (cColStride == 0)
            {
                row.Fill(beta * cRow[0]);
            }
            else if (cColStride == 1)
            {
                Scale(cRow.Slice(0, n), beta, row);
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    row[j] = beta * cRow[j * cColStride];
                }
            }
        }
    }

    private static void Scale(ReadOnlySpan<float> x, float factor, Span<float> y)
    {
        int i = 0;
        var f = Vector256.Create(factor);
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            (Vector256.Create(x.Slice(i, Vector256<float>.Count)) * f).CopyTo(y.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            y[i] = factor * x[i];
        }
    }

    /// <summary>Copies <c>op(b)[p0 .. p0+kc, j0 .. j0+nr]</c> into <paramref name="packed"/> as kc rows of NR, zero-padding columns past nr.</summary>
    private static void PackB(ReadOnlySpan<float> b, bool transB, int n, int k, int p0, int kc, int j0, int nr, Span<float> packed)
    {
        if (nr < NR)
        {
            packed.Slice(0, kc * NR).Clear();
        }

        if (!transB)
        {
            for (int p = 0; p < kc; p++)
            {
                b.Slice((p0 + p) * n + j0, nr).CopyTo(packed.Slice(p * NR));
            }

            return;
        }

        // b is [n, k]: walk each source row once, scattering it down one packed column.
        for (int j = 0; j < nr; j++)
        {
            ReadOnlySpan<float> row = b.Slice((j0 + j) * k + p0, kc);
            for (int p = 0; p < kc; p++)
            {
                packed[p * NR + j] = row[p];
            }
        }
    }

    /// <summary>y[0..4, 0..nr] += alpha · a[0..4, 0..kc] · packed[0..kc, 0..NR].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4(ref float a, int aRowStep, int aDepthStep, ref float packed, int kc, ref float y, int ldy, int nr, float alpha)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        ref float a1 = ref Unsafe.Add(ref a, aRowStep);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRowStep);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRowStep);
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.LoadUnsafe(ref packed);
            Vector256<float> b1 = Vector256.LoadUnsafe(ref packed, 8);
            Vector256<float> x = Vector256.Create(a);
            c00 = Vector256.MultiplyAddEstimate(x, b0, c00);
            c01 = Vector256.MultiplyAddEstimate(x, b1, c01);
            x = Vector256.Create(a1);
            c10 = Vector256.MultiplyAddEstimate(x, b0, c10);
            c11 = Vector256.MultiplyAddEstimate(x, b1, c11);
            x = Vector256.Create(a2);
            c20 = Vector256.MultiplyAddEstimate(x, b0, c20);
            c21 = Vector256.MultiplyAddEstimate(x, b1, c21);
            x = Vector256.Create(a3);
            c30 = Vector256.MultiplyAddEstimate(x, b0, c30);
            c31 = Vector256.MultiplyAddEstimate(x, b1, c31);
            packed = ref Unsafe.Add(ref packed, NR);
            a = ref Unsafe.Add(ref a, aDepthStep);
            a1 = ref Unsafe.Add(ref a1, aDepthStep);
            a2 = ref Unsafe.Add(ref a2, aDepthStep);
            a3 = ref Unsafe.Add(ref a3, aDepthStep);
        }

        Store(ref y, c00, c01, nr, alpha);
        Store(ref Unsafe.Add(ref y, ldy), c10, c11, nr, alpha);
        Store(ref Unsafe.Add(ref y, 2 * ldy), c20, c21, nr, alpha);
        Store(ref Unsafe.Add(ref y, 3 * ldy), c30, c31, nr, alpha);
    }

    /// <summary>y[0, 0..nr] += alpha · a[0, 0..kc] · packed[0..kc, 0..NR].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1(ref float a, int aDepthStep, ref float packed, int kc, ref float y, int nr, float alpha)
    {
        Vector256<float> c0 = default, c1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> x = Vector256.Create(a);
            c0 = Vector256.MultiplyAddEstimate(x, Vector256.LoadUnsafe(ref packed), c0);
            c1 = Vector256.MultiplyAddEstimate(x, Vector256.LoadUnsafe(ref packed, 8), c1);
            packed = ref Unsafe.Add(ref packed, NR);
            a = ref Unsafe.Add(ref a, aDepthStep);
        }

        Store(ref y, c0, c1, nr, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float y, Vector256<float> lo, Vector256<float> hi, int nr, float alpha)
    {
        var scale = Vector256.Create(alpha);
        lo *= scale;
        hi *= scale;
        if (nr == NR)
        {
            (Vector256.LoadUnsafe(ref y) + lo).StoreUnsafe(ref y);
            (Vector256.LoadUnsafe(ref y, 8) + hi).StoreUnsafe(ref y, 8);
            return;
        }

        // A ragged last strip: the padded columns hold zeros and are not written back.
        Span<float> tile = stackalloc float[NR];
        lo.CopyTo(tile);
        hi.CopyTo(tile.Slice(8));
        for (int j = 0; j < nr; j++)
        {
            Unsafe.Add(ref y, j) += tile[j];
        }
    }
}
