namespace ModelSdk.Runtime.Kernels;

/// <summary>Elementwise boolean operations.</summary>
public enum LogicalOp
{
    /// <summary><c>a &amp;&amp; b</c></summary>
    And,
    /// <summary><c>a || b</c></summary>
    Or,
    /// <summary><c>a != b</c></summary>
    Xor,
    /// <summary><c>a == b</c> (ONNX Equal on bool tensors)</summary>
    Equal,
}

/// <summary>Boolean operations on two tensors with NumPy broadcasting (ONNX Not is Xor with true; Equal of bool tensors is here too).</summary>
public static class Logical
{
    /// <summary>Computes <c>y = op(a, b)</c>.</summary>
    /// <param name="op">The operation.</param>
    /// <param name="a">First operand.</param>
    /// <param name="b">Second operand.</param>
    /// <param name="y">Result, laid out densely in <paramref name="shape"/>.</param>
    /// <param name="shape">Collapsed output shape (at least one dimension).</param>
    /// <param name="aStrides">Element stride of <paramref name="a"/> per dimension of <paramref name="shape"/>.</param>
    /// <param name="bStrides">Element stride of <paramref name="b"/> per dimension of <paramref name="shape"/>.</param>
    public static void Run(LogicalOp op, ReadOnlySpan<bool> a, ReadOnlySpan<bool> b, Span<bool> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        switch (op)
        {
            case LogicalOp.And:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(AndFunction));
                break;
            case LogicalOp.Or:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(OrFunction));
                break;
            case LogicalOp.Xor:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(XorFunction));
                break;
            case LogicalOp.Equal:
                Broadcast.Zip(a, b, y, shape, aStrides, bStrides, default(EqualFunction));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private readonly struct AndFunction : IElementFunction<bool, bool, bool>
    {
        public bool Invoke(bool a, bool b) => a && b;
    }

    private readonly struct OrFunction : IElementFunction<bool, bool, bool>
    {
        public bool Invoke(bool a, bool b) => a || b;
    }

    private readonly struct XorFunction : IElementFunction<bool, bool, bool>
    {
        public bool Invoke(bool a, bool b) => a != b;
    }

    private readonly struct EqualFunction : IElementFunction<bool, bool, bool>
    {
        public bool Invoke(bool a, bool b) => a == b;
    }
}
