using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// One-hot encoding: a new axis of length <c>depth</c>, holding the "on" value at each index's position
/// and the "off" value elsewhere. Negative indices count from the end; indices outside
/// <c>[-depth, depth)</c> give an all-off row, as ONNX specifies.
/// </summary>
public static class OneHot
{
    /// <summary>Encodes <paramref name="indices"/>, viewed as <c>[outer, inner]</c>, into <c>[outer, depth, inner]</c>.</summary>
    /// <typeparam name="T">Element type of the values; only copied.</typeparam>
    /// <typeparam name="TIndex">Numeric type of the indices (floating-point indices are truncated).</typeparam>
    /// <param name="indices">The indices.</param>
    /// <param name="values">Two elements: off, then on.</param>
    /// <param name="y">Output, <c>indices.Length · depth</c> elements.</param>
    /// <param name="depth">Length of the new axis.</param>
    /// <param name="inner">Product of the index dimensions after the new axis.</param>
    public static void Run<T, TIndex>(ReadOnlySpan<TIndex> indices, ReadOnlySpan<T> values, Span<T> y, int depth, int inner)
        where T : unmanaged
        where TIndex : unmanaged, INumberBase<TIndex>
    {
        if (values.Length != 2 || depth < 0 || inner <= 0 || indices.Length % inner != 0 || (long)indices.Length * depth != y.Length)
        {
            throw new ArgumentException($"OneHot sizes do not match: {indices.Length} indices, depth {depth}, inner {inner}, output {y.Length}, {values.Length} values.");
        }

        y.Fill(values[0]);
        for (int i = 0; i < indices.Length; i++)
        {
            long index = long.CreateTruncating(indices[i]);
            if (index < 0)
            {
                index += depth;
            }

            if (index >= 0 && index < depth)
            {
                int outer = i / inner, position = i % inner;
                y[(int)(((long)outer * depth + index) * inner + position)] = values[1];
            }
        }
    }
}
