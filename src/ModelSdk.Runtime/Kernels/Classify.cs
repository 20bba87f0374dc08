using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Tests of one element's class.</summary>
public enum ClassifyOp
{
    /// <summary>NaN.</summary>
    IsNaN,
    /// <summary>Positive or negative infinity.</summary>
    IsInf,
    /// <summary>Positive infinity.</summary>
    IsPositiveInf,
    /// <summary>Negative infinity.</summary>
    IsNegativeInf,
    /// <summary>Always false (IsInf detecting neither sign).</summary>
    None,
}

/// <summary>Classifies each element: <c>y[i] = op(x[i])</c>, a <c>bool</c>.</summary>
public static class Classify
{
    /// <summary>Runs <paramref name="op"/> over <paramref name="x"/>.</summary>
    /// <typeparam name="T">A floating-point type (integers are never NaN or infinite).</typeparam>
    public static void Run<T>(ClassifyOp op, ReadOnlySpan<T> x, Span<bool> y)
        where T : unmanaged, INumber<T>
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Input and output lengths differ.");
        }

        for (int i = 0; i < x.Length; i++)
        {
            y[i] = op switch
            {
                ClassifyOp.IsNaN => T.IsNaN(x[i]),
                ClassifyOp.IsInf => T.IsInfinity(x[i]),
                ClassifyOp.IsPositiveInf => T.IsPositiveInfinity(x[i]),
                ClassifyOp.IsNegativeInf => T.IsNegativeInfinity(x[i]),
                ClassifyOp.None => false,
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
        }
    }
}
