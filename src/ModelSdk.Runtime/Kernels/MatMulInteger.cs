using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Batched 8-bit matrix product with int32 results, <c>y = (a − aZeroPoint) · (b − bZeroPoint)</c>
/// (MatMulInteger, and the integer part of QLinearMatMul). Batch dimensions broadcast as in
/// <see cref="Gemm"/>; matrices are dense and row-major.
/// </summary>
public static class MatMulInteger
{
    /// <summary>Computes every matrix of the batch.</summary>
    /// <typeparam name="TA">int8 or uint8.</typeparam>
    /// <typeparam name="TB">int8 or uint8.</typeparam>
    /// <param name="a">Left operands, <c>[m, k]</c> each.</param>
    /// <param name="b">Right operands, <c>[k, n]</c> each.</param>
    /// <param name="aZeroPoint">Zero point of <paramref name="a"/>: empty (0), one, or one per row (the same for every matrix).</param>
    /// <param name="bZeroPoint">Zero point of <paramref name="b"/>: empty (0), one, or one per column (the same for every matrix).</param>
    /// <param name="y">Results, <c>[batch…, m, n]</c>.</param>
    /// <param name="rowSums">Scratch of <paramref name="m"/> elements.</param>
    /// <param name="m">Rows of each result.</param>
    /// <param name="n">Columns of each result.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="batchShape">Collapsed batch shape (<c>[1]</c> for a single product).</param>
    /// <param name="aBatchStrides">Element stride of <paramref name="a"/> per batch dimension (0 where it is broadcast).</param>
    /// <param name="bBatchStrides">Element stride of <paramref name="b"/> per batch dimension (0 where it is broadcast).</param>
    public static void Run<TA, TB>(
        ReadOnlySpan<TA> a, ReadOnlySpan<TB> b, ReadOnlySpan<TA> aZeroPoint, ReadOnlySpan<TB> bZeroPoint, Span<int> y, Span<int> rowSums,
        int m, int n, int k, ReadOnlySpan<int> batchShape, ReadOnlySpan<int> aBatchStrides, ReadOnlySpan<int> bBatchStrides)
        where TA : unmanaged
        where TB : unmanaged
    {
        bool aSigned = IsSigned<TA>(), bSigned = IsSigned<TB>();
        (int batch, int matrix) = BatchLayout.Check(batchShape, aBatchStrides, bBatchStrides, m, n, k, y.Length);

        ReadOnlySpan<byte> ab = MemoryMarshal.AsBytes(a), bb = MemoryMarshal.AsBytes(b);
        Span<int> index = stackalloc int[batchShape.Length];
        int aOff = 0, bOff = 0;
        for (int i = 0; i < batch; i++)
        {
            IntegerGemm.Multiply(
                ab.Slice(aOff, m * k), aSigned, MemoryMarshal.AsBytes(aZeroPoint), bb.Slice(bOff, k * n), bSigned, MemoryMarshal.AsBytes(bZeroPoint),
                y.Slice(i * matrix, matrix), rowSums, m, n, k);
            Odometer.Advance(index, batchShape, aBatchStrides, ref aOff, bBatchStrides, ref bOff);
        }
    }

    /// <summary>Whether an 8-bit operand type is signed; anything else is a compiler error.</summary>
    internal static bool IsSigned<T>()
        => typeof(T) == typeof(sbyte) ? true
            : typeof(T) == typeof(byte) ? false
            : throw new NotSupportedException($"Integer matrix products take int8 or uint8, not {typeof(T).Name}.");
}
