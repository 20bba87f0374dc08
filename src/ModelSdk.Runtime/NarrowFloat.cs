using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime;

/// <summary>
/// Conversions between float32 and the 16-bit float formats that weights may be stored in (IEEE float16,
/// bfloat16). Widening is exact and vectorized (weights are widened once, when a model loads); narrowing
/// rounds to nearest, ties to even.
/// </summary>
public static class NarrowFloat
{
    /// <summary>Widens float16 values (given as their raw bits) to float32, exactly: subnormals, infinities and NaN payloads included.</summary>
    public static void WidenFloat16(ReadOnlySpan<ushort> source, Span<float> destination) => Widen<Float16Widener>(source, destination);

    /// <summary>Widens bfloat16 values (given as their raw bits) to float32, exactly.</summary>
    public static void WidenBFloat16(ReadOnlySpan<ushort> source, Span<float> destination) => Widen<BFloat16Widener>(source, destination);

    private static void Widen<TWidener>(ReadOnlySpan<ushort> source, Span<float> destination)
        where TWidener : IWidener
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        }

        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                (Vector256<uint> lower, Vector256<uint> upper) = Vector256.Widen(Vector256.LoadUnsafe(ref src, (nuint)i));
                TWidener.Bits(lower).StoreUnsafe(ref dst, (nuint)i);
                TWidener.Bits(upper).StoreUnsafe(ref dst, (nuint)(i + Vector256<uint>.Count));
            }
        }

        for (; i < source.Length; i++)
        {
            Unsafe.Add(ref dst, i) = TWidener.Bits(Unsafe.Add(ref src, i));
        }
    }

    /// <summary>The float16 bits nearest to <paramref name="value"/> (ties to even); overflow gives ±infinity, NaN stays NaN.</summary>
    public static ushort ToFloat16Bits(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>The bfloat16 bits nearest to <paramref name="value"/> (ties to even); overflow gives ±infinity, NaN stays NaN.</summary>
    public static ushort ToBFloat16Bits(float value) => ((BFloat16)value).Bits;

    // float16 → float32 on the bits (F. Giesen's method): move exponent and mantissa into place and rebias the
    // exponent; infinity and NaN get the rest of the exponent range; a zero or subnormal is renormalised by one
    // float subtraction, which is exact.
    private const uint ExponentMask = 0x7C00u << 13;
    private const uint Rebias = (127 - 15) << 23;
    private const uint SubnormalMagic = 113u << 23;

    private interface IWidener
    {
        static abstract uint Bits(uint narrow);

        static abstract Vector256<uint> Bits(Vector256<uint> narrow);
    }

    private readonly struct BFloat16Widener : IWidener
    {
        public static uint Bits(uint narrow) => narrow << 16;

        public static Vector256<uint> Bits(Vector256<uint> narrow) => Vector256.ShiftLeft(narrow, 16);
    }

    private readonly struct Float16Widener : IWidener
    {
        public static uint Bits(uint narrow) => Float16Bits(narrow);

        public static Vector256<uint> Bits(Vector256<uint> narrow) => Float16Bits(narrow);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Float16Bits(uint h)
    {
        uint o = (h & 0x7FFF) << 13;
        uint exponent = o & ExponentMask;
        o += Rebias;
        if (exponent == ExponentMask)
        {
            o += Rebias;
        }
        else if (exponent == 0)
        {
            o = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(o + (1u << 23)) - BitConverter.UInt32BitsToSingle(SubnormalMagic));
        }

        return o | ((h & 0x8000) << 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Float16Bits(Vector256<uint> h)
    {
        Vector256<uint> o = (h & Vector256.Create(0x7FFFu)) << 13;
        Vector256<uint> exponent = o & Vector256.Create(ExponentMask);
        o += Vector256.Create(Rebias);
        o += Vector256.Equals(exponent, Vector256.Create(ExponentMask)) & Vector256.Create(Rebias);
        Vector256<uint> subnormal = (Vector256.AsSingle(o + Vector256.Create(1u << 23)) - Vector256.AsSingle(Vector256.Create(SubnormalMagic))).AsUInt32();
        o = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256<uint>.Zero), subnormal, o);
        return o | ((h & Vector256.Create(0x8000u)) << 16);
    }
}
