using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Scaled dot-product attention (float32), <c>y = softmax(scale · q · kᵀ + mask) · v</c> over the
/// last axis, for a batch of heads whose batch dimensions broadcast like MatMul's. Each query row is
/// one pass: its scores go into a scratch row of <c>keys</c> elements, are normalised there, and
/// weight the value rows straight into the output; no <c>[queries, keys]</c> matrix is ever stored.
/// </summary>
public static class Attention
{
    /// <summary>Computes every head of the batch.</summary>
    /// <param name="q">Queries, <c>[queries, depth]</c> per head.</param>
    /// <param name="k">Keys, <c>[keys, depth]</c> per head, or <c>[depth, keys]</c> when <paramref name="keyTransposed"/>.</param>
    /// <param name="v">Values, <c>[keys, valueDepth]</c> per head.</param>
    /// <param name="mask">Optional additive mask (empty when absent), element (i, j) of a head at its batch offset + <c>i · maskRowStride + j · maskColStride</c>.</param>
    /// <param name="y">Output, <c>[batch…, queries, valueDepth]</c> dense.</param>
    /// <param name="scores">Scratch of at least <paramref name="keys"/> elements.</param>
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
        if (rank == 0 || rank > Odometer.MaxRank || qBatchStrides.Length != rank || kBatchStrides.Length != rank
            || vBatchStrides.Length != rank || maskBatchStrides.Length != rank
            || queries < 0 || keys < 0 || depth < 0 || valueDepth < 0 || scores.Length < keys)
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

        Span<float> row = scores.Slice(0, keys);
        // Two odometers over the same batch shape carry the four operands' offsets.
        Span<int> index = stackalloc int[2 * rank];
        index.Clear();
        int qOff = 0, kOff = 0, vOff = 0, mOff = 0;
        for (int h = 0; h < batch; h++)
        {
            ReadOnlySpan<float> qh = q.Slice(qOff, queries * depth);
            ReadOnlySpan<float> kh = k.Slice(kOff, keys * depth);
            ReadOnlySpan<float> vh = v.Slice(vOff, keys * valueDepth);
            for (int i = 0; i < queries; i++)
            {
                ReadOnlySpan<float> query = qh.Slice(i * depth, depth);
                if (keyTransposed)
                {
                    row.Clear();
                    for (int d = 0; d < depth; d++)
                    {
                        FloatSpans.MultiplyAdd(kh.Slice(d * keys, keys), query[d], row);
                    }
                }
                else
                {
                    for (int j = 0; j < keys; j++)
                    {
                        row[j] = FloatSpans.Dot(query, kh.Slice(j * depth, depth));
                    }
                }

                ScaleAndMask(row, scale, mask, mOff + i * maskRowStride, maskColStride);
                Kernels.Softmax.Run(row, row, keys, 1, log: false);
                Span<float> output = y.Slice((h * queries + i) * valueDepth, valueDepth);
                output.Clear();
                for (int j = 0; j < keys; j++)
                {
                    FloatSpans.MultiplyAdd(vh.Slice(j * valueDepth, valueDepth), row[j], output);
                }
            }

            Odometer.Advance(index.Slice(0, rank), batchShape, qBatchStrides, ref qOff, kBatchStrides, ref kOff);
            Odometer.Advance(index.Slice(rank), batchShape, vBatchStrides, ref vOff, maskBatchStrides, ref mOff);
        }
    }

    private static void ScaleAndMask(Span<float> row, float scale, ReadOnlySpan<float> mask, int offset, int stride)
    {
        if (mask.IsEmpty)
        {
            for (int j = 0; j < row.Length; j++)
            {
                row[j] *= scale;
            }

            return;
        }

        if (stride == 1)
        {
            ReadOnlySpan<float> m = mask.Slice(offset, row.Length);
            int w = Vector256<float>.Count;
            int j = 0;
            var s = Vector256.Create(scale);
            for (; j <= row.Length - w; j += w)
            {
                Vector256.MultiplyAddEstimate(Vector256.Create(row.Slice(j, w)), s, Vector256.Create(m.Slice(j, w))).CopyTo(row.Slice(j));
            }

            for (; j < row.Length; j++)
            {
                row[j] = row[j] * scale + m[j];
            }

            return;
        }

        for (int j = 0; j < row.Length; j++)
        {
            row[j] = row[j] * scale + mask[offset + j * stride];
        }
    }
}
