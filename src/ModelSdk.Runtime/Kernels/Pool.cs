using System.Runtime.Intrinsics;

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
public static class Pool
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
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> xp = x.Slice(p * sIn, sIn);
            Span<float> yp = y.Slice(p * sOut, sOut);
            Span<long> ip = indices.IsEmpty ? default : indices.Slice(p * sOut, sOut);
            if (kind == PoolKind.Average)
            {
                if (global)
                {
                    yp[0] = Sum(xp) / sIn;
                    continue;
                }

                yp.Clear();
                var sum = new SumVisitor(xp, yp);
                window.ForEachRow(ref sum);
                DivideByCounts(yp, window, inputShape, outputShape, padsBegin, padsEnd, countIncludePad);
            }
            else if (global && ip.IsEmpty)
            {
                yp[0] = Max(xp);
            }
            else
            {
                yp.Fill(float.NegativeInfinity);
                if (ip.IsEmpty)
                {
                    var max = new MaxVisitor(xp, yp);
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

    private static float Sum(ReadOnlySpan<float> x)
    {
        var acc = Vector256<float>.Zero;
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            acc += Vector256.Create(x.Slice(i, Vector256<float>.Count));
        }

        float sum = Vector256.Sum(acc);
        for (; i < x.Length; i++)
        {
            sum += x[i];
        }

        return sum;
    }

    private static float Max(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        int i = 0;
        if (x.Length >= Vector256<float>.Count)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                acc = Vector256.Max(acc, Vector256.Create(x.Slice(i, Vector256<float>.Count)));
            }

            for (int j = 0; j < Vector256<float>.Count; j++)
            {
                max = MathF.Max(max, acc[j]);
            }
        }

        for (; i < x.Length; i++)
        {
            max = MathF.Max(max, x[i]);
        }

        return max;
    }

    private ref struct SumVisitor(ReadOnlySpan<float> x, Span<float> y) : IWindowRowVisitor
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
                    (Vector256.Create(dst.Slice(i, Vector256<float>.Count)) + Vector256.Create(src.Slice(i, Vector256<float>.Count))).CopyTo(dst.Slice(i));
                }

                for (; i < count; i++)
                {
                    dst[i] += src[i];
                }

                return;
            }

            for (int i = 0; i < count; i++)
            {
                dst[i] += _x[inOffset + i * inStride];
            }
        }
    }

    private ref struct MaxVisitor(ReadOnlySpan<float> x, Span<float> y) : IWindowRowVisitor
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
                    Vector256.Max(Vector256.Create(dst.Slice(i, Vector256<float>.Count)), Vector256.Create(src.Slice(i, Vector256<float>.Count))).CopyTo(dst.Slice(i));
                }

                for (; i < count; i++)
                {
                    dst[i] = MathF.Max(dst[i], src[i]);
                }

                return;
            }

            for (int i = 0; i < count; i++)
            {
                dst[i] = MathF.Max(dst[i], _x[inOffset + i * inStride]);
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
