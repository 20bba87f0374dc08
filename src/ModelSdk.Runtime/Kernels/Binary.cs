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

        Span<int> index = stackalloc int[rank - 1];
        int aOff = 0, bOff = 0;
        for (int o = 0; o < outer; o++)
        {
            Row(op, a, aOff, sa, b, bOff, sb, y.Slice(o * inner, inner));
            Odometer.Advance(index, shape, aStrides, ref aOff, bStrides, ref bOff);
        }
    }

    private static void Row<T>(BinaryOp op, ReadOnlySpan<T> a, int aOff, int sa, ReadOnlySpan<T> b, int bOff, int sb, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) && op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div or BinaryOp.Max or BinaryOp.Min or BinaryOp.PRelu && sa <= 1 && sb <= 1)
        {
            RowFloat(op, MemoryMarshal.Cast<T, float>(a), aOff, sa, MemoryMarshal.Cast<T, float>(b), bOff, sb, MemoryMarshal.Cast<T, float>(y));
            return;
        }

        for (int i = 0; i < y.Length; i++)
        {
            y[i] = Apply(op, a[aOff + i * sa], b[bOff + i * sb]);
        }
    }

    private static unsafe void RowFloat(BinaryOp op, ReadOnlySpan<float> a, int aOff, int sa, ReadOnlySpan<float> b, int bOff, int sb, Span<float> y)
    {
        int n = y.Length;
        a = a.Slice(aOff);
        b = b.Slice(bOff);
        if ((sa != 0 && a.Length < n) || (sb != 0 && b.Length < n) || a.IsEmpty || b.IsEmpty)
        {
            throw new ArgumentException("Binary operand shorter than its row.");
        }

        fixed (float* pa = a, pb = b, py = y)
        {
            switch (Simd.Width)
            {
                case SimdWidth.W512:
                    RowFloat<Vector512<float>, Simd512>(op, pa, sa, pb, sb, py, n);
                    break;
                case SimdWidth.W256:
                    RowFloat<Vector256<float>, Simd256>(op, pa, sa, pb, sb, py, n);
                    break;
                default:
                    RowFloat<Vector128<float>, Simd128>(op, pa, sa, pb, sb, py, n);
                    break;
            }
        }
    }

    /// <summary>
    /// One row of <paramref name="n"/> elements, each operand contiguous or (stride 0) broadcast once; the last partial
    /// vector is masked, so short rows (a squeeze-excite gate times a 7×7 plane: 49 elements) stay vectorized to the end.
    /// </summary>
    private static unsafe void RowFloat<TV, TS>(BinaryOp op, float* a, int sa, float* b, int sb, float* y, int n)
        where TS : ISimd<TV>
        where TV : struct
    {
        TV ca = TS.Create(*a), cb = TS.Create(*b);
        for (int i = 0; i < n; i += TS.Count)
        {
            int count = Math.Min(TS.Count, n - i);
            bool full = count == TS.Count;
            TV va = sa == 0 ? ca : full ? TS.Load(ref a[i], 0) : TS.LoadPartial(a + i, count);
            TV vb = sb == 0 ? cb : full ? TS.Load(ref b[i], 0) : TS.LoadPartial(b + i, count);
            TV vy = op switch
            {
                BinaryOp.Add => TS.Add(va, vb),
                BinaryOp.Sub => TS.Subtract(va, vb),
                BinaryOp.Mul => TS.Multiply(va, vb),
                BinaryOp.Div => TS.Divide(va, vb),
                BinaryOp.Max => TS.Max(va, vb),
                BinaryOp.Min => TS.Min(va, vb),
                BinaryOp.PRelu => TS.Select(TS.LessThan(va, TS.Zero), TS.Multiply(va, vb), va),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
            if (full)
            {
                TS.Store(vy, ref y[i], 0);
            }
            else
            {
                TS.StorePartial(vy, y + i, count);
            }
        }
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
