using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Elementwise functions of one tensor. <c>alpha</c> and <c>beta</c> are the kernel's two float parameters.</summary>
public enum UnaryOp
{
    /// <summary><c>y = x</c></summary>
    Identity,
    /// <summary><c>max(x, 0)</c></summary>
    Relu,
    /// <summary><c>x &gt;= 0 ? x : alpha * x</c></summary>
    LeakyRelu,
    /// <summary><c>min(max(x, alpha), beta)</c></summary>
    Clip,
    /// <summary><c>-x</c></summary>
    Neg,
    /// <summary><c>|x|</c></summary>
    Abs,
    /// <summary><c>1 / x</c></summary>
    Reciprocal,
    /// <summary><c>sqrt(x)</c></summary>
    Sqrt,
    /// <summary><c>exp(x)</c></summary>
    Exp,
    /// <summary><c>ln(x)</c></summary>
    Log,
    /// <summary><c>1 / (1 + exp(-x))</c></summary>
    Sigmoid,
    /// <summary><c>tanh(x)</c></summary>
    Tanh,
    /// <summary>The Gauss error function.</summary>
    Erf,
    /// <summary><c>max(0, min(1, alpha * x + beta))</c></summary>
    HardSigmoid,
    /// <summary><c>x * max(0, min(1, x / 6 + 1/2))</c></summary>
    HardSwish,
    /// <summary><c>x &gt;= 0 ? x : alpha * (exp(x) - 1)</c></summary>
    Elu,
    /// <summary><c>beta * (x &gt; 0 ? x : alpha * (exp(x) - 1))</c> (alpha and gamma of ONNX Selu)</summary>
    Selu,
    /// <summary><c>max(0, x) + min(0, alpha * (exp(x / alpha) - 1))</c></summary>
    Celu,
    /// <summary><c>ln(1 + exp(x))</c></summary>
    Softplus,
    /// <summary><c>x / (1 + |x|)</c></summary>
    Softsign,
    /// <summary><c>x * tanh(softplus(x))</c></summary>
    Mish,
    /// <summary><c>x &gt; alpha ? x : 0</c></summary>
    ThresholdedRelu,
    /// <summary><c>x &lt; -alpha ? x + beta : x &gt; alpha ? x - beta : 0</c> (lambd and bias of ONNX Shrink)</summary>
    Shrink,
    /// <summary><c>x * (1 + erf(x / sqrt(2))) / 2</c></summary>
    Gelu,
    /// <summary><c>x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) / 2</c> (Gelu with approximate="tanh")</summary>
    GeluTanh,
    /// <summary><c>sin(x)</c></summary>
    Sin,
    /// <summary><c>cos(x)</c></summary>
    Cos,
    /// <summary><c>tan(x)</c></summary>
    Tan,
    /// <summary><c>asin(x)</c></summary>
    Asin,
    /// <summary><c>acos(x)</c></summary>
    Acos,
    /// <summary><c>atan(x)</c></summary>
    Atan,
    /// <summary><c>sinh(x)</c></summary>
    Sinh,
    /// <summary><c>cosh(x)</c></summary>
    Cosh,
    /// <summary><c>asinh(x)</c></summary>
    Asinh,
    /// <summary><c>acosh(x)</c></summary>
    Acosh,
    /// <summary><c>atanh(x)</c></summary>
    Atanh,
    /// <summary>Largest integer not above <c>x</c>.</summary>
    Floor,
    /// <summary>Smallest integer not below <c>x</c>.</summary>
    Ceil,
    /// <summary>Nearest integer, halves to even.</summary>
    Round,
    /// <summary>-1, 0 or 1 by the sign of <c>x</c> (NaN stays NaN).</summary>
    Sign,
}

