namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Scaled dot-product attention (float32), <c>y = softmax(scale · q · kᵀ + mask) · v</c> over the
/// last axis, for a batch of heads whose batch dimensions broadcast like MatMul's. Query rows go
/// through in blocks of <see cref="BlockRows"/>: the block's scores (scaled, masked by the GEMM's bias
/// term) fill a scratch of <c>BlockRows × keys</c>, are normalised in place, and weight the value rows
/// straight into the output. The <c>[queries, keys]</c> matrices of the decomposition are never stored.
/// </summary>
public static class Attention
{
    /// <summary>Query rows per block: enough to amortise the GEMM's packing of K and V, few enough to keep the scratch small.</summary>
    public const int BlockRows = 32;

    /// <summary>Computes every head of the batch.</summary>
    /// <param name="q">Queries, <c>[queries, depth]</c> per head.</param>
    /// <param name="k">Keys, <c>[keys, depth]</c> per head, or <c>[depth, keys]</c> when <paramref name="keyTransposed"/>.</param>
    /// <param name="v">Values, <c>[keys, valueDepth]</c> per head.</param>
    /// <param name="mask">Optional additive mask (empty when absent), element (i, j) of a head at its batch offset + <c>i · maskRowStride + j · maskColStride</c>.</param>
    /// <param name="y">Output, <c>[batch…, queries, valueDepth]</c> dense.</param>
    /// <param name="scores">Scratch of at least <c>min(queries, BlockRows) · keys</c> elements.</param>
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
    public static void Run(
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> mask, Span<float> y, Span<float> scores,
        int queries, int keys, int depth, int valueDepth, bool keyTransposed, float scale,
        ReadOnlySpan<int> batchShape, ReadOnlySpan<int> qBatchStrides, ReadOnlySpan<int> kBatchStrides, ReadOnlySpan<int> vBatchStrides,
        ReadOnlySpan<int> maskBatchStrides, int maskRowStride, int maskColStride)
    {
        int rank = batchShape.Length;
        int block = Math.Min(queries, BlockRows);
        if (rank == 0 || rank > Odometer.MaxRank || qBatchStrides.Length != rank || kBatchStrides.Length != rank
            || vBatchStrides.Length != rank || maskBatchStrides.Length != rank
            || queries < 0 || keys < 0 || depth < 0 || valueDepth < 0 || scores.Length < (long)block * keys)
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

        // Two odometers over the same batch shape carry the four operands' offsets.
        Span<int> index = stackalloc int[2 * rank];
        index.Clear();
        int qOff = 0, kOff = 0, vOff = 0, mOff = 0;
        for (int h = 0; h < batch; h++)
        {
            ReadOnlySpan<float> kh = k.Slice(kOff, keys * depth);
            ReadOnlySpan<float> vh = v.Slice(vOff, keys * valueDepth);
            for (int i0 = 0; i0 < queries; i0 += block)
            {
                int rows = Math.Min(block, queries - i0);
                Span<float> s = scores.Slice(0, rows * keys);
                ReadOnlySpan<float> m = mask.IsEmpty ? default : mask.Slice(mOff + i0 * maskRowStride);
                Gemm.Multiply(q.Slice(qOff + i0 * depth, rows * depth), false, kh, !keyTransposed, s, rows, keys, depth, scale, m, maskRowStride, maskColStride, 1);
                Softmax.Run(s, s, keys, 1, log: false);
                Gemm.Multiply(s, false, vh, false, y.Slice((h * queries + i0) * valueDepth, rows * valueDepth), rows, valueDepth, keys, 1, default, 0, 0, 0);
            }

            Odometer.Advance(index.Slice(0, rank), batchShape, qBatchStrides, ref qOff, kBatchStrides, ref kOff);
            Odometer.Advance(index.Slice(rank), batchShape, vBatchStrides, ref vOff, maskBatchStrides, ref mOff);
        }
    }
}
