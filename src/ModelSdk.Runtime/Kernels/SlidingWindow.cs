namespace ModelSdk.Runtime.Kernels;

/// <summary>Receives the runs of <see cref="SlidingWindow.ForEachRow"/>.</summary>
internal interface IWindowRowVisitor
{
    /// <summary>
    /// Kernel tap <paramref name="tap"/> (row-major index into the kernel) reads input element
    /// <c>inOffset + i · inStride</c> for output element <c>outOffset + i</c>, i in [0, count).
    /// Offsets are within one plane; every element named is in bounds (never padding).
    /// </summary>
    void Row(int tap, int outOffset, int inOffset, int count, int inStride);
}

/// <summary>
/// The geometry of an N-d sliding window over one plane (convolution, im2col, pooling): for each
/// kernel tap, the output positions whose window reaches a real input element through that tap,
/// as contiguous runs along the innermost dimension. Walking taps outermost lets the callers
/// vectorise along output rows, and keeps padding out of the inner loops entirely.
/// </summary>
internal readonly ref struct SlidingWindow
{
    private readonly ReadOnlySpan<int> _input, _output, _kernel, _strides, _dilations, _padsBegin;

    public SlidingWindow(ReadOnlySpan<int> input, ReadOnlySpan<int> output, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin)
    {
        int rank = input.Length;
        if (rank == 0 || output.Length != rank || kernel.Length != rank || strides.Length != rank || dilations.Length != rank || padsBegin.Length != rank)
        {
            throw new ArgumentException("Window shapes must all have the same, non-zero rank.");
        }

        for (int d = 0; d < rank; d++)
        {
            if (input[d] < 0 || output[d] < 0 || kernel[d] < 1 || strides[d] < 1 || dilations[d] < 1 || padsBegin[d] < 0)
            {
                throw new ArgumentException("Invalid window dimensions.");
            }
        }

        _input = input;
        _output = output;
        _kernel = kernel;
        _strides = strides;
        _dilations = dilations;
        _padsBegin = padsBegin;
        InputSize = Product(input);
        OutputSize = Product(output);
        Taps = Product(kernel);
    }

    /// <summary>Elements of one input plane.</summary>
    public int InputSize { get; }

    /// <summary>Elements of one output plane.</summary>
    public int OutputSize { get; }

    /// <summary>Elements of the kernel.</summary>
    public int Taps { get; }

    /// <summary>Whether every tap of every window lands inside the input (no padding is ever read).</summary>
    public bool IsDense
    {
        get
        {
            for (int d = 0; d < _input.Length; d++)
            {
                if (_output[d] > 0 && (_padsBegin[d] > 0 || (long)(_output[d] - 1) * _strides[d] + (long)(_kernel[d] - 1) * _dilations[d] >= _input[d]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Calls <paramref name="visitor"/> for every run of in-bounds (tap, output) pairs, taps in row-major order.</summary>
    public void ForEachRow<TVisitor>(ref TVisitor visitor)
        where TVisitor : IWindowRowVisitor, allows ref struct
    {
        int rank = _input.Length, last = rank - 1;
        Span<int> tap = stackalloc int[rank];
        Span<int> lo = stackalloc int[rank];
        Span<int> hi = stackalloc int[rank];
        Span<int> shift = stackalloc int[rank];
        Span<int> o = stackalloc int[rank];
        Span<int> inStride = stackalloc int[rank];
        Span<int> outStride = stackalloc int[rank];
        for (int d = last, si = 1, so = 1; d >= 0; d--)
        {
            inStride[d] = si;
            outStride[d] = so;
            si *= _input[d];
            so *= _output[d];
        }

        for (int t = 0; t < Taps; t++)
        {
            // Output o reads input o · stride + shift through this tap; keep the o where that is in [0, input).
            bool empty = false;
            for (int d = 0; d < rank; d++)
            {
                shift[d] = tap[d] * _dilations[d] - _padsBegin[d];
                lo[d] = Math.Max(0, CeilDiv(-shift[d], _strides[d]));
                hi[d] = Math.Min(_output[d], FloorDiv(_input[d] - 1 - shift[d], _strides[d]) + 1);
                empty |= lo[d] >= hi[d];
                o[d] = lo[d];
            }

            if (!empty)
            {
                VisitTap(ref visitor, t, lo, hi, shift, o, inStride, outStride);
            }

            for (int d = last; d >= 0; d--)
            {
                if (++tap[d] < _kernel[d])
                {
                    break;
                }

                tap[d] = 0;
            }
        }
    }

    private void VisitTap<TVisitor>(ref TVisitor visitor, int t, scoped ReadOnlySpan<int> lo, scoped ReadOnlySpan<int> hi, scoped ReadOnlySpan<int> shift, scoped Span<int> o, scoped ReadOnlySpan<int> inStride, scoped ReadOnlySpan<int> outStride)
        where TVisitor : IWindowRowVisitor, allows ref struct
    {
        int last = _input.Length - 1;
        int count = hi[last] - lo[last];
        while (true)
        {
            int outOffset = 0, inOffset = 0;
            for (int d = 0; d <= last; d++)
            {
                outOffset += o[d] * outStride[d];
                inOffset += (o[d] * _strides[d] + shift[d]) * inStride[d];
            }

            visitor.Row(t, outOffset, inOffset, count, _strides[last]);

            int e = last - 1;
            for (; e >= 0; e--)
            {
                if (++o[e] < hi[e])
                {
                    break;
                }

                o[e] = lo[e];
            }

            if (e < 0)
            {
                return;
            }
        }
    }

    /// <summary>Number of taps of the window of output <paramref name="o"/> along <paramref name="d"/> that land in [low, high) of the input axis.</summary>
    public int TapsWithin(int d, int o, int low, int high)
    {
        int start = o * _strides[d] - _padsBegin[d];
        int first = Math.Max(0, CeilDiv(low - start, _dilations[d]));
        int end = Math.Min(_kernel[d], FloorDiv(high - 1 - start, _dilations[d]) + 1);
        return Math.Max(0, end - first);
    }

    public static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

    public static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static int Product(ReadOnlySpan<int> shape)
    {
        int p = 1;
        foreach (int d in shape)
        {
            p = checked(p * d);
        }

        return p;
    }
}

/// <summary>Unfolds one group's input planes into the im2col matrix: row (channel, tap), one column per output position.</summary>
internal ref struct Im2ColVisitor<T>(ReadOnlySpan<T> x, Span<T> col, int channels, int inputSize, int outputSize, int taps) : IWindowRowVisitor
    where T : unmanaged
{
    private readonly ReadOnlySpan<T> _x = x;
    private readonly Span<T> _col = col;

    public readonly void Row(int tap, int outOffset, int inOffset, int count, int inStride)
    {
        // Column row (c, tap) holds, for every output position, the input element that tap reads.
        for (int c = 0; c < channels; c++)
        {
            Span<T> dst = _col.Slice((c * taps + tap) * outputSize + outOffset, count);
            ReadOnlySpan<T> src = _x.Slice(c * inputSize);
            if (inStride == 1)
            {
                src.Slice(inOffset, count).CopyTo(dst);
                continue;
            }

            for (int i = 0; i < count; i++)
            {
                dst[i] = src[inOffset + i * inStride];
            }
        }
    }
}
