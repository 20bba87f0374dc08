using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>Which way a recurrent layer walks its sequences.</summary>
public enum RnnDirection
{
    /// <summary>From the first step to the last.</summary>
    Forward,
    /// <summary>From each sequence's last step to its first.</summary>
    Reverse,
    /// <summary>Both: direction 0 forward, direction 1 reverse.</summary>
    Bidirectional,
}

/// <summary>
/// The activation functions of ONNX recurrent operators, passed to <see cref="Lstm"/>, <see cref="Gru"/> and
/// <see cref="Rnn"/> as their <c>int</c> values, each with an alpha and a beta (ignored where unused).
/// </summary>
public enum RnnActivation
{
    /// <summary><c>1 / (1 + exp(-x))</c></summary>
    Sigmoid,
    /// <summary><c>tanh(x)</c></summary>
    Tanh,
    /// <summary><c>max(0, x)</c></summary>
    Relu,
    /// <summary><c>min(max(alpha · x + beta, 0), 1)</c></summary>
    HardSigmoid,
    /// <summary><c>x &gt;= 0 ? x : alpha · x</c></summary>
    LeakyRelu,
    /// <summary><c>x &gt; alpha ? x : 0</c></summary>
    ThresholdedRelu,
    /// <summary><c>alpha · tanh(beta · x)</c></summary>
    ScaledTanh,
    /// <summary><c>alpha · x + beta</c></summary>
    Affine,
    /// <summary><c>x &gt;= 0 ? x : alpha · (exp(x) - 1)</c></summary>
    Elu,
    /// <summary><c>x / (1 + |x|)</c></summary>
    Softsign,
    /// <summary><c>ln(1 + exp(x))</c></summary>
    Softplus,
}

