namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Permutes the axes of a dense tensor. The compiler drops size-1 axes and merges input axes that
/// stay adjacent in the output, so the kernel sees the fewest dimensions the permutation allows;
/// it walks the output in order and reads the input through per-dimension strides (the walk of
/// <see cref="StridedCopy"/>, with every input element read exactly once).
/// </summary>
public static class Transpose
{
    /// <summary>Writes <paramref name="x"/> with permuted axes into <paramref name="y"/>.</summary>
    /// <typeparam name="T">Element type; only copied, never interpreted.</typeparam>
    /// <param name="x">Input, dense.</param>
    /// <param name="y">Output, dense in <paramref name="shape"/>; must not overlap <paramref name="x"/>.</param>
    /// <param name="shape">The (collapsed) output shape, at least one dimension.</param>
    /// <param name="xStrides">Element stride of <paramref name="x"/> along each dimension of <paramref name="shape"/>.</param>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides)
        where T : unmanaged
    {
        long count = StridedCopy.Count(shape, xStrides);
        if (count != x.Length || count != y.Length)
        {
            throw new ArgumentException($"Transpose of {count} elements got an input of {x.Length} and an output of {y.Length}.");
        }

        if (count == 0)
        {
            return;
        }

        StridedCopy.Walk(x, 0, y, shape, xStrides);
    }
}
