using System.Numerics;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// <c>log(sum(exp(x)))</c> over some axes, laid out as for <see cref="Reduce"/>. Numerically stable: each
/// reduced set is shifted by its maximum, which a <see cref="Reduce"/> step with <see cref="ReduceOp.Max"/>
/// computes first, so exponentials never overflow and the largest term is exactly 1.
/// </summary>
public static class LogSumExp
{
    /// <summary>Computes <c>y = m + log(sum(exp(x - m)))</c> per reduced set, with <c>m</c> its maximum (0 where that is infinite).</summary>
    /// <typeparam name="T"><c>float</c> or <c>double</c>.</typeparam>
    /// <param name="x">The input, dense in <paramref name="shape"/>.</param>
    /// <param name="max">The maximum of each reduced set, shaped as <paramref name="y"/>.</param>
    /// <param name="y">The output, dense over the kept axes; must not overlap <paramref name="x"/> or <paramref name="max"/>.</param>
    /// <param name="shape">The (collapsed) input shape, at least one dimension.</param>
    /// <param name="yStrides">Per dimension of <paramref name="shape"/>: its element stride in <paramref name="y"/> when kept, 0 when reduced.</param>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> max, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> yStrides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Reduce.Check(x.Length, y.Length, shape, yStrides);
        if (max.Length != y.Length)
        {
            throw new ArgumentException($"LogSumExp got {max.Length} maxima for {y.Length} outputs.");
        }

        Reduce.Walk<T, AddExponentials<T>>(x, y, shape, yStrides, max);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = Shift(max[i]) + T.Log(y[i]);
        }
    }

    // An infinite maximum cannot be subtracted (inf - inf is NaN); without the shift an all minus-infinity
    // set sums to 0 (log: minus infinity) and a set holding plus infinity sums to infinity, as they should.
    private static T Shift<T>(T max)
        where T : IFloatingPointIeee754<T>
        => T.IsFinite(max) ? max : T.Zero;

    private readonly struct AddExponentials<T> : IReduction<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Identity => T.Zero;

        public static T Map(T x, T shift) => T.Exp(x - Shift(shift));

        public static T Combine(T a, T b) => a + b;

        public static Vector256<T> Map(Vector256<T> x, Vector256<T> shift)
        {
            // x - x is 0 exactly for finite x and NaN otherwise.
            Vector256<T> finite = Vector256.Equals(shift - shift, Vector256<T>.Zero);
            Vector256<T> d = x - Vector256.ConditionalSelect(finite, shift, Vector256<T>.Zero);
            if (typeof(T) == typeof(float))
            {
                return Vector256.Exp(d.AsSingle()).As<float, T>();
            }

            if (typeof(T) == typeof(double))
            {
                return Vector256.Exp(d.AsDouble()).As<double, T>();
            }

            throw new NotSupportedException($"LogSumExp has no vector form for {typeof(T).Name}.");
        }

        public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    }
}
