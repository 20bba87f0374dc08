namespace ModelSdk.Runtime.Kernels;

/// <summary>Copies a tensor, e.g. a graph output that is a view of an input or a weight.</summary>
public static class Copy
{
    /// <summary><c>y = x</c>; the lengths must match.</summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Input and output lengths differ.");
        }

        x.CopyTo(y);
    }
}
