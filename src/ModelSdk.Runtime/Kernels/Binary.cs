using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Elementwise functions of two tensors.</summary>
public enum BinaryOp
{
    /// <summary><c>a + b</c></summary>
    Add,
    /// <summary><c>a - b</c></summary>
    Sub,
    /// <summary><c>a * b</c></summary>
    Mul,
    /// <summary><c>a / b</c> (integer division truncates toward zero)</summary>
    Div,
    /// <summary><c>a ^ b</c></summary>
    Pow,
    /// <summary><c>max(a, b)</c> (NaN if either is NaN)</summary>
    Max,
    /// <summary><c>min(a, b)</c> (NaN if either is NaN)</summary>
    Min,
    /// <summary>Remainder with the sign of the divisor (Python's <c>%</c>; ONNX Mod with fmod=0).</summary>
    Mod,
    /// <summary>Remainder with the sign of the dividend (C's <c>fmod</c>; ONNX Mod with fmod=1).</summary>
    Fmod,
    /// <summary><c>a &lt; 0 ? a * b : a</c> (b is the slope)</summary>
    PRelu,
    /// <summary><c>a &lt;&lt; b</c> for unsigned integers; 0 when b is at least the bit width.</summary>
    BitShiftLeft,
    /// <summary><c>a &gt;&gt; b</c> for unsigned integers; 0 when b is at least the bit width.</summary>
    BitShiftRight,
}

