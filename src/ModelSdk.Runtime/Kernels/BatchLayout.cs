namespace ModelSdk.Runtime.Kernels;

/// <summary>The batch of matrix products a GEMM-like kernel computes, checked once for every such kernel.</summary>
internal static class BatchLayout
{
    /// <summary>
    /// Validates a batch of <c>[m, n]</c> results over <paramref name="batchShape"/> with per-operand batch strides;
    /// returns the number of products and the elements of one result.
    /// </summary>
    public static (int Batch, int Matrix) Check(ReadOnlySpan<int> batchShape, ReadOnlySpan<int> aBatchStrides, ReadOnlySpan<int> bBatchStrides, int m, int n, int k, int outputLength)
    {
        int rank = batchShape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || aBatchStrides.Length != rank || bBatchStrides.Length != rank || m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentException("Invalid matrix dimensions or batch layout.");
        }

        int batch = 1;
        foreach (int d in batchShape)
        {
            batch = checked(batch * d);
        }

        int matrix = checked(m * n);
        if (outputLength != checked(batch * matrix))
        {
            throw new ArgumentException("The output length does not match the batch and matrix sizes.");
        }

        return (batch, matrix);
    }
}
