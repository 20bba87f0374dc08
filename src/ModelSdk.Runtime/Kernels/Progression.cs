using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>An arithmetic progression (ONNX Range): <c>y[i] = start + i · delta</c> (the compiler fixes the count).</summary>
public static class Progression
{
    /// <summary>Fills <paramref name="y"/> with the progression.</summary>
    /// <typeparam name="T">A numeric element type.</typeparam>
    /// <param name="start">The first value (one element).</param>
    /// <param name="delta">The step (one element).</param>
    /// <param name="y">Output.</param>
    public static void Run<T>(ReadOnlySpan<T> start, ReadOnlySpan<T> delta, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        if (start.Length != 1 || delta.Length != 1)
        {
            throw new ArgumentException("Range needs one start and one delta.");
        }

        // Each value from the start rather than by repeated addition, so rounding does not accumulate.
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = start[0] + T.CreateTruncating(i) * delta[0];
        }
    }
}