/// <summary>
/// What the recurrent kernels share: operand checks, the index arithmetic of both layouts, the input
/// projection of every step at once, the per-step matrix–vector products and the activations.
/// </summary>
/// <remarks>
/// Layout 0 (<c>batchMajor</c> false): <c>x [seq, batch, input]</c>, <c>y [seq, directions, batch, hidden]</c>,
/// states <c>[directions, batch, hidden]</c>. Layout 1: <c>x [batch, seq, input]</c>,
/// <c>y [batch, seq, directions, hidden]</c>, states <c>[batch, directions, hidden]</c>.
/// Scratch: the projected gates of every step (<c>seq · batch · gates · hidden</c>), one fused bias
/// (<c>gates · hidden</c>) and three state vectors (<c>3 · hidden</c>).
/// </remarks>
internal readonly struct RecurrentLayout
{
    private readonly bool _batchMajor;

    public RecurrentLayout(RnnDirection direction, bool batchMajor, int seqLength, int batch, int inputSize, int hiddenSize, int gates)
    {
        if (seqLength < 0 || batch < 0 || inputSize < 0 || hiddenSize < 1 || !Enum.IsDefined(direction))
        {
            throw new ArgumentException("Invalid recurrent layer dimensions.");
        }

        Direction = direction;
        _batchMajor = batchMajor;
        SeqLength = seqLength;
        Batch = batch;
        InputSize = inputSize;
        Hidden = hiddenSize;
        Directions = direction == RnnDirection.Bidirectional ? 2 : 1;
        Width = checked(gates * hiddenSize);
    }

    public RnnDirection Direction { get; }

    public int SeqLength { get; }

    public int Batch { get; }

    public int InputSize { get; }

    public int Hidden { get; }

    public int Directions { get; }

    /// <summary>Gates times hidden: one projected row.</summary>
    public int Width { get; }

    /// <summary>Elements of the projected gates of every step, at the start of the scratch.</summary>
    private int GatesLength => SeqLength * Batch * Width;

    /// <summary>Checks every operand's length; optional ones may be empty.</summary>
    public void Validate(
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> b, ReadOnlySpan<int> sequenceLens,
        ReadOnlySpan<float> initialH, Span<float> y, Span<float> yH, Span<float> scratch,
        ReadOnlySpan<int> activations, ReadOnlySpan<float> activationAlpha, ReadOnlySpan<float> activationBeta, int activationsPerDirection)
    {
        long rows = (long)SeqLength * Batch;
        long state = (long)Directions * Batch * Hidden;
        if (x.Length != rows * InputSize
            || w.Length != (long)Directions * Width * InputSize
            || r.Length != (long)Directions * Width * Hidden
            || !(b.IsEmpty || b.Length == 2L * Directions * Width)
            || !(sequenceLens.IsEmpty || sequenceLens.Length == Batch)
            || !(initialH.IsEmpty || initialH.Length == state)
            || !(y.IsEmpty || y.Length == rows * Directions * Hidden)
            || !(yH.IsEmpty || yH.Length == state)
            || scratch.Length < rows * Width + Width + 3L * Hidden)
        {
            throw new ArgumentException("Recurrent layer operand lengths do not match the dimensions.");
        }

        int count = Directions * activationsPerDirection;
        if (activations.Length != count || activationAlpha.Length != count || activationBeta.Length != count)
        {
            throw new ArgumentException($"Expected {count} activations, each with an alpha and a beta.");
        }

        foreach (int a in activations)
        {
            if (!Enum.IsDefined((RnnActivation)a))
            {
                throw new ArgumentOutOfRangeException(nameof(activations), $"Unknown recurrent activation {a}.");
            }
        }

        foreach (int length in sequenceLens)
        {
            if ((uint)length > (uint)SeqLength)
            {
                throw new ArgumentOutOfRangeException(nameof(sequenceLens), $"A sequence length of {length} is outside [0, {SeqLength}].");
            }
        }
    }

    /// <summary>Whether direction <paramref name="d"/> walks its sequences backwards.</summary>
    public bool IsReverse(int d) => Direction == RnnDirection.Reverse || d == 1;

    /// <summary>The length of sequence <paramref name="b"/> (the whole input when no lengths are given).</summary>
    public int Length(ReadOnlySpan<int> sequenceLens, int b) => sequenceLens.IsEmpty ? SeqLength : sequenceLens[b];

    /// <summary>The row of x (and of the projected gates) that holds step <paramref name="t"/> of sequence <paramref name="b"/>.</summary>
    public int Row(int t, int b) => _batchMajor ? b * SeqLength + t : t * Batch + b;

    /// <summary>Offset in y of the hidden vector of step <paramref name="t"/>, direction <paramref name="d"/>, sequence <paramref name="b"/>.</summary>
    public int OutputOffset(int t, int d, int b) => (_batchMajor ? (b * SeqLength + t) * Directions + d : (t * Directions + d) * Batch + b) * Hidden;

    /// <summary>Offset in an initial or final state of direction <paramref name="d"/>, sequence <paramref name="b"/>.</summary>
    public int StateOffset(int d, int b) => (_batchMajor ? b * Directions + d : d * Batch + b) * Hidden;

    /// <summary>The projected gates of every step: the first part of the scratch.</summary>
    public Span<float> Gates(Span<float> scratch) => scratch.Slice(0, GatesLength);

    /// <summary>State vector <paramref name="index"/> (0, 1 or 2) of <see cref="Hidden"/> elements, after the gates and the bias.</summary>
    public Span<float> Vector(Span<float> scratch, int index) => scratch.Slice(GatesLength + Width + index * Hidden, Hidden);

    /// <summary>The weights of direction <paramref name="d"/> in a <c>[directions, width, columns]</c> tensor.</summary>
    public ReadOnlySpan<float> Matrix(ReadOnlySpan<float> weights, int d, int columns) => weights.Slice(d * Width * columns, Width * columns);

    /// <summary>
    /// Fills the gates of direction <paramref name="d"/> for every step: <c>x · W[d]ᵀ + Wb[d]</c>, plus <c>Rb[d]</c> for the
    /// first <paramref name="fusedRecurrentBias"/> elements of each row (the rest of Rb is the caller's to apply).
    /// </summary>
    public void Project(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, int d, int fusedRecurrentBias, Span<float> scratch)
    {
        Span<float> bias = scratch.Slice(GatesLength, Width);
        if (!b.IsEmpty)
        {
            ReadOnlySpan<float> wb = b.Slice(2 * d * Width, Width), rb = b.Slice((2 * d + 1) * Width, Width);
            wb.CopyTo(bias);
            Accumulate(rb.Slice(0, fusedRecurrentBias), bias);
        }

        int rows = SeqLength * Batch;
        Gemm.Multiply(x, false, Matrix(w, d, InputSize), true, Gates(scratch), rows, Width, InputSize, 1,
            b.IsEmpty ? default : bias, 0, 1, b.IsEmpty ? 0 : 1);
    }

    /// <summary>Zeroes the outputs of sequence <paramref name="b"/> past its length and stores its final state.</summary>
    public void Finish(Span<float> y, Span<float> final, ReadOnlySpan<float> state, int d, int b, int length)
    {
        if (!y.IsEmpty)
        {
            for (int t = length; t < SeqLength; t++)
            {
                y.Slice(OutputOffset(t, d, b), Hidden).Clear();
            }
        }

        if (!final.IsEmpty)
        {
            // An empty sequence ends in zeros rather than its initial state, as ONNX Runtime does.
            Span<float> target = final.Slice(StateOffset(d, b), Hidden);
            if (length == 0)
            {
                target.Clear();
            }
            else
            {
                state.CopyTo(target);
            }
        }
    }

    /// <summary>Loads the initial state of direction <paramref name="d"/>, sequence <paramref name="b"/>, or zeros.</summary>
    public void Start(ReadOnlySpan<float> initial, Span<float> state, int d, int b)
    {
        if (initial.IsEmpty)
        {
            state.Clear();
        }
        else
        {
            initial.Slice(StateOffset(d, b), Hidden).CopyTo(state);
        }
    }

    /// <summary><c>y += x</c>.</summary>
    public static void Accumulate(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            (Vector256.Create(y.Slice(i, Vector256<float>.Count)) + Vector256.Create(x.Slice(i, Vector256<float>.Count))).CopyTo(y.Slice(i));
        }

        for (; i < x.Length; i++)
        {
            y[i] += x[i];
        }
    }

    /// <summary><c>y += a ⊙ b</c>.</summary>
    public static void MultiplyAccumulate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        int i = 0;
        for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256.MultiplyAddEstimate(Vector256.Create(a.Slice(i, Vector256<float>.Count)), Vector256.Create(b.Slice(i, Vector256<float>.Count)),
                Vector256.Create(y.Slice(i, Vector256<float>.Count))).CopyTo(y.Slice(i));
        }

        for (; i < y.Length; i++)
        {
            y[i] += a[i] * b[i];
        }
    }

    /// <summary>
    /// <c>y[j] += Σₖ m[j, k] · v[k]</c> for the <c>y.Length</c> rows of the row-major <paramref name="m"/>: a
    /// recurrent weight block times the previous state, one dot product per row (no packing: each row is read once).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddMatrixVector(ReadOnlySpan<float> m, ReadOnlySpan<float> v, Span<float> y)
    {
        int rows = y.Length, cols = v.Length;
        if (m.Length < rows * cols)
        {
            throw new ArgumentException("The matrix is smaller than the vector and result require.");
        }

        const int W = 8;
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            ref float m0 = ref Unsafe.Add(ref rm, j * cols);
            ref float m1 = ref Unsafe.Add(ref m0, cols);
            ref float m2 = ref Unsafe.Add(ref m1, cols);
            ref float m3 = ref Unsafe.Add(ref m2, cols);
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            int k = 0;
            for (; k + W <= cols; k += W)
            {
                Vector256<float> x = Vector256.LoadUnsafe(ref rv, (nuint)k);
                s0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref m0, (nuint)k), x, s0);
                s1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref m1, (nuint)k), x, s1);
                s2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref m2, (nuint)k), x, s2);
                s3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref m3, (nuint)k), x, s3);
            }

            float d0 = Vector256.Sum(s0), d1 = Vector256.Sum(s1), d2 = Vector256.Sum(s2), d3 = Vector256.Sum(s3);
            for (; k < cols; k++)
            {
                float x = Unsafe.Add(ref rv, k);
                d0 += Unsafe.Add(ref m0, k) * x;
                d1 += Unsafe.Add(ref m1, k) * x;
                d2 += Unsafe.Add(ref m2, k) * x;
                d3 += Unsafe.Add(ref m3, k) * x;
            }

            y[j] += d0;
            y[j + 1] += d1;
            y[j + 2] += d2;
            y[j + 3] += d3;
        }

        for (; j < rows; j++)
        {
            ref float m0 = ref Unsafe.Add(ref rm, j * cols);
            Vector256<float> s0 = default;
            int k = 0;
            for (; k + W <= cols; k += W)
            {
                s0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref m0, (nuint)k), Vector256.LoadUnsafe(ref rv, (nuint)k), s0);
            }

            float d0 = Vector256.Sum(s0);
            for (; k < cols; k++)
            {
                d0 += Unsafe.Add(ref m0, k) * Unsafe.Add(ref rv, k);
            }

            y[j] += d0;
        }
    }

    /// <summary>Clips <paramref name="x"/> to <c>[-clip, clip]</c> (when <paramref name="clip"/> is positive), then applies activation <paramref name="index"/>.</summary>
    public static void Activate(Span<float> x, float clip, ReadOnlySpan<int> activations, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, int index)
    {
        if (clip > 0)
        {
            Unary.Run<float>(UnaryOp.Clip, x, x, -clip, clip);
        }

        Apply((RnnActivation)activations[index], x, alpha[index], beta[index]);
    }

    /// <summary>Applies <paramref name="f"/> in place.</summary>
    public static void Apply(RnnActivation f, Span<float> x, float alpha, float beta)
    {
        switch (f)
        {
            case RnnActivation.Sigmoid:
                foreach (ref float v in x)
                {
                    v = Unary.Sigmoid(v);
                }

                break;
            case RnnActivation.Tanh:
                foreach (ref float v in x)
                {
                    v = MathF.Tanh(v);
                }

                break;
            case RnnActivation.Relu:
                foreach (ref float v in x)
                {
                    v = MathF.Max(v, 0);
                }

                break;
            case RnnActivation.HardSigmoid:
                foreach (ref float v in x)
                {
                    v = MathF.Min(MathF.Max(alpha * v + beta, 0), 1);
                }

                break;
            case RnnActivation.LeakyRelu:
                foreach (ref float v in x)
                {
                    v = v >= 0 ? v : alpha * v;
                }

                break;
            case RnnActivation.ThresholdedRelu:
                foreach (ref float v in x)
                {
                    v = v > alpha ? v : 0;
                }

                break;
            case RnnActivation.ScaledTanh:
                foreach (ref float v in x)
                {
                    v = alpha * MathF.Tanh(beta * v);
                }

                break;
            case RnnActivation.Affine:
                foreach (ref float v in x)
                {
                    v = alpha * v + beta;
                }

                break;
            case RnnActivation.Elu:
                foreach (ref float v in x)
                {
                    v = v >= 0 ? v : alpha * (MathF.Exp(v) - 1);
                }

                break;
            case RnnActivation.Softsign:
                foreach (ref float v in x)
                {
                    v /= 1 + MathF.Abs(v);
                }

                break;
            case RnnActivation.Softplus:
                foreach (ref float v in x)
                {
                    // ln(1 + e^v) = max(v, 0) + ln(1 + e^-|v|), which cannot overflow.
                    v = MathF.Max(v, 0) + MathF.Log(1 + MathF.Exp(-MathF.Abs(v)));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f));
        }
    }
}
