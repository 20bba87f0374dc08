using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Softmax or log-softmax along one axis of a float32 tensor viewed as <c>[outer, axisLength, inner]</c>.
/// Numerically stable: the maximum along the axis is subtracted before exponentiating.
/// </summary>
public static class Softmax
{
    // Inner positions normalised together when the axis is not the last one: each row of the chunk is
    // contiguous, so the work vectorises across positions, and the running max and sum fit on the stack.
    private const int Chunk = 64;

    /// <summary>
    /// <c>y = exp(x - max) / sum(exp(x - max))</c>, or with <paramref name="log"/>
    /// <c>y = x - max - log(sum(exp(x - max)))</c>, along the axis. <paramref name="x"/> and <paramref name="y"/> may be the same memory.
    /// </summary>
    /// <param name="x">The input, dense.</param>
    /// <param name="y">The output, same shape.</param>
    /// <param name="axisLength">Length of the normalised axis (for opset &lt; 13, the product of the trailing dimensions).</param>
    /// <param name="inner">Product of the dimensions after the axis (1 when it is the last).</param>
    /// <param name="log">Whether to compute log-softmax.</param>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, int axisLength, int inner, bool log)
    {
        long block = (long)axisLength * inner;
        if (x.Length != y.Length || axisLength < 0 || inner < 0 || (block == 0 ? x.Length != 0 : x.Length % block != 0))
        {
            throw new ArgumentException($"Softmax over [{axisLength},{inner}] blocks got an input of {x.Length} and an output of {y.Length}.");
        }

        if (x.Length == 0)
        {
            return;
        }

        int outer = (int)(x.Length / block);
        for (int o = 0; o < outer; o++)
        {
            int start = o * (int)block;
            if (inner == 1)
            {
                Row(x.Slice(start, axisLength), y.Slice(start, axisLength), log);
                continue;
            }

            for (int c = 0; c < inner; c += Chunk)
            {
                Columns(x, y, start + c, Math.Min(Chunk, inner - c), axisLength, inner, log);
            }
        }
    }

    private static void Row(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = Max(x);
        float sum = 0;
        int w = Vector256<float>.Count;
        int i = 0;
        Vector256<float> vmax = Vector256.Create(max);
        Vector256<float> vsum = Vector256<float>.Zero;
        for (; i <= x.Length - w; i += w)
        {
            Vector256<float> e = Vector256.Exp(Vector256.Create(x.Slice(i, w)) - vmax);
            vsum += e;
            if (!log)
            {
                e.CopyTo(y.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            sum += e;
            if (!log)
            {
                y[i] = e;
            }
        }

        sum += Vector256.Sum(vsum);
        if (log)
        {
            Shift(x, y, max, MathF.Log(sum));
        }
        else
        {
            Scale(y, 1 / sum);
        }
    }

    // Normalises `width` adjacent inner positions starting at x[start], whose axis elements are `inner` apart.
    private static void Columns(ReadOnlySpan<float> x, Span<float> y, int start, int width, int axisLength, int inner, bool log)
    {
        Span<float> max = stackalloc float[width];
        Span<float> sum = stackalloc float[width];
        x.Slice(start, width).CopyTo(max);
        for (int j = 1; j < axisLength; j++)
        {
            MaxInto(max, x.Slice(start + j * inner, width));
        }

        sum.Clear();
        for (int j = 0; j < axisLength; j++)
        {
            int at = start + j * inner;
            ExpAccumulate(x.Slice(at, width), max, sum, log ? default : y.Slice(at, width));
        }

        for (int i = 0; i < width; i++)
        {
            sum[i] = log ? MathF.Log(sum[i]) : 1 / sum[i];
        }

        for (int j = 0; j < axisLength; j++)
        {
            int at = start + j * inner;
            if (log)
            {
                Shift(x.Slice(at, width), max, sum, y.Slice(at, width));
            }
            else
            {
                Multiply(y.Slice(at, width), sum);
            }
        }
    }

    private static float Max(ReadOnlySpan<float> x)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        float max = float.NegativeInfinity;
        if (x.Length >= w)
        {
            Vector256<float> v = Vector256.Create(x.Slice(0, w));
            for (i = w; i <= x.Length - w; i += w)
            {
                v = Vector256.Max(v, Vector256.Create(x.Slice(i, w)));
            }

            for (int k = 0; k < w; k++)
            {
                max = MathF.Max(max, v[k]);
            }
        }

        for (; i < x.Length; i++)
        {
            max = MathF.Max(max, x[i]);
        }

        return max;
    }

    private static void MaxInto(Span<float> max, ReadOnlySpan<float> x)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        for (; i <= x.Length - w; i += w)
        {
            Vector256.Max(Vector256.Create(max.Slice(i, w)), Vector256.Create(x.Slice(i, w))).CopyTo(max.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            max[i] = MathF.Max(max[i], x[i]);
        }
    }

    // sum += exp(x - max); also stores the exponentials in `e` unless it is empty.
    private static void ExpAccumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> max, Span<float> sum, Span<float> e)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        for (; i <= x.Length - w; i += w)
        {
            Vector256<float> v = Vector256.Exp(Vector256.Create(x.Slice(i, w)) - Vector256.Create(max.Slice(i, w)));
            (Vector256.Create(sum.Slice(i, w)) + v).CopyTo(sum.Slice(i));
            if (!e.IsEmpty)
            {
                v.CopyTo(e.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            float v = MathF.Exp(x[i] - max[i]);
            sum[i] += v;
            if (!e.IsEmpty)
            {
                e[i] = v;
            }
        }
    }

    // y = (x - max) - logSum for a whole row; subtracting in this order keeps large inputs exact.
    private static void Shift(ReadOnlySpan<float> x, Span<float> y, float max, float logSum)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        Vector256<float> m = Vector256.Create(max), l = Vector256.Create(logSum);
        for (; i <= x.Length - w; i += w)
        {
            (Vector256.Create(x.Slice(i, w)) - m - l).CopyTo(y.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            y[i] = x[i] - max - logSum;
        }
    }

    private static void Scale(Span<float> y, float factor)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        Vector256<float> f = Vector256.Create(factor);
        for (; i <= y.Length - w; i += w)
        {
            (Vector256.Create(y.Slice(i, w)) * f).CopyTo(y.Slice(i));
        }

        for (; i < y.Length; i++)
        {
            y[i] *= factor;
        }
    }

    // y = (x - max) - logSum, elementwise.
    private static void Shift(ReadOnlySpan<float> x, ReadOnlySpan<float> max, ReadOnlySpan<float> logSum, Span<float> y)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        for (; i <= x.Length - w; i += w)
        {
            (Vector256.Create(x.Slice(i, w)) - Vector256.Create(max.Slice(i, w)) - Vector256.Create(logSum.Slice(i, w))).CopyTo(y.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            y[i] = x[i] - max[i] - logSum[i];
        }
    }

    private static void Multiply(Span<float> y, ReadOnlySpan<float> factor)
    {
        int w = Vector256<float>.Count;
        int i = 0;
        for (; i <= y.Length - w; i += w)
        {
            (Vector256.Create(y.Slice(i, w)) * Vector256.Create(factor.Slice(i, w))).CopyTo(y.Slice(i));
        }

        for (; i < y.Length; i++)
        {
            y[i] *= factor[i];
        }
    }
}
