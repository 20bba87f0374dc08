namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The upper or lower triangle of each matrix in a batch: elements on the kept side of diagonal
/// <c>k</c> are copied, the others set to zero (all-zero bits, which is zero for every element type).
/// </summary>
public static class Trilu
{
    /// <summary>Keeps <c>j - i ≥ k</c> (<paramref name="upper"/>) or <c>j - i ≤ k</c> of every matrix.</summary>
    /// <typeparam name="T">Element type; only copied or zeroed.</typeparam>
    /// <param name="x">Input, a batch of <paramref name="rows"/> × <paramref name="columns"/> matrices.</param>
    /// <param name="k">The diagonal offset: one int64, or empty for 0 (it may be computed at run time).</param>
    /// <param name="y">Output, same shape as <paramref name="x"/>.</param>
    /// <param name="rows">Rows of each matrix.</param>
    /// <param name="columns">Columns of each matrix.</param>
    /// <param name="upper">Whether the upper triangle is kept.</param>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> k, Span<T> y, int rows, int columns, bool upper)
        where T : unmanaged
    {
        long matrix = (long)rows * columns;
        if (rows < 0 || columns < 0 || k.Length > 1 || x.Length != y.Length || (matrix == 0 ? x.Length != 0 : x.Length % matrix != 0))
        {
            throw new ArgumentException($"Trilu of {x.Length} elements does not split into {rows}×{columns} matrices, or k has {k.Length} elements.");
        }

        // Clamped so that adding a row index cannot overflow; beyond the matrix every value keeps the same rows.
        long diagonal = Math.Clamp(k.IsEmpty ? 0 : k[0], -(long)rows - 1, (long)columns + 1);
        for (int row = 0, count = x.Length / Math.Max(columns, 1); row < count && columns > 0; row++)
        {
            long i = row % rows;

            // The kept columns are [first, end): j ≥ i + k above the diagonal, j ≤ i + k below it.
            int first = upper ? (int)Math.Clamp(i + diagonal, 0, columns) : 0;
            int end = upper ? columns : (int)Math.Clamp(i + diagonal + 1, 0, columns);
            ReadOnlySpan<T> src = x.Slice(row * columns, columns);
            Span<T> dst = y.Slice(row * columns, columns);
            dst[..first].Clear();
            src[first..end].CopyTo(dst[first..end]);
            dst[end..].Clear();
        }
    }
}
