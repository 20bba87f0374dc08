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
/// (<c>gates · hidden</c>) and three state blocks of one vector per sequence (<c>3 · batch · hidden</c>).
/// Steps run in lockstep over the batch, so each step reads the recurrent weights once for every sequence.
/// </remarks>
internal readonly struct RecurrentLayout
{
    /// <summary>Sequences whose recurrent products one pass over the weights computes (the offsets live on the stack).</summary>
    public const int Lockstep = 64;

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
            || scratch.Length < rows * Width + Width + 3L * Batch * Hidden)
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

    /// <summary>The longest sequence: the number of lockstep steps.</summary>
    public int MaxLength(ReadOnlySpan<int> sequenceLens)
    {
        int max = sequenceLens.IsEmpty ? SeqLength : 0;
        foreach (int length in sequenceLens)
        {
            max = Math.Max(max, length);
        }

        return max;
    }

    /// <summary>
    /// The time index that sequence <paramref name="b"/> processes at lockstep <paramref name="step"/>, or -1 when it has
    /// ended. A reverse direction starts at each sequence's own last step.
    /// </summary>
    public int Time(ReadOnlySpan<int> sequenceLens, int b, int step, bool reverse)
    {
        int length = Length(sequenceLens, b);
        return step >= length ? -1 : reverse ? length - 1 - step : step;
    }

    /// <summary>The row of x (and of the projected gates) that holds step <paramref name="t"/> of sequence <paramref name="b"/>.</summary>
    public int Row(int t, int b) => _batchMajor ? b * SeqLength + t : t * Batch + b;

    /// <summary>Offset in y of the hidden vector of step <paramref name="t"/>, direction <paramref name="d"/>, sequence <paramref name="b"/>.</summary>
    public int OutputOffset(int t, int d, int b) => (_batchMajor ? (b * SeqLength + t) * Directions + d : (t * Directions + d) * Batch + b) * Hidden;

    /// <summary>Offset in an initial or final state of direction <paramref name="d"/>, sequence <paramref name="b"/>.</summary>
    public int StateOffset(int d, int b) => (_batchMajor ? b * Directions + d : d * Batch + b) * Hidden;

    /// <summary>The projected gates of every step: the first part of the scratch.</summary>
    public Span<float> Gates(Span<float> scratch) => scratch.Slice(0, GatesLength);

    /// <summary>State block <paramref name="index"/> (0, 1 or 2): one vector of <see cref="Hidden"/> elements per sequence, after the gates and the bias.</summary>
    public Span<float> States(Span<float> scratch, int index) => scratch.Slice(GatesLength + Width + index * Batch * Hidden, Batch * Hidden);

    /// <summary>
    /// For every sequence still running at <paramref name="step"/>: adds <c>m · vectors[b]</c> (<paramref name="rows"/> rows of
    /// <see cref="Hidden"/> columns) to its gate row at column <paramref name="column"/>, or, without
    /// <paramref name="intoGates"/>, to its vector in <paramref name="targets"/>.
    /// </summary>
    public void AddRecurrence(
        ReadOnlySpan<float> m, int rows, ReadOnlySpan<float> vectors, ReadOnlySpan<int> sequenceLens, int step, bool reverse,
        Span<float> targets, bool intoGates, int column, Span<int> offsets)
    {
        for (int b0 = 0; b0 < Batch; b0 += offsets.Length)
        {
            int n = Math.Min(offsets.Length, Batch - b0);
            for (int i = 0; i < n; i++)
            {
                int t = Time(sequenceLens, b0 + i, step, reverse);
                offsets[i] = t < 0 ? -1 : intoGates ? Row(t, b0 + i) * Width + column : (b0 + i) * Hidden;
            }

            AddMatrixVectors(m, rows, vectors.Slice(b0 * Hidden, n * Hidden), offsets.Slice(0, n), targets);
        }
    }

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
    /// <c>targets[offsets[i] + j] += Σₖ m[j, k] · vectors[i, k]</c> for the <paramref name="rows"/> rows of the row-major
    /// <paramref name="m"/> and every vector whose offset is not negative. Four rows of m at a time meet every vector, so
    /// the weights are read from memory once per call however many sequences run.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddMatrixVectors(ReadOnlySpan<float> m, int rows, ReadOnlySpan<float> vectors, ReadOnlySpan<int> offsets, Span<float> targets)
    {
        int cols = Hidden;
        if (m.Length < rows * cols || vectors.Length < offsets.Length * cols)
        {
            throw new ArgumentException("The matrix or vectors are smaller than the product requires.");
        }

        foreach (int offset in offsets)
        {
            if (offset >= 0 && offset > targets.Length - rows)
            {
                throw new ArgumentException("A product's target lies outside the buffer.");
            }
        }

        const int W = 8;
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rt = ref MemoryMarshal.GetReference(targets);
        for (int j = 0; j < rows; j += 4)
        {
            int block = Math.Min(4, rows - j);
            ref float m0 = ref Unsafe.Add(ref rm, j * cols);

            // A ragged last block repeats its first row; the extra sums are computed and dropped.
            ref float m1 = ref Unsafe.Add(ref m0, block > 1 ? cols : 0);
            ref float m2 = ref Unsafe.Add(ref m0, block > 2 ? 2 * cols : 0);
            ref float m3 = ref Unsafe.Add(ref m0, block > 3 ? 3 * cols : 0);
            for (int i = 0; i < offsets.Length; i++)
            {
                if (offsets[i] < 0)
                {
                    continue;
                }

                ref float rv = ref Unsafe.Add(ref MemoryMarshal.GetReference(vectors), i * cols);
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

                ref float y = ref Unsafe.Add(ref rt, offsets[i] + j);
                y += d0;
                if (block > 1)
                {
                    Unsafe.Add(ref y, 1) += d1;
                }

                if (block > 2)
                {
                    Unsafe.Add(ref y, 2) += d2;
                }

                if (block > 3)
                {
                    Unsafe.Add(ref y, 3) += d3;
                }
            }
        }
    }

    /// <summary>Clips <paramref name="x"/> to <c>[-clip, clip]</c> (when <paramref name="clip"/> is positive), then applies activation <paramref name="index"/>.</summary>
    public static void Activate(Span<float> x, float clip, ReadOnlySpan<int> activations, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, int index)
    {
        if (clip > 0)
        {
            Unary.Run<float>(UnaryOp.Clip, x, x, -clip, clip, KernelContext.SingleThreaded);
        }

        Apply((RnnActivation)activations[index], x, alpha[index], beta[index]);
    }

    /// <summary>Applies <paramref name="f"/> in place, on the shared vector functions of <see cref="Unary"/>.</summary>
    public static void Apply(RnnActivation f, Span<float> x, float alpha, float beta)
    {
        switch (f)
        {
            case RnnActivation.Sigmoid:
                InPlace(UnaryOp.Sigmoid, x, 0, 0);
                break;
            case RnnActivation.Tanh:
                InPlace(UnaryOp.Tanh, x, 0, 0);
                break;
            case RnnActivation.Relu:
                InPlace(UnaryOp.Relu, x, 0, 0);
                break;
            case RnnActivation.HardSigmoid:
                InPlace(UnaryOp.HardSigmoid, x, alpha, beta);
                break;
            case RnnActivation.LeakyRelu:
                InPlace(UnaryOp.LeakyRelu, x, alpha, 0);
                break;
            case RnnActivation.ThresholdedRelu:
                InPlace(UnaryOp.ThresholdedRelu, x, alpha, 0);
                break;
            case RnnActivation.ScaledTanh:
                Affine(x, beta, 0);
                InPlace(UnaryOp.Tanh, x, 0, 0);
                Affine(x, alpha, 0);
                break;
            case RnnActivation.Affine:
                Affine(x, alpha, beta);
                break;
            case RnnActivation.Elu:
                InPlace(UnaryOp.Elu, x, alpha, 0);
                break;
            case RnnActivation.Softsign:
                InPlace(UnaryOp.Softsign, x, 0, 0);
                break;
            case RnnActivation.Softplus:
                InPlace(UnaryOp.Softplus, x, 0, 0);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f));
        }
    }

    private static void InPlace(UnaryOp op, Span<float> x, float alpha, float beta)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        Unary.Apply(op, ref r, ref r, x.Length, alpha, beta);
    }

    /// <summary><c>x = alpha · x + beta</c>.</summary>
    private static void Affine(Span<float> x, float alpha, float beta)
    {
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Span<float> lanes = x.Slice(i, Vector256<float>.Count);
            Vector256.MultiplyAddEstimate(Vector256.Create(lanes), Vector256.Create(alpha), Vector256.Create(beta)).CopyTo(lanes);
        }

        for (; i < x.Length; i++)
        {
            x[i] = alpha * x[i] + beta;
        }
    }
}
