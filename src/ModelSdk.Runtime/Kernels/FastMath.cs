using System.Runtime.CompilerServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Vectorized float32 transcendental functions shared by the elementwise, softmax, normalization, attention
/// and recurrent kernels, written once over <see cref="ISimd{TV}"/> for every vector width. Each is accurate to
/// a few units in the last place over the whole float range (infinities, NaN and subnormal results included;
/// the tests measure every function against a double-precision reference) and costs about a nanosecond per
/// element or less, where the runtime's own vector <c>Exp</c> and <c>Log</c> cost several.
/// </summary>
internal static class FastMath
{
    // e^x = 2^n · e^r with n = round(x / ln 2) and |r| <= ln 2 / 2. ln 2 is split so that n · Ln2Hi is exact
    // for every n the clamps allow.
    private const float Log2E = 1.44269504f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;

    // Beyond these, e^x is +inf (above 88.73) or rounds to 0 (below -103.98); the clamps keep n in [-150, 129].
    private const float ExpLow = -104f, ExpHigh = 89f;

    // Taylor coefficients of e^r - 1 - r to r^8 (the remainder at |r| = ln 2 / 2 is below 3e-10, far under
    // float resolution). e^r is 1 + r + r²·Q(r).
    private const float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720, C7 = 1f / 5040, C8 = 1f / 40320;