/// <summary>Elementwise unary kernel: <c>y[i] = op(x[i])</c>. <c>x</c> and <c>y</c> may be the same memory.</summary>
public static class Unary
{
    /// <summary>Runs <paramref name="op"/> over <paramref name="x"/>; <paramref name="alpha"/> and <paramref name="beta"/> parameterise it (see <see cref="UnaryOp"/>).</summary>
    /// <typeparam name="T">
    /// <c>float</c> (vectorized), <c>double</c> or <c>Half</c> for every operation; integer types for Identity, Relu, Neg, Abs and Sign.
    /// </typeparam>
    public static void Run<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, float alpha, float beta)
        where T : unmanaged, INumber<T>
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Input and output lengths differ.");
        }

        if (typeof(T) == typeof(float))
        {
            RunFloat(op, MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), alpha, beta);
        }
        else if (typeof(T) == typeof(double) || typeof(T) == typeof(Half))
        {
            // Half is computed in double and rounded once, as precise as the format allows.
            for (int i = 0; i < x.Length; i++)
            {
                y[i] = T.CreateTruncating(Scalar(op, double.CreateTruncating(x[i]), alpha, beta));
            }
        }
        else
        {
            RunInteger(op, x, y);
        }
    }

    private static void RunInteger<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case UnaryOp.Identity:
                x.CopyTo(y);
                break;
            case UnaryOp.Relu:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = T.Max(x[i], T.Zero);
                }

                break;
            case UnaryOp.Neg:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = -x[i];
                }

                break;
            case UnaryOp.Abs:
                // Not T.Abs: it throws on the most negative value, which wraps to itself in ONNX Runtime and NumPy.
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = T.IsNegative(x[i]) ? -x[i] : x[i];
                }

                break;
            case UnaryOp.Sign:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = x[i] > T.Zero ? T.One : x[i] < T.Zero ? -T.One : T.Zero;
                }

                break;
            default:
                throw new NotSupportedException($"Unary {op} is not implemented for {typeof(T).Name}.");
        }
    }

    /// <summary>One element in double precision: the definition every type but <c>float</c> uses.</summary>
    private static double Scalar(UnaryOp op, double x, double alpha, double beta) => op switch
    {
        UnaryOp.Identity => x,
        UnaryOp.Relu => x < 0 ? 0 : x,
        UnaryOp.LeakyRelu => x >= 0 ? x : alpha * x,
        UnaryOp.Clip => Math.Min(Math.Max(x, alpha), beta),
        UnaryOp.Neg => -x,
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Reciprocal => 1 / x,
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sigmoid => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x)),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Erf => Erf(x),
        UnaryOp.HardSigmoid => Math.Max(0, Math.Min(1, alpha * x + beta)),
        UnaryOp.HardSwish => x * Math.Max(0, Math.Min(1, x / 6 + 0.5)),
        UnaryOp.Elu => x >= 0 ? x : alpha * (Math.Exp(x) - 1),
        UnaryOp.Selu => beta * (x > 0 ? x : alpha * (Math.Exp(x) - 1)),
        UnaryOp.Celu => Math.Max(0, x) + Math.Min(0, alpha * (Math.Exp(x / alpha) - 1)),
        UnaryOp.Softplus => Softplus(x),
        UnaryOp.Softsign => x / (1 + Math.Abs(x)),
        UnaryOp.Mish => x * Math.Tanh(Softplus(x)),
        UnaryOp.ThresholdedRelu => x > alpha ? x : 0,
        UnaryOp.Shrink => x < -alpha ? x + beta : x > alpha ? x - beta : 0,
        UnaryOp.Gelu => 0.5 * x * (1 + Erf(x * 0.70710678118654752)),
        UnaryOp.GeluTanh => 0.5 * x * (1 + Math.Tanh(0.79788456080286536 * (x + 0.044715 * x * x * x))),
        UnaryOp.Sin => Math.Sin(x),
        UnaryOp.Cos => Math.Cos(x),
        UnaryOp.Tan => Math.Tan(x),
        UnaryOp.Asin => Math.Asin(x),
        UnaryOp.Acos => Math.Acos(x),
        UnaryOp.Atan => Math.Atan(x),
        UnaryOp.Sinh => Math.Sinh(x),
        UnaryOp.Cosh => Math.Cosh(x),
        UnaryOp.Asinh => Math.Asinh(x),
        UnaryOp.Acosh => Math.Acosh(x),
        UnaryOp.Atanh => Math.Atanh(x),
        UnaryOp.Floor => Math.Floor(x),
        UnaryOp.Ceil => Math.Ceiling(x),
        UnaryOp.Round => Math.Round(x, MidpointRounding.ToEven),
        UnaryOp.Sign => x > 0 ? 1 : x < 0 ? -1 : x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary><c>ln(1 + exp(x))</c> without overflow for large <c>x</c> or loss for very negative <c>x</c>.</summary>
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static void RunFloat(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float alpha, float beta)
    {
        switch (op)
        {
            case UnaryOp.Identity:
                x.CopyTo(y);
                return;
            case UnaryOp.Relu:
                Map(x, y, new ClipF(0, float.PositiveInfinity));
                return;
            case UnaryOp.Clip:
                Map(x, y, new ClipF(alpha, beta));
                return;
            case UnaryOp.LeakyRelu:
                Map(x, y, new LeakyReluF(alpha));
                return;
            case UnaryOp.Neg:
                Map(x, y, new NegF());
                return;
            case UnaryOp.Abs:
                Map(x, y, new AbsF());
                return;
            case UnaryOp.Reciprocal:
                Map(x, y, new ReciprocalF());
                return;
            case UnaryOp.Sqrt:
                Map(x, y, new SqrtF());
                return;
            case UnaryOp.Exp:
                Map(x, y, new ExpF());
                return;
            case UnaryOp.Log:
                Map(x, y, new LogF());
                return;
            case UnaryOp.Sigmoid:
                Map(x, y, new SigmoidF());
                return;
            case UnaryOp.Tanh:
                Map(x, y, new InDouble<TanhD>(default));
                return;
            case UnaryOp.HardSigmoid:
                Map(x, y, new HardSigmoidF(alpha, beta, false));
                return;
            case UnaryOp.HardSwish:
                Map(x, y, new HardSigmoidF(1f / 6, 0.5f, true));
                return;
            case UnaryOp.Elu:
                Map(x, y, new InDouble<EluD>(new EluD(alpha, 1, true)));
                return;
            case UnaryOp.Selu:
                Map(x, y, new InDouble<EluD>(new EluD(alpha, beta, false)));
                return;
            case UnaryOp.Celu:
                Map(x, y, new InDouble<CeluD>(new CeluD(alpha)));
                return;
            case UnaryOp.Softplus:
                Map(x, y, new InDouble<SoftplusD>(default));
                return;
            case UnaryOp.Softsign:
                Map(x, y, new SoftsignF());
                return;
            case UnaryOp.Mish:
                Map(x, y, new InDouble<MishD>(default));
                return;
            case UnaryOp.GeluTanh:
                Map(x, y, new InDouble<GeluTanhD>(default));
                return;
            case UnaryOp.ThresholdedRelu:
                Map(x, y, new ThresholdedReluF(alpha));
                return;
            case UnaryOp.Shrink:
                Map(x, y, new ShrinkF(alpha, beta));
                return;
            case UnaryOp.Floor:
                Map(x, y, new FloorF());
                return;
            case UnaryOp.Ceil:
                Map(x, y, new CeilF());
                return;
            case UnaryOp.Round:
                Map(x, y, new RoundF());
                return;
            case UnaryOp.Sign:
                Map(x, y, new SignF());
                return;
            default:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = (float)Scalar(op, x[i], alpha, beta);
                }

                return;
        }
    }

    /// <summary>Logistic function, written so that neither branch overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        if (x >= 0)
        {
            return 1f / (1f + MathF.Exp(-x));
        }

        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    /// <summary>The error function, to double precision (see <see cref="ErrorFunction"/>).</summary>
    public static double Erf(double x) => ErrorFunction.Erf(x);

    /// <summary>
    /// Applies a vector function to every element. The tail is padded to a full vector, so every element
    /// goes through the same code and results do not depend on where an element falls.
    /// </summary>
    private static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op)
        where TOp : struct, IVectorFunction
    {
        int w = Vector256<float>.Count;
        int n = x.Length;
        int i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        for (; i <= n - w; i += w)
        {
            op.Invoke(Vector256.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }

        if (i < n)
        {
            Span<float> tail = stackalloc float[Vector256<float>.Count];
            tail.Clear();
            x[i..].CopyTo(tail);
            op.Invoke(Vector256.Create<float>(tail)).CopyTo(tail);
            tail[..(n - i)].CopyTo(y[i..]);
        }
    }

    private interface IVectorFunction
    {
        Vector256<float> Invoke(Vector256<float> x);
    }

    /// <summary>A function computed in double precision where float would lose digits (exp(x) - 1, tanh near 0).</summary>
    private interface IDoubleVectorFunction
    {
        Vector256<double> Invoke(Vector256<double> x);
    }

    private readonly struct InDouble<TOp>(TOp op) : IVectorFunction
        where TOp : struct, IDoubleVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x)
        {
            (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x);
            return Vector256.Narrow(op.Invoke(lo), op.Invoke(hi));
        }
    }

    private readonly struct ClipF(float lo, float hi) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Min(Vector256.Max(x, Vector256.Create(lo)), Vector256.Create(hi));
    }

    private readonly struct LeakyReluF(float alpha) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x)
            => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), x, x * alpha);
    }

    private readonly struct NegF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => -x;
    }

    private readonly struct AbsF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Abs(x);
    }

    private readonly struct ReciprocalF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / x;
    }

    private readonly struct SqrtF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Sqrt(x);
    }

    private readonly struct ExpF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Exp(x);
    }

    private readonly struct LogF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Log(x);
    }

    private readonly struct SigmoidF : IVectorFunction
    {
        // exp(-x) overflows to +inf for very negative x, and 1 / (1 + inf) is the correct limit 0.
        public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));
    }

    private readonly struct HardSigmoidF(float alpha, float beta, bool timesX) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> h = Vector256.Min(Vector256.Max(x * alpha + Vector256.Create(beta), Vector256<float>.Zero), Vector256<float>.One);
            return timesX ? x * h : h;
        }
    }

    private readonly struct SoftsignF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Abs(x));
    }

    private readonly struct ThresholdedReluF(float alpha) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(alpha)), x, Vector256<float>.Zero);
    }

    private readonly struct ShrinkF(float lambda, float bias) : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> above = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(lambda)), x - Vector256.Create(bias), Vector256<float>.Zero);
            return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-lambda)), x + Vector256.Create(bias), above);
        }
    }

    private readonly struct FloorF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Floor(x);
    }

    private readonly struct CeilF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Ceiling(x);
    }

    private readonly struct RoundF : IVectorFunction
    {
        public Vector256<float> Invoke(Vector256<float> x) => Vector256.Round(x, MidpointRounding.ToEven);
    }

    private readonly struct SignF : IVectorFunction
    {
        // Zero and NaN fall through to x itself.
        public Vector256<float> Invoke(Vector256<float> x)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One,
                Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -Vector256<float>.One, x));
    }

    /// <summary>tanh in double: (e^2x - 1) / (e^2x + 1), with x itself near 0 where the quotient cancels.</summary>
    private readonly struct TanhD : IDoubleVectorFunction
    {
        public Vector256<double> Invoke(Vector256<double> x)
        {
            // tanh(±20) is ±1 in double to 17 digits; clamping keeps e^2x finite.
            Vector256<double> c = Vector256.Min(Vector256.Max(x, Vector256.Create(-20.0)), Vector256.Create(20.0));
            Vector256<double> e = Vector256.Exp(c + c);
            Vector256<double> t = (e - Vector256<double>.One) / (e + Vector256<double>.One);
            return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(1e-4)), x, t);
        }
    }

    private readonly struct SoftplusD : IDoubleVectorFunction
    {
        public Vector256<double> Invoke(Vector256<double> x)
        {
            // max(x, 0) + ln(1 + e) with e = exp(-|x|) in (0, 1]; for small e, ln(1 + e) ≈ e - e²/2 + e³/3
            // keeps the digits that 1 + e would round away.
            Vector256<double> e = Vector256.Exp(-Vector256.Abs(x));
            Vector256<double> series = e * (Vector256<double>.One - e * (Vector256.Create(0.5) - e * Vector256.Create(1.0 / 3)));
            Vector256<double> log1p = Vector256.ConditionalSelect(Vector256.LessThan(e, Vector256.Create(1e-4)), series, Vector256.Log(Vector256<double>.One + e));
            return Vector256.Max(x, Vector256<double>.Zero) + log1p;
        }
    }

    private readonly struct MishD : IDoubleVectorFunction
    {
        public Vector256<double> Invoke(Vector256<double> x) => x * default(TanhD).Invoke(default(SoftplusD).Invoke(x));
    }

    private readonly struct GeluTanhD : IDoubleVectorFunction
    {
        public Vector256<double> Invoke(Vector256<double> x)
        {
            Vector256<double> inner = Vector256.Create(0.79788456080286536) * (x + Vector256.Create(0.044715) * x * x * x);
            return Vector256.Create(0.5) * x * (Vector256<double>.One + default(TanhD).Invoke(inner));
        }
    }

    /// <summary>Elu (<c>scale</c> 1, at x ≥ 0 the identity) and Selu (<c>scale</c> gamma, at x &gt; 0 scaled).</summary>
    private readonly struct EluD(double alpha, double scale, bool zeroIsIdentity) : IDoubleVectorFunction
    {
        public Vector256<double> Invoke(Vector256<double> x)
        {
            Vector256<double> negative = Vector256.Create(alpha) * (Vector256.Exp(x) - Vector256<double>.One);
            Vector256<double> identity = zeroIsIdentity ? Vector256.GreaterThanOrEqual(x, Vector256<double>.Zero) : Vector256.GreaterThan(x, Vector256<double>.Zero);
            return Vector256.Create(scale) * Vector256.ConditionalSelect(identity, x, negative);
        }
    }

    private readonly struct CeluD(double alpha) : IDoubleVectorFunction
    {
        public Vector256<double> Invoke(Vector256<double> x)
        {
            Vector256<double> a = Vector256.Create(alpha);
            Vector256<double> negative = Vector256.Min(Vector256<double>.Zero, a * (Vector256.Exp(x / a) - Vector256<double>.One));
            return Vector256.Max(Vector256<double>.Zero, x) + negative;
        }
    }
}
