using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Converts every element to another type, as ONNX Cast does: floating point to integer truncates toward
/// zero, anything to <c>bool</c> is <c>x != 0</c> (NaN is true), <c>bool</c> is 0 or 1, integer to
/// narrower integer wraps, and float narrowing rounds to nearest even. Values a target type cannot hold
/// convert as C#'s unchecked conversions do.
/// </summary>
public static class Cast
{
    /// <summary>Writes <paramref name="x"/> converted to <typeparamref name="TTo"/> into <paramref name="y"/>.</summary>
    /// <typeparam name="TFrom">Source type: <c>float</c>, <c>double</c>, <c>Half</c>, <see cref="BFloat16"/>, an integer type or <c>bool</c>.</typeparam>
    /// <typeparam name="TTo">Target type, from the same set.</typeparam>
    public static void Run<TFrom, TTo>(ReadOnlySpan<TFrom> x, Span<TTo> y)
        where TFrom : unmanaged
        where TTo : unmanaged
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Input and output lengths differ.");
        }

        // Every branch below compares types known when the method is compiled for TFrom and TTo, so
        // each instantiation keeps one loop with one conversion.
        if (typeof(TFrom) == typeof(TTo))
        {
            MemoryMarshal.Cast<TFrom, TTo>(x).CopyTo(y);
        }
        else if (typeof(TFrom) == typeof(float) && typeof(TTo) == typeof(Half))
        {
            // The common mixed-precision pair, converted directly (same rounding as through double, which a float fits exactly).
            ReadOnlySpan<float> f = MemoryMarshal.Cast<TFrom, float>(x);
            Span<Half> h = MemoryMarshal.Cast<TTo, Half>(y);
            for (int i = 0; i < f.Length; i++)
            {
                h[i] = (Half)f[i];
            }
        }
        else if (IsFloatingPoint<TFrom>())
        {
            for (int i = 0; i < x.Length; i++)
            {
                y[i] = FromDouble<TTo>(ToDouble(x[i]));
            }
        }
        else if (IsUnsigned<TFrom>())
        {
            for (int i = 0; i < x.Length; i++)
            {
                y[i] = FromInteger<TTo, ulong>(ToUInt64(x[i]));
            }
        }
        else
        {
            for (int i = 0; i < x.Length; i++)
            {
                y[i] = FromInteger<TTo, long>(ToInt64(x[i]));
            }
        }
    }

    private static bool IsFloatingPoint<T>()
        => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half) || typeof(T) == typeof(BFloat16);

    private static bool IsUnsigned<T>()
        => typeof(T) == typeof(byte) || typeof(T) == typeof(ushort) || typeof(T) == typeof(uint) || typeof(T) == typeof(ulong);

    private static TTo As<TFrom, TTo>(TFrom value) => Unsafe.As<TFrom, TTo>(ref value);

    // Every float, Half and bfloat16 is exactly a double, so a float source loses nothing on the way.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ToDouble<T>(T v)
    {
        if (typeof(T) == typeof(float))
        {
            return As<T, float>(v);
        }

        if (typeof(T) == typeof(double))
        {
            return As<T, double>(v);
        }

        if (typeof(T) == typeof(Half))
        {
            return (double)As<T, Half>(v);
        }

        if (typeof(T) == typeof(BFloat16))
        {
            return (float)As<T, BFloat16>(v);
        }

        throw new NotSupportedException(typeof(T).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ToUInt64<T>(T v)
    {
        if (typeof(T) == typeof(byte))
        {
            return As<T, byte>(v);
        }

        if (typeof(T) == typeof(ushort))
        {
            return As<T, ushort>(v);
        }

        if (typeof(T) == typeof(uint))
        {
            return As<T, uint>(v);
        }

        if (typeof(T) == typeof(ulong))
        {
            return As<T, ulong>(v);
        }

        throw new NotSupportedException(typeof(T).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ToInt64<T>(T v)
    {
        if (typeof(T) == typeof(sbyte))
        {
            return As<T, sbyte>(v);
        }

        if (typeof(T) == typeof(short))
        {
            return As<T, short>(v);
        }

        if (typeof(T) == typeof(int))
        {
            return As<T, int>(v);
        }

        if (typeof(T) == typeof(long))
        {
            return As<T, long>(v);
        }

        if (typeof(T) == typeof(bool))
        {
            return As<T, bool>(v) ? 1 : 0;
        }

        throw new NotSupportedException(typeof(T).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromDouble<T>(double d)
    {
        if (typeof(T) == typeof(float))
        {
            return As<float, T>((float)d);
        }

        if (typeof(T) == typeof(double))
        {
            return As<double, T>(d);
        }

        if (typeof(T) == typeof(Half))
        {
            return As<Half, T>((Half)d);
        }

        if (typeof(T) == typeof(BFloat16))
        {
            return As<BFloat16, T>((BFloat16)(float)d);
        }

        if (typeof(T) == typeof(bool))
        {
            return As<bool, T>(d != 0);
        }

        // Floating point to integer truncates toward zero (C#'s conversion).
        if (typeof(T) == typeof(sbyte))
        {
            return As<sbyte, T>(unchecked((sbyte)d));
        }

        if (typeof(T) == typeof(byte))
        {
            return As<byte, T>(unchecked((byte)d));
        }

        if (typeof(T) == typeof(short))
        {
            return As<short, T>(unchecked((short)d));
        }

        if (typeof(T) == typeof(ushort))
        {
            return As<ushort, T>(unchecked((ushort)d));
        }

        if (typeof(T) == typeof(int))
        {
            return As<int, T>(unchecked((int)d));
        }

        if (typeof(T) == typeof(uint))
        {
            return As<uint, T>(unchecked((uint)d));
        }

        if (typeof(T) == typeof(long))
        {
            return As<long, T>(unchecked((long)d));
        }

        if (typeof(T) == typeof(ulong))
        {
            return As<ulong, T>(unchecked((ulong)d));
        }

        throw new NotSupportedException(typeof(T).Name);
    }

    /// <summary>An integer source (widened to 64 bits, signed or not) in the target type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromInteger<T, TInteger>(TInteger v)
        where TInteger : IBinaryInteger<TInteger>
    {
        // Straight to each float type: through double, a 64-bit integer would be rounded twice.
        if (typeof(T) == typeof(float))
        {
            return As<float, T>(float.CreateTruncating(v));
        }

        if (typeof(T) == typeof(double))
        {
            return As<double, T>(double.CreateTruncating(v));
        }

        if (typeof(T) == typeof(Half))
        {
            return As<Half, T>(Half.CreateTruncating(v));
        }

        if (typeof(T) == typeof(BFloat16))
        {
            return As<BFloat16, T>((BFloat16)float.CreateTruncating(v));
        }

        if (typeof(T) == typeof(bool))
        {
            return As<bool, T>(v != TInteger.Zero);
        }

        return FromBits<T>(ulong.CreateTruncating(v));
    }

    /// <summary>An integer target from the two's-complement bits of a 64-bit value: keeps the low bits (wraps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromBits<T>(ulong v)
    {
        if (typeof(T) == typeof(sbyte) || typeof(T) == typeof(byte))
        {
            return As<byte, T>(unchecked((byte)v));
        }

        if (typeof(T) == typeof(short) || typeof(T) == typeof(ushort))
        {
            return As<ushort, T>(unchecked((ushort)v));
        }

        if (typeof(T) == typeof(int) || typeof(T) == typeof(uint))
        {
            return As<uint, T>(unchecked((uint)v));
        }

        if (typeof(T) == typeof(long) || typeof(T) == typeof(ulong))
        {
            return As<ulong, T>(v);
        }

        throw new NotSupportedException(typeof(T).Name);
    }
}
