using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>The reduction of a <see cref="Pool"/> window.</summary>
public enum PoolKind
{
    /// <summary>The largest element (padding never wins).</summary>
    Max,
    /// <summary>The mean of the elements (padding counted as zeros or left out).</summary>
    Average,
}

/// <summary>
/// N-d max and average pooling (float32) over planes: <c>x</c> is <c>[planes, in…]</c> and <c>y</c>
/// is <c>[planes, out…]</c>, where a plane is one channel of one image.
/// </summary>
public static unsafe class Pool
{
    /// <summary>Pools every plane.</summary>
    /// <param name="kind">Max or average.</param>
    /// <param name="x">Input.</param>
    /// <param name="y">Output.</param>
    /// <param name="indices">For <see cref="PoolKind.Max"/>, optionally (empty when unused) the flat index into <paramref name="x"/> of each maximum.</param>
    /// <param name="planes">Batch × channels.</param>
    /// <param name="inputShape">Spatial input shape.</param>
    /// <param name="outputShape">Spatial output shape.</param>
    /// <param name="kernelShape">Window shape.</param>
    /// <param name="strides">Stride per spatial dimension.</param>
    /// <param name="dilations">Dilation per spatial dimension.</param>
    /// <param name="padsBegin">Padding before each spatial dimension.</param>
    /// <param name="padsEnd">Padding after each spatial dimension (matters to averages that count padding).</param>
    /// <param name="countIncludePad">Whether an average divides by the window size including padding.</param>
    /// <param name="columnMajorIndices">Whether <paramref name="indices"/> number the spatial elements of a plane column-major.</param>
    public static void Run(
        PoolKind kind, ReadOnlySpan<float> x, Span<float> y, Span<long> indices, int planes,
        ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> padsEnd,
        bool countIncludePad, bool columnMajorIndices)
    {
        var window = new SlidingWindow(inputShape, outputShape, kernelShape, strides, dilations, padsBegin);
        int sIn = window.InputSize, sOut = window.OutputSize;
        if (planes < 0 || x.Length != planes * sIn || y.Length != planes * sOut || padsEnd.Length != inputShape.Length
            || !(indices.IsEmpty || (indices.Length == y.Length && kind == PoolKind.Max)))
        {
            throw new ArgumentException("Pooling operand lengths do not match the shapes.");
        }

        if (sOut == 0)
        {
            return;
        }

        bool global = IsGlobal(inputShape, outputShape, kernelShape, dilations, padsBegin);
        if (global && kind == PoolKind.Average)
        {
            GlobalAverage(x, y, planes, sIn);
            return;
        }

        if (!global && indices.IsEmpty && IsFullWindow2D(inputShape, outputShape, kernelShape, strides, dilations, padsBegin))
        {
            Pool2D(kind, x, y, planes, inputShape, outputShape, kernelShape, strides);
            return;
        }

        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> xp = x.Slice(p * sIn, sIn);
            Span<float> yp = y.Slice(p * sOut, sOut);
            Span<long> ip = indices.IsEmpty ? default : indices.Slice(p * sOut, sOut);
            if (kind == PoolKind.Average)
            {
                yp.Clear();
                var sum = new CombineVisitor<SumOp>(xp, yp);
                window.ForEachRow(ref sum);
                DivideByCounts(yp, window, inputShape, outputShape, padsBegin, padsEnd, countIncludePad);
            }
            else if (global && ip.IsEmpty)
            {
                yp[0] = Reduce<MaxOp>(xp);
            }
            else
            {
                yp.Fill(float.NegativeInfinity);
                if (ip.IsEmpty)
                {
                    var max = new CombineVisitor<MaxOp>(xp, yp);
                    window.ForEachRow(ref max);
                    continue;
                }

                ip.Fill(-1);
                var argMax = new ArgMaxVisitor(xp, yp, ip);
                window.ForEachRow(ref argMax);
                for (int i = 0; i < sOut; i++)
                {
                    long local = columnMajorIndices ? ColumnMajor((int)ip[i], inputShape) : ip[i];
                    ip[i] = (long)p * sIn + local;
                }
            }
        }
    }

    /// <summary>
    /// Two spatial dimensions, no dilation, and every window inside the input (no padding, no ceil-mode overhang):
    /// each output then combines exactly kernel-size elements, so averages need no per-element divisor.
    /// </summary>
    private static bool IsFullWindow2D(ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin)
    {
        if (input.Length != 2)
        {
            return false;
        }

        for (int d = 0; d < 2; d++)
        {
            if (dilations[d] != 1 || padsBegin[d] != 0 || (output[d] - 1) * strides[d] + kernel[d] > input[d])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The pooling of <see cref="IsFullWindow2D"/> windows, one output row at a time, in vectors along the row.</summary>
    private static void Pool2D(PoolKind kind, ReadOnlySpan<float> x, Span<float> y, int planes, ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides)
    {
        var g = new Window2D
        {
            H = input[0], W = input[1], OH = output[0], OW = output[1], KH = kernel[0], KW = kernel[1], SY = strides[0], SX = strides[1],
            Scale = kind == PoolKind.Average ? 1f / (kernel[0] * kernel[1]) : 1f,
        };
        fixed (float* px = x, py = y)
        {
            if (kind == PoolKind.Max)
            {
                Pool2D<MaxOp>(px, py, planes, g);
            }
            else
            {
                Pool2D<SumOp>(px, py, planes, g);
            }
        }
    }

    private static void Pool2D<TOp>(float* x, float* y, int planes, Window2D g)
        where TOp : ICombine
    {
        switch (Simd.Width)
        {
            case SimdWidth.W512:
                Pool2D<Vector512<float>, Simd512, TOp>(x, y, planes, g);
                break;
            case SimdWidth.W256:
                Pool2D<Vector256<float>, Simd256, TOp>(x, y, planes, g);
                break;
            default:
                Pool2D<Vector128<float>, Simd128, TOp>(x, y, planes, g);
                break;
        }
    }

    private struct Window2D
    {
        public int H, W, OH, OW, KH, KW, SY, SX;
        public float Scale;
    }

    private static void Pool2D<TV, TS, TOp>(float* x, float* y, int planes, Window2D g)
        where TV : struct
        where TS : ISimd<TV>
        where TOp : ICombine
    {
        int n = TS.Count;
        bool average = typeof(TOp) == typeof(SumOp);
        TV scale = TS.Create(g.Scale);

        // Stride 2 deinterleaves with a two-source permute where the processor has one; it reads 2·n inputs per vector.
        bool evens = g.SX == 2 && typeof(TV) == typeof(Vector512<float>) && Avx512F.IsSupported;
        for (int p = 0; p < planes; p++)
        {
            float* xp = x + (long)p * g.H * g.W;
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* yr = y + ((long)p * g.OH + oy) * g.OW;
                float* top = xp + oy * g.SY * g.W;
                int ox = 0;
                if (g.SX == 1 || evens)
                {
                    // The last vector of a row loads only what the row holds (masked) and stores only its outputs.
                    for (; ox < g.OW; ox += n)
                    {
                        int outputs = Math.Min(n, g.OW - ox);
                        TV acc = TS.Create(TOp.Identity);
                        for (int ky = 0; ky < g.KH; ky++)
                        {
                            float* row = top + ky * g.W + ox * g.SX;
                            for (int kx = 0; kx < g.KW; kx++)
                            {
                                int available = g.W - ox * g.SX - kx;
                                TV v = g.SX == 1
                                    ? (available >= n ? TS.Load(ref row[kx], 0) : TS.LoadPartial(row + kx, available))
                                    : Unsafe.BitCast<Vector512<float>, TV>(Evens(row + kx, available));
                                acc = TOp.Combine<TV, TS>(acc, v);
                            }
                        }

                        acc = average ? TS.Multiply(acc, scale) : acc;
                        if (outputs == n)
                        {
                            TS.Store(acc, ref yr[ox], 0);
                        }
                        else
                        {
                            TS.StorePartial(acc, yr + ox, outputs);
                        }
                    }
                }

                for (; ox < g.OW; ox++)
                {
                    float acc = TOp.Identity;
                    for (int ky = 0; ky < g.KH; ky++)
                    {
                        float* row = top + ky * g.W + ox * g.SX;
                        for (int kx = 0; kx < g.KW; kx++)
                        {
                            acc = TOp.Combine(acc, row[kx]);
                        }
                    }

                    yr[ox] = average ? acc * g.Scale : acc;
                }
            }
        }
    }

    /// <summary>Elements 0, 2, …, 30 of the floats at <paramref name="p"/>, reading only the first <paramref name="available"/> of them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Evens(float* p, int available)
    {
        Vector512<float> lo = available >= 16 ? Vector512.Load(p) : Simd512.LoadPartial(p, available);
        Vector512<float> hi = available >= 32 ? Vector512.Load(p + 16) : available > 16 ? Simd512.LoadPartial(p + 16, available - 16) : Vector512<float>.Zero;
        return Avx512F.PermuteVar16x32x2(lo, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
    }

    private static bool IsGlobal(ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin)
    {
        for (int d = 0; d < input.Length; d++)
        {
            if (output[d] != 1 || kernel[d] != input[d] || padsBegin[d] != 0 || (dilations[d] != 1 && kernel[d] > 1))
            {
                return false;
            }
        }

        return true;
    }

    private static void DivideByCounts(Span<float> y, SlidingWindow window, ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> padsEnd, bool countIncludePad)
    {
        // The divisor is separable: the product over dimensions of the taps that land in range.
        int rank = output.Length, last = rank - 1, inner = output[last];
        Span<int> o = stackalloc int[rank];
        for (int row = 0; row < y.Length / inner; row++)
        {
            int outer = 1;
            for (int d = 0; d < last; d++)
            {
                outer *= Within(window, d, o[d], input, padsBegin, padsEnd, countIncludePad);
            }

            Span<float> yr = y.Slice(row * inner, inner);
            for (int i = 0; i < inner; i++)
            {
                yr[i] /= outer * Within(window, last, i, input, padsBegin, padsEnd, countIncludePad);
            }

            for (int d = last - 1; d >= 0; d--)
            {
                if (++o[d] < output[d])
                {
                    break;
                }

                o[d] = 0;
            }
        }
    }

    private static int Within(SlidingWindow window, int d, int o, ReadOnlySpan<int> input, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> padsEnd, bool countIncludePad)
        => countIncludePad
            ? window.TapsWithin(d, o, -padsBegin[d], input[d] + padsEnd[d])
            : window.TapsWithin(d, o, 0, input[d]);

    /// <summary>Renumbers a row-major index within a plane of <paramref name="shape"/> column-major.</summary>
    private static long ColumnMajor(int rowMajor, ReadOnlySpan<int> shape)
    {
        long result = 0, stride = 1;
        int rest = rowMajor;
        Span<int> coords = stackalloc int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            coords[d] = rest % shape[d];
            rest /= shape[d];
        }

        for (int d = 0; d < shape.Length; d++)
        {
            result += coords[d] * stride;
            stride *= shape[d];
        }

        return result;
    }

    /// <summary>
    /// The sum of a plane; on 512-bit vectors with two accumulators and a masked last vector, so that
    /// small planes (7×7: 49 elements) need no scalar tail.
    /// </summary>
    /// <summary>
    /// The mean of every plane, in one pass with no per-plane setup: a squeeze-excite block pools 576 planes of 49,
    /// where slicing and a call per plane cost as much as the sums.
    /// </summary>
    private static void GlobalAverage(ReadOnlySpan<float> x, Span<float> y, int planes, int size)
    {
        fixed (float* px = x, py = y)
        {
            switch (Simd.Width)
            {
                case SimdWidth.W512:
                    GlobalAverage<Vector512<float>, Simd512>(px, py, planes, size);
                    break;
                case SimdWidth.W256:
                    GlobalAverage<Vector256<float>, Simd256>(px, py, planes, size);
                    break;
                default:
                    GlobalAverage<Vector128<float>, Simd128>(px, py, planes, size);
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GlobalAverage<TV, TS>(float* x, float* y, int planes, int size)
        where TV : struct
        where TS : ISimd<TV>
    {
        int n = TS.Count;
        float* p = x;
        for (int plane = 0; plane < planes; plane++, p += size)
        {
            TV a0 = TS.Zero, a1 = TS.Zero;
            int i = 0;
            for (; i + (2 * n) <= size; i += 2 * n)
            {
                a0 = TS.Add(a0, TS.Load(ref p[i], 0));
                a1 = TS.Add(a1, TS.Load(ref p[i + n], 0));
            }

            for (; i < size; i += n)
            {
                a0 = TS.Add(a0, TS.LoadPartial(p + i, Math.Min(n, size - i)));
            }

            y[plane] = TS.Sum(TS.Add(a0, a1)) / size;
        }
    }

    /// <summary>Combines all of <paramref name="x"/> with <typeparamref name="TOp"/>.</summary>
    private static float Reduce<TOp>(ReadOnlySpan<float> x)
        where TOp : ICombine
    {
        var acc = Vector256.Create(TOp.Identity);
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            acc = TOp.Combine(acc, Vector256.Create(x.Slice(i, Vector256<float>.Count)));
        }

        float result = TOp.Identity;
        for (int j = 0; j < Vector256<float>.Count; j++)
        {
            result = TOp.Combine(result, acc[j]);
        }

        for (; i < x.Length; i++)
        {
            result = TOp.Combine(result, x[i]);
        }

        return result;
    }

    /// <summary>An associative reduction of pooled elements, in scalar and vector form.</summary>
    private interface ICombine
    {
        static abstract float Identity { get; }

        static abstract float Combine(float a, float b);

        static abstract Vector256<float> Combine(Vector256<float> a, Vector256<float> b);

        static abstract TV Combine<TV, TS>(TV a, TV b)
            where TV : struct
            where TS : ISimd<TV>;
    }

    private readonly struct SumOp : ICombine
    {
        public static float Identity => 0;

        public static float Combine(float a, float b) => a + b;

        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Combine<TV, TS>(TV a, TV b)
            where TV : struct
            where TS : ISimd<TV> => TS.Add(a, b);
    }

    private readonly struct MaxOp : ICombine
    {
        public static float Identity => float.NegativeInfinity;

        public static float Combine(float a, float b) => MathF.Max(a, b);

        public static Vector256<float> Combine(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Combine<TV, TS>(TV a, TV b)
            where TV : struct
            where TS : ISimd<TV> => TS.Max(a, b);
    }

    /// <summary>Folds each tap's input run into the output row with <typeparamref name="TOp"/>.</summary>
    private ref struct CombineVisitor<TOp>(ReadOnlySpan<float> x, Span<float> y) : IWindowRowVisitor
        where TOp : ICombine
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public readonly void Row(int tap, int outOffset, int inOffset, int count, int inStride)
        {
            Span<float> dst = _y.Slice(outOffset, count);
            if (inStride == 1)
            {
                ReadOnlySpan<float> src = _x.Slice(inOffset, count);
                int i = 0;
                for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    TOp.Combine(Vector256.Create(dst.Slice(i, Vector256<float>.Count)), Vector256.Create(src.Slice(i, Vector256<float>.Count))).CopyTo(dst.Slice(i));
                }

                for (; i < count; i++)
                {
                    dst[i] = TOp.Combine(dst[i], src[i]);
                }

                return;
            }

            for (int i = 0; i < count; i++)
            {
                dst[i] = TOp.Combine(dst[i], _x[inOffset + i * inStride]);
            }
        }
    }

    private ref struct ArgMaxVisitor(ReadOnlySpan<float> x, Span<float> y, Span<long> indices) : IWindowRowVisitor
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;
        private readonly Span<long> _indices = indices;

        public readonly void Row(int tap, int outOffset, int inOffset, int count, int inStride)
        {
            // Taps arrive in row-major order, so a strict comparison keeps the first maximum, as ONNX Runtime does.
            for (int i = 0; i < count; i++)
            {
                int at = inOffset + i * inStride;
                float v = _x[at];
                ref long index = ref _indices[outOffset + i];
                if (index < 0 || v > _y[outOffset + i])
                {
                    _y[outOffset + i] = v;
                    index = at;
                }
            }
        }
    }
}
