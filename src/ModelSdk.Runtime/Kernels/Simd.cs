using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The float32 vector operations the elementwise kernels and <see cref="FastMath"/> are written against, so
/// one generic body serves 512-, 256- and 128-bit vectors. Implemented by <see cref="Simd512"/>,
/// <see cref="Simd256"/> and <see cref="Simd128"/> over the runtime's vector types; a kernel picks one per call
/// with <see cref="Simd.Width"/> and instantiates its loop for it, so every call below inlines to one instruction
/// or a few.
/// </summary>
/// <typeparam name="TV">The vector type.</typeparam>
internal interface ISimd<TV>
    where TV : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract TV Create(float value);

    /// <summary>All lanes zero.</summary>
    static abstract TV Zero { get; }

    /// <summary>The first <paramref name="count"/> (fewer than <see cref="Count"/>) lanes from memory, zeros after; nothing past them is read.</summary>
    static abstract unsafe TV LoadPartial(float* source, int count);

    /// <summary>Writes the first <paramref name="count"/> (fewer than <see cref="Count"/>) lanes; nothing past them is touched.</summary>
    static abstract unsafe void StorePartial(TV value, float* destination, int count);

    static abstract TV Load(ref float source, nuint index);

    static abstract void Store(TV value, ref float destination, nuint index);

    static abstract TV Add(TV a, TV b);

    static abstract TV Subtract(TV a, TV b);

    static abstract TV Multiply(TV a, TV b);

    static abstract TV Divide(TV a, TV b);

    /// <summary><c>a · b + c</c>, fused where the hardware can.</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);

    /// <summary>IEEE minimum: NaN when either is NaN.</summary>
    static abstract TV Min(TV a, TV b);

    /// <summary>IEEE maximum: NaN when either is NaN.</summary>
    static abstract TV Max(TV a, TV b);

    /// <summary>The instruction's minimum: the second operand when either is NaN (for clamps whose NaN is handled apart).</summary>
    static abstract TV MinNative(TV a, TV b);

    /// <summary>The instruction's maximum: the second operand when either is NaN.</summary>
    static abstract TV MaxNative(TV a, TV b);

    static abstract TV Abs(TV x);

    static abstract TV Negate(TV x);

    static abstract TV Sqrt(TV x);

    static abstract TV Floor(TV x);

    static abstract TV Ceiling(TV x);

    /// <summary>Nearest integer, halves to even.</summary>
    static abstract TV Round(TV x);

    /// <summary>All-ones lanes where equal (NaN is unequal to everything).</summary>
    static abstract TV Equal(TV a, TV b);

    static abstract TV LessThan(TV a, TV b);

    static abstract TV GreaterThan(TV a, TV b);

    static abstract TV GreaterThanOrEqual(TV a, TV b);

    /// <summary><c>mask ? a : b</c> bitwise.</summary>
    static abstract TV Select(TV mask, TV a, TV b);

    static abstract TV And(TV a, TV b);

    static abstract TV Or(TV a, TV b);

    static abstract TV Xor(TV a, TV b);

    /// <summary>2ⁿ for lanes holding integers in [-126, 127].</summary>
    static abstract TV Pow2(TV n);

    /// <summary>The lanes' biased exponent fields (bits 23–30) as floats.</summary>
    static abstract TV ExponentBits(TV x);

    /// <summary>The lanes with their exponent field replaced by that of 1: the significand in [1, 2) for normal numbers.</summary>
    static abstract TV Significand(TV x);

    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(TV x);

    /// <summary>The largest lane (the instruction's maximum, for lanes that are not NaN).</summary>
    static abstract float MaxAcross(TV x);
}

/// <summary>Which vector width a kernel call uses.</summary>
internal enum SimdWidth
{
    /// <summary>Decided by the hardware: the widest accelerated one.</summary>
    Auto,
    /// <summary><see cref="Vector128{T}"/>.</summary>
    W128,
    /// <summary><see cref="Vector256{T}"/>.</summary>
    W256,
    /// <summary><see cref="Vector512{T}"/>.</summary>
    W512,
}

