using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Elementwise functions of one tensor.</summary>
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
}

/// <summary>Elementwise unary kernel: <c>y[i] = op(x[i])</c>. <c>x</c> and <c>y</c> may be the same memory.</summary>
public static class Unary
{
    /// <summary>Runs <paramref name="op"/> over <paramref name="x"/>. <c>alpha</c> and <c>beta</c> parameterise LeakyRelu and Clip.</summary>
    /// <typeparam name="T"><c>float</c> for every operation; <c>int</c>/<c>long</c> for Identity, Relu, Neg and Abs.</typeparam>
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
            return;
        }

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
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = T.Abs(x[i]);
                }

                break;
            default:
                throw new NotSupportedException($"Unary {op} is not implemented for {typeof(T).Name}.");
        }
    }

    private static void RunFloat(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float alpha, float beta)
    {
        switch (op)
        {
            case UnaryOp.Identity:
                x.CopyTo(y);
                return;
            case UnaryOp.Relu:
                Simd(x, y, static v => Vector256.Max(v, Vector256<float>.Zero), static v => MathF.Max(v, 0));
                return;
            case UnaryOp.Neg:
                Simd(x, y, static v => -v, static v => -v);
                return;
            case UnaryOp.Abs:
                Simd(x, y, Vector256.Abs, MathF.Abs);
                return;
            case UnaryOp.Clip:
                {
                    var lo = Vector256.Create(alpha);
                    var hi = Vector256.Create(beta);
                    int i = 0;
                    for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    {
                        Vector256.Min(Vector256.Max(Vector256.Create(x.Slice(i, Vector256<float>.Count)), lo), hi).CopyTo(y.Slice(i));
                    }

                    for (; i < x.Length; i++)
                    {
                        y[i] = MathF.Min(MathF.Max(x[i], alpha), beta);
                    }

                    return;
                }

            case UnaryOp.LeakyRelu:
                for (int i = 0; i < x.Length; i++)
                {
                    float v = x[i];
                    y[i] = v >= 0 ? v : alpha * v;
                }

                return;
            case UnaryOp.Reciprocal:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = 1f / x[i];
                }

                return;
            case UnaryOp.Sqrt:
                Simd(x, y, Vector256.Sqrt, MathF.Sqrt);
                return;
            case UnaryOp.Exp:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = MathF.Exp(x[i]);
                }

                return;
            case UnaryOp.Log:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = MathF.Log(x[i]);
                }

                return;
            case UnaryOp.Sigmoid:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = Sigmoid(x[i]);
                }

                return;
            case UnaryOp.Tanh:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = MathF.Tanh(x[i]);
                }

                return;
            case UnaryOp.Erf:
                for (int i = 0; i < x.Length; i++)
                {
                    y[i] = (float)Erf(x[i]);
                }

                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(op));
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

    /// <summary>
    /// The error function in double precision: its Maclaurin series up to |x| = 4 (at most ~60 terms,
    /// cancellation costs under 7 of 16 digits) and ±1 beyond, where erfc(4) ≈ 1.5e-8 is below half a
    /// float ulp of 1.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        double ax = Math.Abs(x);
        if (ax >= 4)
        {
            return Math.Sign(x);
        }

        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= -x2 / n;
            double contribution = term / (2 * n + 1);
            sum += contribution;
            if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum))
            {
                break;
            }
        }

        return sum * 1.1283791670955126; // 2 / sqrt(pi)
    }

    private static void Simd(ReadOnlySpan<float> x, Span<float> y, Func<Vector256<float>, Vector256<float>> vector, Func<float, float> scalar)
    {
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            vector(Vector256.Create(x.Slice(i, Vector256<float>.Count))).CopyTo(y.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            y[i] = scalar(x[i]);
        }
    }
}
