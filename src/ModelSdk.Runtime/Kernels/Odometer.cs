namespace ModelSdk.Runtime.Kernels;

/// <summary>The outer loops of a strided loop nest, walked in row-major order with one operand's running offset.</summary>
internal static class Odometer
{
    /// <summary>
    /// Most dimensions a kernel loop nest takes: the index lives on the stack, and the compiler collapses
    /// shapes far below this (a tensor of at most 2^31 elements has at most 31 dimensions larger than 1).
    /// </summary>
    public const int MaxRank = 64;

    /// <summary>
    /// Moves <paramref name="index"/> (over the first <c>index.Length</c> dimensions of <paramref name="shape"/>, last fastest)
    /// one position on, and <paramref name="offset"/> with it along <paramref name="strides"/>.
    /// </summary>
    public static void Advance(Span<int> index, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, ref int offset)
    {
        for (int d = index.Length - 1; d >= 0; d--)
        {
            offset += strides[d];
            if (++index[d] < shape[d])
            {
                return;
            }

            offset -= strides[d] * shape[d];
            index[d] = 0;
        }
    }

    /// <summary>As <see cref="Advance(Span{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, ref int)"/>, for two operands walked together.</summary>
    public static void Advance(Span<int> index, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ref int aOffset, ReadOnlySpan<int> bStrides, ref int bOffset)
    {
        for (int d = index.Length - 1; d >= 0; d--)
        {
            aOffset += aStrides[d];
            bOffset += bStrides[d];
            if (++index[d] < shape[d])
            {
                return;
            }

            aOffset -= aStrides[d] * shape[d];
            bOffset -= bStrides[d] * shape[d];
            index[d] = 0;
        }
    }

    /// <summary>As <see cref="Advance(Span{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, ref int)"/>, for three operands walked together.</summary>
    public static void Advance(Span<int> index, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ref int aOffset, ReadOnlySpan<int> bStrides, ref int bOffset, ReadOnlySpan<int> cStrides, ref int cOffset)
    {
        for (int d = index.Length - 1; d >= 0; d--)
        {
            aOffset += aStrides[d];
            bOffset += bStrides[d];
            cOffset += cStrides[d];
            if (++index[d] < shape[d])
            {
                return;
            }

            aOffset -= aStrides[d] * shape[d];
            bOffset -= bStrides[d] * shape[d];
            cOffset -= cStrides[d] * shape[d];
            index[d] = 0;
        }
    }
}
