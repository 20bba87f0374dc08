namespace ModelSdk.Runtime.Kernels;

/// <summary>A 2-D tensor of zeros with ones on diagonal <c>k</c> (<c>y[i, i + k] = 1</c>).</summary>
public static class EyeLike
{
    /// <summary>Fills <paramref name="y"/>, a matrix of <paramref name="columns"/> columns.</summary>
    /// <typeparam name="T">Element type; the one is given, the zeros are all-zero bits.</typeparam>
    /// <param name="one">The value one in the element type (one element).</param>
    /// <param name="y">Output, dense, rows × <paramref name="columns"/>.</param>
    /// <param name="columns">Columns of the matrix.</param>
    /// <param name="k">Diagonal offset: positive above the main diagonal, negative below.</param>
    public static void Run<T>(ReadOnlySpan<T> one, Span<T> y, int columns, int k)
        where T : unmanaged
    {
        if (one.Length != 1 || columns < 0 || (columns == 0 ? y.Length != 0 : y.Length % columns != 0))
        {
            throw new ArgumentException($"EyeLike needs one value and an output of whole rows of {columns}, not {y.Length} elements.");
        }

        y.Clear();
        for (int i = 0, rows = columns == 0 ? 0 : y.Length / columns; i < rows; i++)
        {
            long j = (long)i + k;
            if (j >= 0 && j < columns)
            {
                y[i * columns + (int)j] = one[0];
            }
        }
    }
}
