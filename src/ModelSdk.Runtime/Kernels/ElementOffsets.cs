using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The data positions that GatherElements reads and ScatterElements writes: for every position of the
/// indices tensor, the same position in the data with the coordinate along the axis replaced by the index.
/// </summary>
public static class ElementOffsets
{
    /// <summary>Computes one data offset per index.</summary>
    /// <typeparam name="TIndex"><c>int</c> or <c>long</c>.</typeparam>
    /// <param name="indices">Positions along the axis, in <c>[-axisLength, axisLength)</c>, dense in <paramref name="shape"/>.</param>
    /// <param name="offsets">Output: the data offset of each index.</param>
    /// <param name="shape">Shape of the indices, at least one dimension.</param>
    /// <param name="dataStrides">Element strides of the data along each dimension, with 0 along the axis.</param>
    /// <param name="axisLength">Data length along the axis.</param>
    /// <param name="axisStride">Data stride along the axis.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside <c>[-axisLength, axisLength)</c>.</exception>
    public static void Run<TIndex>(ReadOnlySpan<TIndex> indices, Span<int> offsets, ReadOnlySpan<int> shape, ReadOnlySpan<int> dataStrides, int axisLength, int axisStride)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        int rank = shape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || dataStrides.Length != rank || indices.Length != offsets.Length || axisLength < 0)
        {
            throw new ArgumentException($"ElementOffsets needs {indices.Length} offsets and strides for each of the 1 to {Odometer.MaxRank} dimensions.");
        }

        Span<int> position = stackalloc int[rank];
        position.Clear();
        int baseOffset = 0;
        for (int i = 0; i < indices.Length; i++)
        {
            offsets[i] = baseOffset + IndexCheck.Wrap(indices[i], axisLength, i) * axisStride;
            Odometer.Advance(position, shape, dataStrides, ref baseOffset);
        }
    }
}

/// <summary>Validation of run-time indices shared by the indexing kernels.</summary>
internal static class IndexCheck
{
    /// <summary>The index as a position in <c>[0, length)</c>: negative values count from the end; anything else throws.</summary>
    public static int Wrap<TIndex>(TIndex value, int length, int position)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        long index = long.CreateTruncating(value);
        if (index < 0)
        {
            index += length;
        }

        if ((ulong)index >= (ulong)length)
        {
            throw new ArgumentOutOfRangeException(nameof(value), $"Index {value} (position {position}) is outside [-{length}, {length - 1}].");
        }

        return (int)index;
    }
}