/// <summary>
/// Elementwise binary kernel with NumPy broadcasting. The build collapses the output shape to as
/// few dimensions as possible and gives each operand's element strides per output dimension (0
/// where the operand is broadcast), so one loop nest serves every broadcast pattern.
/// </summary>
public static class Binary
{
    /// <summary>Computes <c>y = op(a, b)</c>.</summary>
    /// <typeparam name="T">Any numeric type (float32 vectorized for Add, Sub, Mul, Div, Max, Min and PRelu); the bit shifts take unsigned integers.</typeparam>
    /// <param name="op">The operation.</param>
    /// <param name="a">First operand.</param>
    /// <param name="b">Second operand.</param>
    /// <param name="y">Result, laid out densely in <paramref name="shape"/>.</param>
    /// <param name="shape">Collapsed output shape (at least one dimension).</param>
    /// <param name="aStrides">Element stride of <paramref name="a"/> per dimension of <paramref name="shape"/>.</param>
    /// <param name="bStrides">Element stride of <paramref name="b"/> per dimension of <paramref name="shape"/>.</param>
    public static void Run<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where T : unmanaged, INumber<T>
    {
        int rank = shape.Length;
        if (rank == 0 || rank > Odometer.MaxRank || aStrides.Length != rank || bStrides.Length != rank)
        {
            throw new ArgumentException($"Shape and strides must have the same rank, from 1 to {Odometer.MaxRank}.");
        }

        int inner = shape[rank - 1];
        int sa = aStrides[rank - 1], sb = bStrides[rank - 1];
        int outer = y.Length / Math.Max(inner, 1);
        if (inner == 0)
        {
            return;
        }

        if (typeof(T) == typeof(float) && op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div or BinaryOp.Max or BinaryOp.Min or BinaryOp.PRelu && sa <= 1 && sb <= 1)
        {
            RunFloat(op, MemoryMarshal.Cast<T, float>(a), MemoryMarshal.Cast<T, float>(b), MemoryMarshal.Cast<T, float>(y), shape, aStrides, bStrides);
            return;
        }

        Span<int> index = stackalloc int[rank - 1];
        int aOff = 0, bOff = 0;
        for (int o = 0; o < outer; o++)
        {
            Span<T> row = y.Slice(o * inner, inner);
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = Apply(op, a[aOff + i * sa], b[bOff + i * sb]);
            }

            Odometer.Advance(index, shape, aStrides, ref aOff, bStrides, ref bOff);
        }
    }

    /// <summary>The float32 rows, the width and the operation chosen once for all of them (a squeeze-excite gate is 576 rows of 49).</summary>
    private static unsafe void RunFloat(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
    {
        // Every offset the walk reaches lies within each operand: the last element of each is at Σ (shape − 1) · stride.
        long count = 1;
        foreach (int extent in shape)
        {
            count *= extent;
        }

        if (count != y.Length || a.Length <= Extent(shape, aStrides) || b.Length <= Extent(shape, bStrides))
        {
            throw new ArgumentException("Binary operands do not match the shape and strides.");
        }

        fixed (float* pa = a, pb = b, py = y)
        {
            switch (Simd.Width)
            {
                case SimdWidth.W512:
                    RunFloat<Vector512<float>, Simd512>(op, pa, pb, py, shape, aStrides, bStrides);
                    break;
                case SimdWidth.W256:
                    RunFloat<Vector256<float>, Simd256>(op, pa, pb, py, shape, aStrides, bStrides);
                    break;
                default:
                    RunFloat<Vector128<float>, Simd128>(op, pa, pb, py, shape, aStrides, bStrides);
                    break;
            }
        }
    }

    private static long Extent(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        long last = 0;
        for (int d = 0; d < shape.Length; d++)
        {
            last += (long)(shape[d] - 1) * strides[d];
        }

        return last;
    }

    private static unsafe void RunFloat<TV, TS>(BinaryOp op, float* a, float* b, float* y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where TS : ISimd<TV>
        where TV : struct
    {
        switch (op)
        {
            case BinaryOp.Add:
                RunFloat<TV, TS, AddOp>(a, b, y, shape, aStrides, bStrides);
                break;
            case BinaryOp.Sub:
                RunFloat<TV, TS, SubOp>(a, b, y, shape, aStrides, bStrides);
                break;
            case BinaryOp.Mul:
                RunFloat<TV, TS, MulOp>(a, b, y, shape, aStrides, bStrides);
                break;
            case BinaryOp.Div:
                RunFloat<TV, TS, DivOp>(a, b, y, shape, aStrides, bStrides);
                break;
            case BinaryOp.Max:
                RunFloat<TV, TS, MaxOp>(a, b, y, shape, aStrides, bStrides);
                break;
            case BinaryOp.Min:
                RunFloat<TV, TS, MinOp>(a, b, y, shape, aStrides, bStrides);
                break;
            default:
                RunFloat<TV, TS, PReluOp>(a, b, y, shape, aStrides, bStrides);
                break;
        }
    }

    /// <summary>
    /// Every row, each operand contiguous or (stride 0) broadcast once; the last partial vector of a row is
    /// masked, so short rows (a squeeze-excite gate times a 7×7 plane: 49 elements) stay vectorized to the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunFloat<TV, TS, TOp>(float* a, float* b, float* y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where TS : ISimd<TV>
        where TV : struct
        where TOp : struct, IFloatOp
    {
        int rank = shape.Length, n = shape[rank - 1], sa = aStrides[rank - 1], sb = bStrides[rank - 1];
        int outer = 1;
        for (int d = 0; d < rank - 1; d++)
        {
            outer *= shape[d];
        }

        if (rank <= 2)
        {
            // Rows a fixed stride apart (most broadcasts collapse to this): no odometer.
            nint da = rank == 2 ? aStrides[0] : 0, db = rank == 2 ? bStrides[0] : 0;
            for (int o = 0; o < outer; o++, a += da, b += db, y += n)
            {
                Row<TV, TS, TOp>(a, sa, b, sb, y, n);
            }

            return;
        }

        Span<int> index = stackalloc int[rank - 1];
        index.Clear();
        int aOff = 0, bOff = 0;
        for (int o = 0; o < outer; o++, y += n)
        {
            Row<TV, TS, TOp>(a + aOff, sa, b + bOff, sb, y, n);
            Odometer.Advance(index, shape, aStrides, ref aOff, bStrides, ref bOff);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Row<TV, TS, TOp>(float* a, int sa, float* b, int sb, float* y, int n)
        where TS : ISimd<TV>
        where TV : struct
        where TOp : struct, IFloatOp
    {
        TV ca = TS.Create(*a), cb = TS.Create(*b);
        int i = 0;
        for (; i + TS.Count <= n; i += TS.Count)
        {
            TV va = sa == 0 ? ca : TS.Load(ref a[i], 0);
            TV vb = sb == 0 ? cb : TS.Load(ref b[i], 0);
            TS.Store(TOp.Apply<TV, TS>(va, vb), ref y[i], 0);
        }

        if (i < n)
        {
            int count = n - i;
            TV va = sa == 0 ? ca : TS.LoadPartial(a + i, count);
            TV vb = sb == 0 ? cb : TS.LoadPartial(b + i, count);
            TS.StorePartial(TOp.Apply<TV, TS>(va, vb), y + i, count);
        }
    }

    /// <summary>A float32 operation fixed at compile time, on vectors and on single elements (shared with <see cref="ElementwiseChain"/>).</summary>
    internal interface IFloatOp
    {
        static abstract TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct;

        static abstract float Apply(float a, float b);
    }

    internal readonly struct AddOp : IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TS.Add(a, b);

        public static float Apply(float a, float b) => a + b;
    }

    internal readonly struct SubOp : IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TS.Subtract(a, b);

        public static float Apply(float a, float b) => a - b;
    }

    internal readonly struct MulOp : IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TS.Multiply(a, b);

        public static float Apply(float a, float b) => a * b;
    }

    internal readonly struct DivOp : IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TS.Divide(a, b);

        public static float Apply(float a, float b) => a / b;
    }

    internal readonly struct MaxOp : IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TS.Max(a, b);

        public static float Apply(float a, float b) => MathF.Max(a, b);
    }

    internal readonly struct MinOp : IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TS.Min(a, b);

        public static float Apply(float a, float b) => MathF.Min(a, b);
    }

    internal readonly struct PReluOp : IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TS.Select(TS.LessThan(a, TS.Zero), TS.Multiply(a, b), a);

        public static float Apply(float a, float b) => a < 0 ? a * b : a;
    }

    /// <summary><typeparamref name="TOp"/> with its operands swapped (a constant on the left of Sub or Div).</summary>
    internal readonly struct Reversed<TOp> : IFloatOp
        where TOp : struct, IFloatOp
    {
        public static TV Apply<TV, TS>(TV a, TV b)
            where TS : ISimd<TV>
            where TV : struct => TOp.Apply<TV, TS>(b, a);

        public static float Apply(float a, float b) => TOp.Apply(b, a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Apply<T>(BinaryOp op, T x, T z)
        where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case BinaryOp.Add:
                return x + z;
            case BinaryOp.Sub:
                return x - z;
            case BinaryOp.Mul:
                return x * z;
            case BinaryOp.Div:
                return x / z;
            case BinaryOp.Max:
                return T.Max(x, z);
            case BinaryOp.Min:
                return T.Min(x, z);
            case BinaryOp.Mod:
                {
                    T r = x % z;
                    return r != T.Zero && T.IsNegative(r) != T.IsNegative(z) ? r + z : r;
                }

            case BinaryOp.Fmod:
                return x % z;
            case BinaryOp.PRelu:
                return x < T.Zero ? x * z : x;
            case BinaryOp.BitShiftLeft:
            case BinaryOp.BitShiftRight:
                return Shift(op, x, z);
            default:
                return Pow(x, z);
        }
    }

    private static T Pow<T>(T x, T z)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            return T.CreateTruncating(MathF.Pow(float.CreateTruncating(x), float.CreateTruncating(z)));
        }

        if (typeof(T) != typeof(double) && typeof(T) != typeof(Half) && z >= T.Zero)
        {
            // Exact, wrapping like the integer type, where a double would round above 2^53.
            T result = T.One, b = x;
            for (ulong e = ulong.CreateTruncating(z); e != 0; e >>= 1)
            {
                if ((e & 1) != 0)
                {
                    result *= b;
                }

                b *= b;
            }

            return result;
        }

        return T.CreateTruncating(Math.Pow(double.CreateTruncating(x), double.CreateTruncating(z)));
    }

    private static T Shift<T>(BinaryOp op, T x, T z)
        where T : unmanaged, INumber<T>
    {
        ulong count = ulong.CreateTruncating(z);
        if (count >= (ulong)Unsafe.SizeOf<T>() * 8)
        {
            return T.Zero;
        }

        ulong value = ulong.CreateTruncating(x);
        return T.CreateTruncating(op == BinaryOp.BitShiftLeft ? value << (int)count : value >> (int)count);
    }
}
