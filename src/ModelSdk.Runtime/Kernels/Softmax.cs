using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Softmax or log-softmax along one axis of a float32 tensor viewed as <c>[outer, axisLength, inner]</c>.
/// Numerically stable: the maximum along the axis is subtracted before exponentiating.
/// </summary>
public static unsafe class Softmax
{
    // Inner positions normalised together when the axis is not the last one: each row of the chunk is
    // contiguous, so the work vectorises across positions, and the running max and sum fit on the stack.
    private const int Chunk = 64;

    // Elements below which a call stays on the calling thread (a parallel loop costs a few microseconds).
    private const int MinParallelElements = 16384;

    /// <summary>
    /// <c>y = exp(x - max) / sum(exp(x - max))</c>, or with <paramref name="log"/>
    /// <c>y = x - max - log(sum(exp(x - max)))</c>, along the axis. <paramref name="x"/> and <paramref name="y"/> may be the same memory.
    /// </summary>
    /// <param name="x">The input, dense.</param>
    /// <param name="y">The output, same shape.</param>
    /// <param name="axisLength">Length of the normalised axis (for opset &lt; 13, the product of the trailing dimensions).</param>
    /// <param name="inner">Product of the dimensions after the axis (1 when it is the last).</param>
    /// <param name="log">Whether to compute log-softmax.</param>
    /// <param name="context">The worker threads that share large inputs.</param>
    public static void Run(ReadOnlySpan<float> x, Span<float> y, int axisLength, int inner, bool log, KernelContext context)
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

