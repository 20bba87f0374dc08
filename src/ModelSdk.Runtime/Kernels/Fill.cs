namespace ModelSdk.Runtime.Kernels;

/// <summary>Sets every element of a tensor to one value (ConstantOfShape).</summary>
public static class Fill
{
    /// <summary><c>y[i] = value[0]</c> for every <c>i</c>.</summary>
    /// <typeparam name="T">Element type; only copied.</typeparam>
    /// <param name="value">The value (one element).</param>
    /// <param name="y">Output.</param>
    public static void Run<T>(ReadOnlySpan<T> value, Span<T> y)
        where T : unmanaged
    {
        if (value.Length != 1)
        {
            throw new ArgumentException($"Fill needs one value, not {value.Length}.");
        }

        y.Fill(value[0]);
    }
}