    /// <summary>
    /// Splits <paramref name="x"/> (clamped) into <c>n</c> and <c>r</c> and returns <c>e^r - 1</c>; e^x is then
    /// <c>(1 + result) · 2^n</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Reduce<TV, TS>(TV x, out TV n)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV clamped = TS.MinNative(TS.MaxNative(x, TS.Create(ExpLow)), TS.Create(ExpHigh));
        n = TS.Round(TS.Multiply(clamped, TS.Create(Log2E)));
        TV r = TS.MultiplyAdd(n, TS.Create(-Ln2Hi), clamped);
        r = TS.MultiplyAdd(n, TS.Create(-Ln2Lo), r);
        TV q = TS.MultiplyAdd(r, TS.Create(C8), TS.Create(C7));
        q = TS.MultiplyAdd(q, r, TS.Create(C6));
        q = TS.MultiplyAdd(q, r, TS.Create(C5));
        q = TS.MultiplyAdd(q, r, TS.Create(C4));
        q = TS.MultiplyAdd(q, r, TS.Create(C3));
        q = TS.MultiplyAdd(q, r, TS.Create(C2));
        return TS.MultiplyAdd(TS.Multiply(q, r), r, r);
    }

    /// <summary>2ⁿ · m for integer lanes n in [-150, 129], in two steps so that neither power leaves the normal range (subnormal and infinite results come out of the last product).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Scale<TV, TS>(TV m, TV n)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV half = TS.Floor(TS.Multiply(n, TS.Create(0.5f)));
        return TS.Multiply(TS.Multiply(m, TS.Pow2(half)), TS.Pow2(TS.Subtract(n, half)));
    }

    /// <summary><c>e^x</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV em1 = Reduce<TV, TS>(x, out TV n);
        TV result = Scale<TV, TS>(TS.Add(em1, TS.Create(1f)), n);

        // NaN stays NaN (the clamp would have replaced it).
        return TS.Select(TS.Equal(x, x), result, x);
    }

    /// <summary><c>e^x - 1</c>, without the cancellation of computing e^x first for small |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpMinusOne<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV em1 = Reduce<TV, TS>(x, out TV n);

        // 2ⁿ(1 + em1) - 1 = 2ⁿ·em1 + (2ⁿ - 1): exact scaling and one rounding while 2ⁿ - 1 is exact (n ≤ 24); past
        // that, the -1 is below half an ulp of e^x. Below n = -30 the result is -1 either way.
        TV small = TS.Pow2(TS.MinNative(TS.MaxNative(n, TS.Create(-30f)), TS.Create(24f)));
        TV near = TS.MultiplyAdd(small, em1, TS.Subtract(small, TS.Create(1f)));
        TV far = Scale<TV, TS>(TS.Add(em1, TS.Create(1f)), n);
        TV result = TS.Select(TS.GreaterThan(n, TS.Create(24f)), far, near);
        return TS.Select(TS.Equal(x, x), result, x);
    }

    // ln(m) = 2·atanh(s) with s = (m - 1) / (m + 1) and m in [√½, √2), so |s| <= 0.172 and the series
    // 2·(s + s³/3 + … + s¹¹/11) is exact to below 1e-10.
    private const float Sqrt2 = 1.41421356f, MinNormal = 1.17549435e-38f;

    /// <summary><c>ln(x)</c>: NaN below 0, -inf at ±0, +inf at +inf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        // Subnormals are scaled into the normal range first.
        TV tiny = TS.LessThan(x, TS.Create(MinNormal));
        TV scaled = TS.Select(tiny, TS.Multiply(x, TS.Create(8388608f)), x);
        TV e = TS.Subtract(TS.ExponentBits(scaled), TS.Select(tiny, TS.Create(150f), TS.Create(127f)));
        TV m = TS.Significand(scaled);
        TV high = TS.GreaterThanOrEqual(m, TS.Create(Sqrt2));
        m = TS.Select(high, TS.Multiply(m, TS.Create(0.5f)), m);
        e = TS.Select(high, TS.Add(e, TS.Create(1f)), e);
        TV f = TS.Subtract(m, TS.Create(1f));
        TV s = TS.Divide(f, TS.Add(f, TS.Create(2f)));
        TV s2 = TS.Multiply(s, s);
        TV p = TS.MultiplyAdd(s2, TS.Create(2f / 11), TS.Create(2f / 9));
        p = TS.MultiplyAdd(p, s2, TS.Create(2f / 7));
        p = TS.MultiplyAdd(p, s2, TS.Create(2f / 5));
        p = TS.MultiplyAdd(p, s2, TS.Create(2f / 3));
        TV lnm = TS.MultiplyAdd(TS.Multiply(p, s2), s, TS.Add(s, s));
        TV result = TS.MultiplyAdd(e, TS.Create(Ln2Hi), TS.MultiplyAdd(e, TS.Create(Ln2Lo), lnm));

        // 0 → -inf, +inf → +inf, negative or NaN → NaN.
        result = TS.Select(TS.Equal(x, TS.Create(0f)), TS.Create(float.NegativeInfinity), result);
        result = TS.Select(TS.Equal(x, TS.Create(float.PositiveInfinity)), x, result);
        return TS.Select(TS.GreaterThanOrEqual(x, TS.Create(0f)), result, TS.Create(float.NaN));
    }

    /// <summary><c>ln(1 + x)</c>, keeping the digits of small x that <c>1 + x</c> would round away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LogOnePlus<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        // u = 1 + x is rounded; ln(u) · x / (u - 1) corrects for exactly that rounding (Goldberg).
        TV u = TS.Add(x, TS.Create(1f));
        TV d = TS.Subtract(u, TS.Create(1f));
        TV corrected = TS.Multiply(Log<TV, TS>(u), TS.Divide(x, d));
        TV result = TS.Select(TS.Equal(d, TS.Create(0f)), x, corrected);
        return TS.Select(TS.Equal(u, TS.Create(float.PositiveInfinity)), u, result);
    }

    /// <summary>The logistic function <c>1 / (1 + e^-x)</c>, with full relative accuracy in both tails.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        // With e = e^-|x| (never overflowing): 1 / (1 + e) for x >= 0 and e / (1 + e) below.
        TV e = Exp<TV, TS>(TS.Negate(TS.Abs(x)));
        TV s = TS.Divide(TS.Create(1f), TS.Add(TS.Create(1f), e));
        return TS.Select(TS.GreaterThanOrEqual(x, TS.Create(0f)), s, TS.Multiply(e, s));
    }

    // Below |x| = 1/2, tanh's Taylor series to x^15 is exact to about 1e-8; above it, (1 - e^-2|x|) / (1 + e^-2|x|)
    // loses nothing to cancellation (e^-2|x| <= 1/e).
    private const float TanhSeriesBound = 0.5f;
    private const float T3 = -1f / 3, T5 = 2f / 15, T7 = -17f / 315, T9 = 62f / 2835, T11 = -1382f / 155925, T13 = 21844f / 6081075, T15 = -929569f / 638512875;

    /// <summary><c>tanh(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV ax = TS.Abs(x);
        TV e = Exp<TV, TS>(TS.Multiply(ax, TS.Create(-2f)));
        TV far = TS.Divide(TS.Subtract(TS.Create(1f), e), TS.Add(TS.Create(1f), e));
        far = TS.Or(far, TS.And(x, TS.Create(-0f)));
        TV x2 = TS.Multiply(x, x);
        TV p = TS.MultiplyAdd(x2, TS.Create(T15), TS.Create(T13));
        p = TS.MultiplyAdd(x2, p, TS.Create(T11));
        p = TS.MultiplyAdd(x2, p, TS.Create(T9));
        p = TS.MultiplyAdd(x2, p, TS.Create(T7));
        p = TS.MultiplyAdd(x2, p, TS.Create(T5));
        p = TS.MultiplyAdd(x2, p, TS.Create(T3));
        TV near = TS.MultiplyAdd(TS.Multiply(x, x2), p, x);
        return TS.Select(TS.LessThan(ax, TS.Create(TanhSeriesBound)), near, far);
    }

    // erf(x) = (2/√π) Σ (-1)ⁿ x^(2n+1) / (n! (2n+1)); to n = 11 the remainder below |x| = 1 is under 1e-9.
    private const float TwoOverSqrtPi = 1.12837917f;
    private const float E1 = -1f / 3, E2 = 1f / 10, E3 = -1f / 42, E4 = 1f / 216, E5 = -1f / 1320, E6 = 1f / 9360,
        E7 = -1f / 75600, E8 = 1f / 685440, E9 = -1f / 6894720, E10 = 1f / 76204800, E11 = -1f / 918086400;

    /// <summary>The Gauss error function.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Erf<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV x2 = TS.Multiply(x, x);
        TV p = TS.MultiplyAdd(x2, TS.Create(E11), TS.Create(E10));
        p = TS.MultiplyAdd(p, x2, TS.Create(E9));
        p = TS.MultiplyAdd(p, x2, TS.Create(E8));
        p = TS.MultiplyAdd(p, x2, TS.Create(E7));
        p = TS.MultiplyAdd(p, x2, TS.Create(E6));
        p = TS.MultiplyAdd(p, x2, TS.Create(E5));
        p = TS.MultiplyAdd(p, x2, TS.Create(E4));
        p = TS.MultiplyAdd(p, x2, TS.Create(E3));
        p = TS.MultiplyAdd(p, x2, TS.Create(E2));
        p = TS.MultiplyAdd(p, x2, TS.Create(E1));
        TV near = TS.Multiply(TS.MultiplyAdd(TS.Multiply(p, x2), x, x), TS.Create(TwoOverSqrtPi));

        // From 1 on, erf = 1 - erfc with erfc <= 0.16, so erfc's relative error shrinks in the difference.
        TV far = TS.Subtract(TS.Create(1f), ErfcOfNonNegative<TV, TS>(TS.Abs(x)));
        far = TS.Or(far, TS.And(x, TS.Create(-0f)));
        return TS.Select(TS.LessThan(TS.Abs(x), TS.Create(1f)), near, far);
    }

    /// <summary>
    /// <c>erfc(z)</c> for <c>z >= 0</c>, by the Chebyshev-fitted form of Numerical Recipes (erfcc): relative error
    /// below 1.2e-7 everywhere, so tails keep their accuracy where <c>1 - erf</c> would cancel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ErfcOfNonNegative<TV, TS>(TV z)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV t = TS.Divide(TS.Create(1f), TS.MultiplyAdd(TS.Create(0.5f), z, TS.Create(1f)));
        TV p = TS.MultiplyAdd(TS.Create(0.17087277f), t, TS.Create(-0.82215223f));
        p = TS.MultiplyAdd(p, t, TS.Create(1.48851587f));
        p = TS.MultiplyAdd(p, t, TS.Create(-1.13520398f));
        p = TS.MultiplyAdd(p, t, TS.Create(0.27886807f));
        p = TS.MultiplyAdd(p, t, TS.Create(-0.18628806f));
        p = TS.MultiplyAdd(p, t, TS.Create(0.09678418f));
        p = TS.MultiplyAdd(p, t, TS.Create(0.37409196f));
        p = TS.MultiplyAdd(p, t, TS.Create(1.00002368f));
        p = TS.MultiplyAdd(p, t, TS.Create(-1.26551223f));
        return TS.Multiply(t, Exp<TV, TS>(TS.Subtract(p, TS.Multiply(z, z))));
    }

    private const float InverseSqrt2 = 0.70710678118654752f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;
    private const float GeluCubic = 0.044715f;

    /// <summary>GELU, <c>x · Φ(x)</c> with <c>Φ(x) = ½·erfc(-x/√2)</c>, keeping Φ's relative accuracy in the negative tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gelu<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV half = TS.Multiply(TS.Create(0.5f), ErfcOfNonNegative<TV, TS>(TS.Multiply(TS.Abs(x), TS.Create(InverseSqrt2))));
        TV phi = TS.Select(TS.GreaterThan(x, TS.Create(0f)), TS.Subtract(TS.Create(1f), half), half);
        return TS.Multiply(x, phi);
    }

    /// <summary>GELU with the tanh approximation, as <c>x / (1 + e^(-2u))</c>: ½·(1 + tanh(u)) without cancellation for negative u.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV GeluTanh<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV inner = TS.MultiplyAdd(TS.Multiply(TS.Multiply(TS.Create(GeluCubic), x), x), x, x);
        TV e = Exp<TV, TS>(TS.Multiply(TS.Create(-2 * SqrtTwoOverPi), inner));
        return TS.Divide(x, TS.Add(TS.Create(1f), e));
    }

    /// <summary><c>ln(1 + e^x)</c> as <c>max(x, 0) + ln(1 + e^-|x|)</c>: no overflow, and the tail below 0 keeps its digits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Softplus<TV, TS>(TV x)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV e = Exp<TV, TS>(TS.Negate(TS.Abs(x)));
        return TS.Add(TS.Max(x, TS.Create(0f)), LogOnePlus<TV, TS>(e));
    }
}
