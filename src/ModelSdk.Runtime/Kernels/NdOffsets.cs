using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The data positions that GatherND reads and ScatterND writes: each tuple of the last index axis
/// addresses a slice of the data by its leading coordinates, within the tuple's batch.
/// </summary>
public static class NdOffsets
{
    /// <summary>Computes one data offset per index tuple.</summary>
    /// <typeparam name="TIndex"><c>int</c> or <c>long</c>.</typeparam>
    /// <param name="indices">Tuples of <c>dims.Length</c> coordinates; negative ones count from the end.</param>
    /// <param name="offsets">Output: the data offset of each tuple.</param>
    /// <param name="dims">Data lengths along the dimensions a tuple addresses.</param>
    /// <param name="strides">Data strides along those dimensions.</param>
    /// <param name="batchStride">Data elements per batch (0 without batch dimensions).</param>
    /// <param name="tuplesPerBatch">Tuples in each batch.</param>
    /// <exception cref="ArgumentOutOfRangeException">A coordinate is out of range.</exception>
    public static void Run<TIndex>(ReadOnlySpan<TIndex> indices, Span<int> offsets, ReadOnlySpan<int> dims, ReadOnlySpan<int> strides, int batchStride, int tuplesPerBatch)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        int k = dims.Length;
        if (strides.Length != k || tuplesPerBatch <= 0 || (long)offsets.Length * k != indices.Length || offsets.Length % tuplesPerBatch != 0)
        {
            throw new ArgumentException($"NdOffsets of {indices.Length} coordinates does not make {offsets.Length} tuples of {k} in batches of {tuplesPerBatch}.");
        }

        for (int t = 0; t < offsets.Length; t++)
        {
            int offset = t / tuplesPerBatch * batchStride;
            for (int j = 0; j < k; j++)
            {
                offset += IndexCheck.Wrap(indices[t * k + j], dims[j], t * k + j) * strides[j];
            }

            offsets[t] = offset;
        }
    }
}
