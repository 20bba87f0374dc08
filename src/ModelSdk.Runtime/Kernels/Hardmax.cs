using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// One-hot of the first largest element along one axis of a tensor viewed as <c>[outer, axisLength, inner]</c>.
/// </summary>
public static class Hardmax
{
    /// <summary><c>y[o, j, i]</c> = 1 where <c>j</c> is the first position of the largest element of <c>x[o, :, i]</c>, 0 elsewhere.</summary>
    /// <typeparam name="T">Any numeric element type.</typeparam>
    /// <param name="x">The input, dense.</param>
    /// <param name="y">The output, same shape; must not overlap <paramref name="x"/>.</param>
    /// <param name="scratch">Room for the <c>outer * inner</c> winning positions.</param>
    /// <param name="axisLength">Length of the axis (for opset &lt; 13, the product of the trailing dimensions).</param>
    /// <param name="inner">Product of the dimensions after the axis (1 when it is the last).</param>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, Span<long> scratch, int axisLength, int inner)
        where T : unmanaged, INumber<T>
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"Hardmax got an input of {x.Length} and an output of {y.Length}.");
        }

        ArgReduce.Run(x, scratch, axisLength, inner, min: false, selectLast: false);
        y.Clear();
        int block = axisLength * inner;
        for (int p = 0; p < scratch.Length; p++)
        {
            int o = p / inner, i = p - o * inner;
            y[o * block + (int)scratch[p] * inner + i] = T.One;
        }
    }
}
