using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Elementwise comparisons.</summary>
public enum CompareOp
{
    /// <summary><c>a == b</c> (false when either is NaN)</summary>
    Equal,
    /// <summary><c>a &lt; b</c></summary>
    Less,
    /// <summary><c>a &lt;= b</c></summary>
    LessOrEqual,
    /// <summary><c>a &gt; b</c></summary>
    Greater,
    /// <summary><c>a &gt;= b</c></summary>
    GreaterOrEqual,
}

/// <summary>Compares two tensors elementwise with NumPy broadcasting; the result is <c>bool</c>.</summary>
public static class Compare
{
    /// <summary>Computes <c>y = op(a, b)</c>.</summary>
    /// <typeparam name="T">Any numeric element type (<see cref="Logical"/> compares <c>bool</c> tensors).</typeparam>
    /// <param name="op">The comparison.</param>
    /// <param name="a">First operand.</param>
    /// <param name="b">Second operand.</param>
    /// <param name="y">Result, laid out densely in <paramref name="shape"/>.</param>
    /// <param name="shape">Collapsed output shape (at least one dimension).</param>
    /// <param name="aStrides">Element stride of <paramref name="a"/> per dimension of <paramref name="shape"/>.</param>
    /// <param name="bStrides">Element stride of <paramref name="b"/> per dimension of <paramref name="shape"/>.</param>
    public static void Run<T>(CompareOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<bool> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case CompareOp.Equal:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(EqualTo<T>));
                break;
            case CompareOp.Less:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(LessThan<T>));
                break;
            case CompareOp.LessOrEqual:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(LessThanOrEqual<T>));
                break;
            case CompareOp.Greater:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(GreaterThan<T>));
                break;
            case CompareOp.GreaterOrEqual:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(GreaterThanOrEqual<T>));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private readonly struct EqualTo<T> : IElementFunction<T, T, bool>
        where T : INumber<T>
    {
        public bool Invoke(T a, T b) => a == b;
    }

    private readonly struct LessThan<T> : IElementFunction<T, T, bool>
        where T : INumber<T>
    {
        public bool Invoke(T a, T b) => a < b;
    }

    private readonly struct LessThanOrEqual<T> : IElementFunction<T, T, bool>
        where T : INumber<T>
    {
        public bool Invoke(T a, T b) => a <= b;
    }

    private readonly struct GreaterThan<T> : IElementFunction<T, T, bool>
        where T : INumber<T>
    {
        public bool Invoke(T a, T b) => a > b;
    }

    private readonly struct GreaterThanOrEqual<T> : IElementFunction<T, T, bool>
        where T : INumber<T>
    {
        public bool Invoke(T a, T b) => a >= b;
    }
}
