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

/// <summary>
/// Elementwise unary kernel: <c>y[i] = op(x[i])</c>. <c>x</c> and <c>y</c> may be the same memory. Large float32
/// tensors are split over the worker threads.
/// </summary>
public static unsafe class Unary
{
    // Elements below which a float32 call stays on the calling thread (a parallel loop costs a few microseconds).
    private const int MinParallelElements = 65536;

    /// <summary>Runs <paramref name="op"/> over <paramref name="x"/>; <paramref name="alpha"/> and <paramref name="beta"/> parameterise it (see <see cref="UnaryOp"/>).</summary>
    /// <typeparam name="T">
    /// <c>float</c> (vectorized), <c>double</c> or <c>Half</c> for every operation; integer types for Identity, Relu, Neg, Abs and Sign.
    /// </typeparam>
    /// <param name="op">The function.</param>
    /// <param name="x">Input.</param>
    /// <param name="y">Output, as long as <paramref name="x"/>.</param>
    /// <param name="alpha">First parameter of <paramref name="op"/>.</param>
    /// <param name="beta">Second parameter of <paramref name="op"/>.</param>
    /// <param name="context">The worker threads that share large float32 inputs.</param>
    public static void Run<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, float alpha, float beta, KernelContext context)
        where T : unmanaged, INumber<T>
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Input and output lengths differ.");
        }

        if (typeof(T) == typeof(float))
        {
            RunFloat(op, MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), alpha, beta, context);
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
    internal static double Scalar(UnaryOp op, double x, double alpha, double beta) => op switch
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

    private static void RunFloat(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float alpha, float beta, KernelContext context)
    {
        if (!Apply(op, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length, alpha, beta, context))
        {
            for (int i = 0; i < x.Length; i++)
            {
                y[i] = (float)Scalar(op, x[i], alpha, beta);
            }
        }
    }

    /// <summary>
    /// <c>y[i] = op(x[i])</c> for <paramref name="n"/> float32 elements (x and y may be the same memory) at the
    /// width <see cref="Simd.Width"/> chooses; false, with nothing written, for the functions without a vector form.
    /// </summary>
    internal static bool Apply(UnaryOp op, ref float x, ref float y, int n, float alpha, float beta) => Simd.Width switch
    {
        SimdWidth.W512 => Apply<Vector512<float>, Simd512>(op, ref x, ref y, n, alpha, beta),
        SimdWidth.W256 => Apply<Vector256<float>, Simd256>(op, ref x, ref y, n, alpha, beta),
        _ => Apply<Vector128<float>, Simd128>(op, ref x, ref y, n, alpha, beta),
    };

    /// <summary>
    /// <see cref="Apply(UnaryOp, ref float, ref float, int, float, float)"/>, split over <paramref name="context"/>'s
    /// workers when there are enough elements. The parts start at multiples of the widest vector, and every element
    /// goes through the same vector code wherever it falls, so the split does not change a single result.
    /// </summary>
    internal static bool Apply(UnaryOp op, ref float x, ref float y, int n, float alpha, float beta, KernelContext context)
    {
        int parts = n < MinParallelElements ? 1 : context.Workers.Chunks(n, MinParallelElements / 2);

        // Zero elements tell whether the function has a vector form without doing anything.
        if (parts <= 1 || !Apply(op, ref x, ref y, 0, alpha, beta))
        {
            return Apply(op, ref x, ref y, n, alpha, beta);
        }

        fixed (float* px = &x, py = &y)
        {
            var state = new ParallelState { X = px, Y = py, N = n, Parts = parts, Op = op, Alpha = alpha, Beta = beta };
            SimdParts.Run(context, parts, &state, &Part<Vector512<float>, Simd512>, &Part<Vector256<float>, Simd256>, &Part<Vector128<float>, Simd128>);
        }

        return true;
    }

    private struct ParallelState
    {
        public float* X, Y;
        public int N, Parts;
        public UnaryOp Op;
        public float Alpha, Beta;
    }

    private static void Part<TV, TS>(void* state, int part)
        where TV : struct
        where TS : ISimd<TV>
    {
        ref readonly ParallelState s = ref *(ParallelState*)state;
        int start = (int)((long)s.N * part / s.Parts) / MaxLanes * MaxLanes;
        int end = part == s.Parts - 1 ? s.N : (int)((long)s.N * (part + 1) / s.Parts) / MaxLanes * MaxLanes;
        Apply<TV, TS>(s.Op, ref s.X[start], ref s.Y[start], end - start, s.Alpha, s.Beta);
    }

    /// <summary><see cref="Apply(UnaryOp, ref float, ref float, int, float, float)"/> at one width.</summary>
    internal static bool Apply<TV, TS>(UnaryOp op, ref float x, ref float y, int n, float alpha, float beta)
        where TV : struct
        where TS : ISimd<TV>
    {
        switch (op)
        {
            case UnaryOp.Identity:
                if (!Unsafe.AreSame(ref x, ref y))
                {
                    MemoryMarshal.CreateReadOnlySpan(ref x, n).CopyTo(MemoryMarshal.CreateSpan(ref y, n));
                }

                return true;
            case UnaryOp.Relu:
                Map<TV, TS, ClipF>(ref x, ref y, n, new ClipF(0, float.PositiveInfinity));
                return true;
            case UnaryOp.Clip:
                Map<TV, TS, ClipF>(ref x, ref y, n, new ClipF(alpha, beta));
                return true;
            case UnaryOp.LeakyRelu:
                Map<TV, TS, LeakyReluF>(ref x, ref y, n, new LeakyReluF(alpha));
                return true;
            case UnaryOp.Neg:
                Map<TV, TS, NegF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Abs:
                Map<TV, TS, AbsF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Reciprocal:
                Map<TV, TS, ReciprocalF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Sqrt:
                Map<TV, TS, SqrtF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Exp:
                Map<TV, TS, ExpF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Log:
                Map<TV, TS, LogF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Sigmoid:
                Map<TV, TS, SigmoidF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Tanh:
                Map<TV, TS, TanhF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Erf:
                Map<TV, TS, ErfF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.HardSigmoid:
                Map<TV, TS, HardSigmoidF>(ref x, ref y, n, new HardSigmoidF(alpha, beta, false));
                return true;
            case UnaryOp.HardSwish:
                Map<TV, TS, HardSigmoidF>(ref x, ref y, n, new HardSigmoidF(1f / 6, 0.5f, true));
                return true;
            case UnaryOp.Elu:
                Map<TV, TS, EluF>(ref x, ref y, n, new EluF(alpha, 1, true));
                return true;
            case UnaryOp.Selu:
                Map<TV, TS, EluF>(ref x, ref y, n, new EluF(alpha, beta, false));
                return true;
            case UnaryOp.Celu:
                Map<TV, TS, CeluF>(ref x, ref y, n, new CeluF(alpha));
                return true;
            case UnaryOp.Softplus:
                Map<TV, TS, SoftplusF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Softsign:
                Map<TV, TS, SoftsignF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Mish:
                Map<TV, TS, MishF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Gelu:
                Map<TV, TS, GeluF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.GeluTanh:
                Map<TV, TS, GeluTanhF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.ThresholdedRelu:
                Map<TV, TS, ThresholdedReluF>(ref x, ref y, n, new ThresholdedReluF(alpha));
                return true;
            case UnaryOp.Shrink:
                Map<TV, TS, ShrinkF>(ref x, ref y, n, new ShrinkF(alpha, beta));
                return true;
            case UnaryOp.Floor:
                Map<TV, TS, FloorF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Ceil:
                Map<TV, TS, CeilF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Round:
                Map<TV, TS, RoundF>(ref x, ref y, n, default);
                return true;
            case UnaryOp.Sign:
                Map<TV, TS, SignF>(ref x, ref y, n, default);
                return true;
            default:
                return false;
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Map<TV, TS, TF>(ref float x, ref float y, int n, TF f)
        where TV : struct
        where TS : ISimd<TV>
        where TF : struct, IUnaryFunction
    {
        int w = TS.Count;
        int i = 0;
        for (; i <= n - w; i += w)
        {
            TS.Store(f.Apply<TV, TS>(TS.Load(ref x, (nuint)i)), ref y, (nuint)i);
        }

        if (i < n)
        {
            Span<float> tail = stackalloc float[MaxLanes];
            tail.Clear();
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref x, i), n - i).CopyTo(tail);
            ref float t = ref MemoryMarshal.GetReference(tail);
            TS.Store(f.Apply<TV, TS>(TS.Load(ref t, 0)), ref t, 0);
            tail[..(n - i)].CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref y, i), n - i));
        }
    }

    /// <summary>Lanes of the widest vector.</summary>
    internal const int MaxLanes = 16;

    /// <summary>A function of one vector, at any width.</summary>
    internal interface IUnaryFunction
    {
        TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>;
    }

    private readonly struct ClipF(float lo, float hi) : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Min(TS.Max(x, TS.Create(lo)), TS.Create(hi));
    }

    private readonly struct LeakyReluF(float alpha) : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Select(TS.GreaterThanOrEqual(x, TS.Create(0f)), x, TS.Multiply(x, TS.Create(alpha)));
    }

    private readonly struct NegF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Negate(x);
    }

    private readonly struct AbsF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Abs(x);
    }

    private readonly struct ReciprocalF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Divide(TS.Create(1f), x);
    }

    private readonly struct SqrtF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Sqrt(x);
    }

    private readonly struct ExpF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.Exp<TV, TS>(x);
    }

    private readonly struct LogF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.Log<TV, TS>(x);
    }

    private readonly struct SigmoidF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.Sigmoid<TV, TS>(x);
    }

    private readonly struct TanhF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.Tanh<TV, TS>(x);
    }

    private readonly struct ErfF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.Erf<TV, TS>(x);
    }

    private readonly struct GeluF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.Gelu<TV, TS>(x);
    }

    private readonly struct GeluTanhF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.GeluTanh<TV, TS>(x);
    }

    private readonly struct SoftplusF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => FastMath.Softplus<TV, TS>(x);
    }

    private readonly struct MishF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Multiply(x, FastMath.Tanh<TV, TS>(FastMath.Softplus<TV, TS>(x)));
    }

    private readonly struct HardSigmoidF(float alpha, float beta, bool timesX) : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
        {
            TV h = TS.Min(TS.Max(TS.MultiplyAdd(x, TS.Create(alpha), TS.Create(beta)), TS.Create(0f)), TS.Create(1f));
            return timesX ? TS.Multiply(x, h) : h;
        }
    }

    private readonly struct SoftsignF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Divide(x, TS.Add(TS.Create(1f), TS.Abs(x)));
    }

    private readonly struct ThresholdedReluF(float alpha) : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Select(TS.GreaterThan(x, TS.Create(alpha)), x, TS.Create(0f));
    }

    private readonly struct ShrinkF(float lambda, float bias) : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
        {
            TV above = TS.Select(TS.GreaterThan(x, TS.Create(lambda)), TS.Subtract(x, TS.Create(bias)), TS.Create(0f));
            return TS.Select(TS.LessThan(x, TS.Create(-lambda)), TS.Add(x, TS.Create(bias)), above);
        }
    }

    private readonly struct FloorF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Floor(x);
    }

    private readonly struct CeilF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Ceiling(x);
    }

    private readonly struct RoundF : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Round(x);
    }

    private readonly struct SignF : IUnaryFunction
    {
        // Zero and NaN fall through to x itself.
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
            => TS.Select(TS.GreaterThan(x, TS.Create(0f)), TS.Create(1f),
                TS.Select(TS.LessThan(x, TS.Create(0f)), TS.Create(-1f), x));
    }

    /// <summary>Elu (<c>scale</c> 1, at x ≥ 0 the identity) and Selu (<c>scale</c> gamma, at x &gt; 0 scaled).</summary>
    private readonly struct EluF(float alpha, float scale, bool zeroIsIdentity) : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
        {
            TV negative = TS.Multiply(TS.Create(alpha), FastMath.ExpMinusOne<TV, TS>(x));
            TV identity = zeroIsIdentity ? TS.GreaterThanOrEqual(x, TS.Create(0f)) : TS.GreaterThan(x, TS.Create(0f));
            return TS.Multiply(TS.Create(scale), TS.Select(identity, x, negative));
        }
    }

    private readonly struct CeluF(float alpha) : IUnaryFunction
    {
        public TV Apply<TV, TS>(TV x)
            where TV : struct
            where TS : ISimd<TV>
        {
            TV a = TS.Create(alpha);
            TV negative = TS.Min(TS.Create(0f), TS.Multiply(a, FastMath.ExpMinusOne<TV, TS>(TS.Divide(x, a))));
            return TS.Add(TS.Max(TS.Create(0f), x), negative);
        }
    }
}
