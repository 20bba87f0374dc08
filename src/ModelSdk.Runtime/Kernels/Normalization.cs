using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Normalizes rows of a float32 tensor to zero mean and unit variance, then applies a scale and a
/// bias: <c>y = (x − mean) / sqrt(var + epsilon) · scale + bias</c>. The input is a sequence of rows
/// of <c>size</c> elements; row <c>r</c> takes its parameters from block <c>r mod groups</c>, and
/// each row is <c>channels</c> equal runs, run <c>c</c> using parameter <c>block · channels + c</c>.
/// </summary>
/// <remarks>
/// The parameter layout covers the normalization operators: LayerNormalization (groups 1, one
/// parameter per row element: channels = size), InstanceNormalization (groups = C, channels 1),
/// GroupNormalization-21 (groups = G, channels = C / G) and GroupNormalization-18 (groups = G, channels 1).
/// Rows are spread over the worker threads when there are enough elements.
/// </remarks>
public static unsafe class Normalization
{
    // Elements below which a call stays on the calling thread.
    private const int MinParallelElements = 32768;

    /// <summary>Normalizes every row of <paramref name="x"/> into <paramref name="y"/> (which may be the same memory).</summary>
    /// <param name="x">The input, a whole number of rows.</param>
    /// <param name="scale">Factors, <c>groups · channels</c> of them; empty means 1.</param>
    /// <param name="bias">Shifts, <c>groups · channels</c> of them; empty means 0.</param>
    /// <param name="y">The output, shaped like <paramref name="x"/>.</param>
    /// <param name="mean">Optional output of each row's mean (empty when not wanted).</param>
    /// <param name="invStdDev">Optional output of each row's <c>1 / sqrt(var + epsilon)</c> (empty when not wanted).</param>
    /// <param name="size">Elements per row.</param>
    /// <param name="groups">Parameter blocks, used by consecutive rows in turn.</param>
    /// <param name="channels">Parameters per block; a divisor of <paramref name="size"/>.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="context">The worker threads that share the rows of large inputs.</param>
    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, Span<float> mean, Span<float> invStdDev,
        int size, int groups, int channels, float epsilon, KernelContext context)
    {
        if (size < 1 || groups < 1 || channels < 1 || size % channels != 0 || x.Length % size != 0 || y.Length != x.Length)
        {
            throw new ArgumentException("Invalid normalization row layout.");
        }

        int rows = x.Length / size, parameters = groups * channels;
        if (!(scale.IsEmpty || scale.Length == parameters) || !(bias.IsEmpty || bias.Length == parameters)
            || !(mean.IsEmpty || mean.Length == rows) || !(invStdDev.IsEmpty || invStdDev.Length == rows))
        {
            throw new ArgumentException("Normalization parameter or statistics lengths do not match the layout.");
        }

        if (rows == 0)
        {
            return;
        }

        int parts = x.Length < MinParallelElements ? 1 : Math.Min(rows, context.Workers.Chunks(x.Length, MinParallelElements / 2));
        fixed (float* px = x, ps = scale, pb = bias, py = y, pm = mean, pi = invStdDev)
        {
            var state = new State
            {
                X = px, Scale = scale.IsEmpty ? null : ps, Bias = bias.IsEmpty ? null : pb, Y = py,
                Mean = mean.IsEmpty ? null : pm, InvStdDev = invStdDev.IsEmpty ? null : pi,
                Size = size, Groups = groups, Channels = channels, Epsilon = epsilon, Rows = rows, Parts = parts,
            };
            SimdParts.Run(context, parts, &state, &Body<Vector512<float>, Simd512>, &Body<Vector256<float>, Simd256>, &Body<Vector128<float>, Simd128>);
        }
    }

    private struct State
    {
        public float* X, Scale, Bias, Y, Mean, InvStdDev;
        public int Size, Groups, Channels, Rows, Parts;
        public float Epsilon;
    }

    private static void Body<TV, TS>(void* state, int part)
        where TV : struct
        where TS : ISimd<TV>
    {
        ref readonly State s = ref *(State*)state;
        int first = (int)((long)s.Rows * part / s.Parts), end = (int)((long)s.Rows * (part + 1) / s.Parts);
        int size = s.Size, run = size / s.Channels;
        for (int r = first; r < end; r++)
        {
            float* row = s.X + (long)r * size;
            float* output = s.Y + (long)r * size;
            float mu = Sum<TV, TS>(row, size) / size;
            float inv = 1 / MathF.Sqrt(SumOfSquaredDeviations<TV, TS>(row, size, mu) / size + s.Epsilon);
            if (s.Mean != null)
            {
                s.Mean[r] = mu;
            }

            if (s.InvStdDev != null)
            {
                s.InvStdDev[r] = inv;
            }

            int firstParameter = r % s.Groups * s.Channels;
            if (run == 1)
            {
                PerElement<TV, TS>(row, mu, inv, s.Scale == null ? null : s.Scale + firstParameter, s.Bias == null ? null : s.Bias + firstParameter, output, size);
                continue;
            }

            for (int c = 0; c < s.Channels; c++)
            {
                float factor = s.Scale == null ? 1 : s.Scale[firstParameter + c];
                float shift = s.Bias == null ? 0 : s.Bias[firstParameter + c];
                Affine<TV, TS>(row + (long)c * run, mu, inv * factor, shift, output + (long)c * run, run);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum<TV, TS>(float* x, int n)
        where TV : struct
        where TS : ISimd<TV>
    {
        int w = TS.Count, i = 0;
        TV a0 = TS.Create(0f), a1 = TS.Create(0f);
        for (; i <= n - 2 * w; i += 2 * w)
        {
            a0 = TS.Add(a0, TS.Load(ref x[i], 0));
            a1 = TS.Add(a1, TS.Load(ref x[i], (nuint)w));
        }

        for (; i <= n - w; i += w)
        {
            a0 = TS.Add(a0, TS.Load(ref x[i], 0));
        }

        float sum = TS.Sum(TS.Add(a0, a1));
        for (; i < n; i++)
        {
            sum += x[i];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SumOfSquaredDeviations<TV, TS>(float* x, int n, float centre)
        where TV : struct
        where TS : ISimd<TV>
    {
        int w = TS.Count, i = 0;
        TV c = TS.Create(centre);
        TV a0 = TS.Create(0f), a1 = TS.Create(0f);
        for (; i <= n - 2 * w; i += 2 * w)
        {
            TV d0 = TS.Subtract(TS.Load(ref x[i], 0), c);
            TV d1 = TS.Subtract(TS.Load(ref x[i], (nuint)w), c);
            a0 = TS.MultiplyAdd(d0, d0, a0);
            a1 = TS.MultiplyAdd(d1, d1, a1);
        }

        for (; i <= n - w; i += w)
        {
            TV d0 = TS.Subtract(TS.Load(ref x[i], 0), c);
            a0 = TS.MultiplyAdd(d0, d0, a0);
        }

        float sum = TS.Sum(TS.Add(a0, a1));
        for (; i < n; i++)
        {
            float d = x[i] - centre;
            sum += d * d;
        }

        return sum;
    }

    // Subtracting the mean first keeps rows with a large mean exact; folding it into the shift would cancel.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Affine<TV, TS>(float* x, float mu, float factor, float shift, float* y, int n)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV m = TS.Create(mu), f = TS.Create(factor), s = TS.Create(shift);
        int w = TS.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            TS.Store(TS.MultiplyAdd(TS.Subtract(TS.Load(ref x[i], 0), m), f, s), ref y[i], 0);
        }

        for (; i < n; i++)
        {
            y[i] = (x[i] - mu) * factor + shift;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PerElement<TV, TS>(float* x, float mu, float inv, float* scale, float* bias, float* y, int n)
        where TV : struct
        where TS : ISimd<TV>
    {
        TV m = TS.Create(mu), k = TS.Create(inv);
        int w = TS.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            TV v = TS.Multiply(TS.Subtract(TS.Load(ref x[i], 0), m), k);
            v = scale == null ? v : TS.Multiply(v, TS.Load(ref scale[i], 0));
            TS.Store(bias == null ? v : TS.Add(v, TS.Load(ref bias[i], 0)), ref y[i], 0);
        }

        for (; i < n; i++)
        {
            float v = (x[i] - mu) * inv;
            y[i] = (scale == null ? v : v * scale[i]) + (bias == null ? 0 : bias[i]);
        }
    }
}