/// <summary>Chooses the vector width of the elementwise kernels.</summary>
internal static class Simd
{
    private static readonly SimdWidth Hardware =
        Vector512.IsHardwareAccelerated ? SimdWidth.W512 : Vector256.IsHardwareAccelerated ? SimdWidth.W256 : SimdWidth.W128;

    /// <summary>
    /// The width kernels started on this thread use: the widest accelerated one, unless a test forces a narrower
    /// one (on its own thread only, so tests running beside it are unaffected; kernels decide the width on the
    /// calling thread before they hand work to other threads).
    /// </summary>
    public static SimdWidth Width => Forced == SimdWidth.Auto ? Hardware : Forced;

    /// <summary>The widest width this machine accelerates.</summary>
    public static SimdWidth HardwareWidth => Hardware;

    /// <summary>Set by tests to run the narrower paths; <see cref="SimdWidth.Auto"/> restores the default.</summary>
    [field: ThreadStatic]
    public static SimdWidth Forced { get; set; }
}

/// <summary><see cref="ISimd{TV}"/> over <see cref="Vector512{T}"/>.</summary>
internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float value) => Vector512.Create(value);

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> LoadPartial(float* source, int count)
    {
        if (Avx512F.IsSupported)
        {
            return Avx512F.MaskLoad(source, Vector512.GreaterThan(Vector512.Create(count), Vector512<int>.Indices).AsSingle(), Vector512<float>.Zero);
        }

        float* buffer = stackalloc float[16];
        Vector512<float>.Zero.Store(buffer);
        Buffer.MemoryCopy(source, buffer, 16 * sizeof(float), count * sizeof(float));
        return Vector512.Load(buffer);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StorePartial(Vector512<float> value, float* destination, int count)
    {
        if (Avx512F.IsSupported)
        {
            Avx512F.MaskStore(destination, Vector512.GreaterThan(Vector512.Create(count), Vector512<int>.Indices).AsSingle(), value);
            return;
        }

        float* buffer = stackalloc float[16];
        value.Store(buffer);
        Buffer.MemoryCopy(buffer, destination, count * sizeof(float), count * sizeof(float));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, nuint index) => Vector512.LoadUnsafe(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MinNative(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MaxNative(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Negate(Vector512<float> x) => -x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> x) => Vector512.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Floor(Vector512<float> x) => Vector512.Floor(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Ceiling(Vector512<float> x) => Vector512.Ceiling(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Round(Vector512<float> x) => Vector512.Round(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Equal(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LessThan(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThanOrEqual(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThanOrEqual(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> mask, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Or(Vector512<float> a, Vector512<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Xor(Vector512<float> a, Vector512<float> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Pow2(Vector512<float> n)
        => Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExponentBits(Vector512<float> x)
        => Vector512.ConvertToSingle(Vector512.ShiftRightLogical(x.AsInt32(), 23) & Vector512.Create(0xFF));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Significand(Vector512<float> x)
        => ((x.AsInt32() & Vector512.Create(0x007F_FFFF)) | Vector512.Create(0x3F80_0000)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> x) => Simd256.Sum(x.GetLower() + x.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> x) => Simd256.MaxAcross(Vector256.MaxNative(x.GetLower(), x.GetUpper()));
}

/// <summary><see cref="ISimd{TV}"/> over <see cref="Vector256{T}"/>.</summary>
internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float value) => Vector256.Create(value);

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> LoadPartial(float* source, int count)
    {
        if (Avx.IsSupported)
        {
            return Avx.MaskLoad(source, Vector256.GreaterThan(Vector256.Create(count), Vector256<int>.Indices).AsSingle());
        }

        float* buffer = stackalloc float[8];
        Vector256<float>.Zero.Store(buffer);
        Buffer.MemoryCopy(source, buffer, 8 * sizeof(float), count * sizeof(float));
        return Vector256.Load(buffer);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StorePartial(Vector256<float> value, float* destination, int count)
    {
        if (Avx.IsSupported)
        {
            Avx.MaskStore(destination, Vector256.GreaterThan(Vector256.Create(count), Vector256<int>.Indices).AsSingle(), value);
            return;
        }

        float* buffer = stackalloc float[8];
        value.Store(buffer);
        Buffer.MemoryCopy(buffer, destination, count * sizeof(float), count * sizeof(float));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, nuint index) => Vector256.LoadUnsafe(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MinNative(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MaxNative(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> x) => Vector256.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Negate(Vector256<float> x) => -x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> x) => Vector256.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Floor(Vector256<float> x) => Vector256.Floor(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Ceiling(Vector256<float> x) => Vector256.Ceiling(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Round(Vector256<float> x) => Vector256.Round(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Equal(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThanOrEqual(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThanOrEqual(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> mask, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Or(Vector256<float> a, Vector256<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Xor(Vector256<float> a, Vector256<float> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Pow2(Vector256<float> n)
        => Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExponentBits(Vector256<float> x)
        => Vector256.ConvertToSingle(Vector256.ShiftRightLogical(x.AsInt32(), 23) & Vector256.Create(0xFF));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Significand(Vector256<float> x)
        => ((x.AsInt32() & Vector256.Create(0x007F_FFFF)) | Vector256.Create(0x3F80_0000)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> x) => Simd128.Sum(x.GetLower() + x.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> x) => Simd128.MaxAcross(Vector128.MaxNative(x.GetLower(), x.GetUpper()));
}

/// <summary><see cref="ISimd{TV}"/> over <see cref="Vector128{T}"/>: the portable path (SSE, NEON, or software).</summary>
internal readonly struct Simd128 : ISimd<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Create(float value) => Vector128.Create(value);

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<float> LoadPartial(float* source, int count)
    {
        if (Avx.IsSupported)
        {
            return Avx.MaskLoad(source, Vector128.GreaterThan(Vector128.Create(count), Vector128<int>.Indices).AsSingle());
        }

        float* buffer = stackalloc float[4];
        Vector128<float>.Zero.Store(buffer);
        Buffer.MemoryCopy(source, buffer, 4 * sizeof(float), count * sizeof(float));
        return Vector128.Load(buffer);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StorePartial(Vector128<float> value, float* destination, int count)
    {
        if (Avx.IsSupported)
        {
            Avx.MaskStore(destination, Vector128.GreaterThan(Vector128.Create(count), Vector128<int>.Indices).AsSingle(), value);
            return;
        }

        float* buffer = stackalloc float[4];
        value.Store(buffer);
        Buffer.MemoryCopy(buffer, destination, count * sizeof(float), count * sizeof(float));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source, nuint index) => Vector128.LoadUnsafe(ref source, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MinNative(Vector128<float> a, Vector128<float> b) => Vector128.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MaxNative(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Abs(Vector128<float> x) => Vector128.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Negate(Vector128<float> x) => -x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sqrt(Vector128<float> x) => Vector128.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Floor(Vector128<float> x) => Vector128.Floor(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Ceiling(Vector128<float> x) => Vector128.Ceiling(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Round(Vector128<float> x) => Vector128.Round(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Equal(Vector128<float> a, Vector128<float> b) => Vector128.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LessThan(Vector128<float> a, Vector128<float> b) => Vector128.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThanOrEqual(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThanOrEqual(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Select(Vector128<float> mask, Vector128<float> a, Vector128<float> b) => Vector128.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Or(Vector128<float> a, Vector128<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Xor(Vector128<float> a, Vector128<float> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Pow2(Vector128<float> n)
        => Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ExponentBits(Vector128<float> x)
        => Vector128.ConvertToSingle(Vector128.ShiftRightLogical(x.AsInt32(), 23) & Vector128.Create(0xFF));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Significand(Vector128<float> x)
        => ((x.AsInt32() & Vector128.Create(0x007F_FFFF)) | Vector128.Create(0x3F80_0000)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> x) => Vector128.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> x)
    {
        Vector128<float> m = Vector128.MaxNative(x, Vector128.Shuffle(x, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.MaxNative(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }
}