        // Work items: single rows when the axis is last, else chunks of inner positions of one outer index.
        int outer = (int)(x.Length / block);
        int perOuter = inner == 1 ? 1 : (inner + Chunk - 1) / Chunk;
        int items = outer * perOuter;
        int parts = x.Length < MinParallelElements ? 1 : Math.Min(items, context.Workers.Chunks(x.Length, MinParallelElements / 2));
        fixed (float* px = x, py = y)
        {
            var state = new State(px, py, axisLength, inner, log, perOuter, items, parts);
            SimdParts.Run(context, parts, &state, &Body<Vector512<float>, Simd512>, &Body<Vector256<float>, Simd256>, &Body<Vector128<float>, Simd128>);
        }
    }

    private readonly struct State(float* x, float* y, int axisLength, int inner, bool log, int perOuter, int items, int parts)
    {
        public readonly float* X = x, Y = y;
        public readonly int AxisLength = axisLength, Inner = inner, PerOuter = perOuter, Items = items, Parts = parts;
        public readonly bool Log = log;
    }

    private static void Body<TV, TS>(void* state, int part)
        where TV : struct
        where TS : ISimd<TV>
    {
        ref readonly State s = ref *(State*)state;
        int first = (int)((long)s.Items * part / s.Parts), end = (int)((long)s.Items * (part + 1) / s.Parts);
        long block = (long)s.AxisLength * s.Inner;
        for (int item = first; item < end; item++)
        {
            if (s.Inner == 1)
            {
                long at = (long)item * s.AxisLength;
                Row<TV, TS>(ref s.X[at], ref s.Y[at], s.AxisLength, s.Log);
                continue;
            }

            int o = item / s.PerOuter, c = item % s.PerOuter * Chunk;
            long start = o * block + c;
            Columns<TV, TS>(ref s.X[start], ref s.Y[start], Math.Min(Chunk, s.Inner - c), s.AxisLength, s.Inner, s.Log);
        }
    }

    /// <summary>Normalises one contiguous row (<paramref name="x"/> and <paramref name="y"/> may be the same memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Row<TV, TS>(ref float x, ref float y, int n, bool log)
        where TV : struct
        where TS : ISimd<TV>
    {
        float max = Max<TV, TS>(ref x, n);
        float sum = log ? ExpSum<TV, TS>(ref x, ref Unsafe.NullRef<float>(), n, max) : ExpSum<TV, TS>(ref x, ref y, n, max);
        if (log)
        {
            Shift<TV, TS>(ref x, ref y, n, max, MathF.Log(sum));
        }
        else
        {
            Scale<TV, TS>(ref y, n, 1 / sum);
        }
    }

    /// <summary>The largest element of a row (NaN if any is NaN; -inf for an empty row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Max<TV, TS>(ref float x, int n)
        where TV : struct
        where TS : ISimd<TV>
    {
        int w = TS.Count, i = 0;
        float max = float.NegativeInfinity;
        if (n >= w)
        {
            TV v = TS.Load(ref x, 0);
            for (i = w; i <= n - w; i += w)
            {
                v = TS.Max(v, TS.Load(ref x, (nuint)i));
            }

            // The fast reduction uses the instruction's maximum, which can drop a NaN: lanes that are NaN or
            // infinite (v - v is NaN) take the lane-by-lane reduction.
            max = float.IsNaN(TS.Sum(TS.Subtract(v, v))) ? MaxLanes<TV, TS>(v) : TS.MaxAcross(v);
        }

        for (; i < n; i++)
        {
            max = MathF.Max(max, Unsafe.Add(ref x, i));
        }

        return max;
    }

    private static float MaxLanes<TV, TS>(TV v)
        where TV : struct
        where TS : ISimd<TV>
    {
        Span<float> lanes = stackalloc float[Unary.MaxLanes];
        TS.Store(v, ref MemoryMarshal.GetReference(lanes), 0);
        float max = float.NegativeInfinity;
        for (int k = 0; k < TS.Count; k++)
        {
            max = MathF.Max(max, lanes[k]);
        }

        return max;
    }

    /// <summary>Σ exp(x - shift) over a row, storing the exponentials in <paramref name="e"/> unless it is a null reference.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float ExpSum<TV, TS>(ref float x, ref float e, int n, float shift)
        where TV : struct
        where TS : ISimd<TV>
    {
        int w = TS.Count, i = 0;
        bool store = !Unsafe.IsNullRef(ref e);
        TV m = TS.Create(shift);
        TV acc0 = TS.Create(0f), acc1 = TS.Create(0f);
        for (; i <= n - 2 * w; i += 2 * w)
        {
            TV e0 = FastMath.Exp<TV, TS>(TS.Subtract(TS.Load(ref x, (nuint)i), m));
            TV e1 = FastMath.Exp<TV, TS>(TS.Subtract(TS.Load(ref x, (nuint)(i + w)), m));
            acc0 = TS.Add(acc0, e0);
            acc1 = TS.Add(acc1, e1);
            if (store)
            {
                TS.Store(e0, ref e, (nuint)i);
                TS.Store(e1, ref e, (nuint)(i + w));
            }
        }

        for (; i <= n - w; i += w)
        {
            TV e0 = FastMath.Exp<TV, TS>(TS.Subtract(TS.Load(ref x, (nuint)i), m));
            acc0 = TS.Add(acc0, e0);
            if (store)
            {
                TS.Store(e0, ref e, (nuint)i);
            }
        }

        float sum = TS.Sum(TS.Add(acc0, acc1));
        if (i < n)
        {
            // The tail goes through the same vector code, padded with -inf (whose exponential adds 0).
            Span<float> tail = stackalloc float[Unary.MaxLanes];
            tail.Fill(float.NegativeInfinity);
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref x, i), n - i).CopyTo(tail);
            ref float t = ref MemoryMarshal.GetReference(tail);
            TV e0 = FastMath.Exp<TV, TS>(TS.Subtract(TS.Load(ref t, 0), m));
            sum += TS.Sum(e0);
            if (store)
            {
                TS.Store(e0, ref t, 0);
                tail[..(n - i)].CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref e, i), n - i));
            }
        }

        return sum;
    }

    /// <summary><c>y = (x - max) - logSum</c> over a row; subtracting in this order keeps large inputs exact.</summary>
    private static void Shift<TV, TS>(ref float x, ref float y, int n, float max, float logSum)
        where TV : struct
        where TS : ISimd<TV>
    {
        int w = TS.Count, i = 0;
        TV m = TS.Create(max), l = TS.Create(logSum);
        for (; i <= n - w; i += w)
        {
            TS.Store(TS.Subtract(TS.Subtract(TS.Load(ref x, (nuint)i), m), l), ref y, (nuint)i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref y, i) = Unsafe.Add(ref x, i) - max - logSum;
        }
    }

    /// <summary><c>y *= factor</c> over a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Scale<TV, TS>(ref float y, int n, float factor)
        where TV : struct
        where TS : ISimd<TV>
    {
        int w = TS.Count, i = 0;
        TV f = TS.Create(factor);
        for (; i <= n - w; i += w)
        {
            TS.Store(TS.Multiply(TS.Load(ref y, (nuint)i), f), ref y, (nuint)i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref y, i) *= factor;
        }
    }

    // Normalises `width` adjacent inner positions starting at x, whose axis elements are `inner` apart.
    private static void Columns<TV, TS>(ref float x, ref float y, int width, int axisLength, int inner, bool log)
        where TV : struct
        where TS : ISimd<TV>
    {
        Span<float> maxSpan = stackalloc float[Chunk];
        Span<float> sumSpan = stackalloc float[Chunk];
        ref float max = ref MemoryMarshal.GetReference(maxSpan);
        ref float sum = ref MemoryMarshal.GetReference(sumSpan);
        MemoryMarshal.CreateReadOnlySpan(ref x, width).CopyTo(maxSpan);
        for (int j = 1; j < axisLength; j++)
        {
            ref float row = ref Unsafe.Add(ref x, (nint)j * inner);
            for (int i = 0; i < width; i++)
            {
                Unsafe.Add(ref max, i) = MathF.Max(Unsafe.Add(ref max, i), Unsafe.Add(ref row, i));
            }
        }

        sumSpan.Clear();
        for (int j = 0; j < axisLength; j++)
        {
            nint at = (nint)j * inner;
            ExpAccumulate<TV, TS>(ref Unsafe.Add(ref x, at), ref max, ref sum, ref log ? ref Unsafe.NullRef<float>() : ref Unsafe.Add(ref y, at), width);
        }

        for (int i = 0; i < width; i++)
        {
            ref float s = ref Unsafe.Add(ref sum, i);
            s = log ? MathF.Log(s) : 1 / s;
        }

        for (int j = 0; j < axisLength; j++)
        {
            nint at = (nint)j * inner;
            ref float yr = ref Unsafe.Add(ref y, at);
            for (int i = 0; i < width; i++)
            {
                Unsafe.Add(ref yr, i) = log ? Unsafe.Add(ref x, at + i) - Unsafe.Add(ref max, i) - Unsafe.Add(ref sum, i) : Unsafe.Add(ref yr, i) * Unsafe.Add(ref sum, i);
            }
        }
    }

    // sum += exp(x - max) elementwise; also stores the exponentials in e unless it is a null reference.
    private static void ExpAccumulate<TV, TS>(ref float x, ref float max, ref float sum, ref float e, int n)
        where TV : struct
        where TS : ISimd<TV>
    {
        int w = TS.Count, i = 0;
        bool store = !Unsafe.IsNullRef(ref e);
        for (; i <= n - w; i += w)
        {
            TV v = FastMath.Exp<TV, TS>(TS.Subtract(TS.Load(ref x, (nuint)i), TS.Load(ref max, (nuint)i)));
            TS.Store(TS.Add(TS.Load(ref sum, (nuint)i), v), ref sum, (nuint)i);
            if (store)
            {
                TS.Store(v, ref e, (nuint)i);
            }
        }

        if (i < n)
        {
            Span<float> tail = stackalloc float[Unary.MaxLanes];
            tail.Clear();
            for (int k = i; k < n; k++)
            {
                tail[k - i] = Unsafe.Add(ref x, k) - Unsafe.Add(ref max, k);
            }

            ref float t = ref MemoryMarshal.GetReference(tail);
            TS.Store(FastMath.Exp<TV, TS>(TS.Load(ref t, 0)), ref t, 0);
            for (int k = i; k < n; k++)
            {
                Unsafe.Add(ref sum, k) += tail[k - i];
                if (store)
                {
                    Unsafe.Add(ref e, k) = tail[k - i];
                }
            }
        }
    }
}
