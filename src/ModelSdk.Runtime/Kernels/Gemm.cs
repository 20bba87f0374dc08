namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Matrix multiplication <c>y = act(alpha · op(a) · op(b) + beta · c + residual)</c> (float32), where
/// <c>op</c> optionally transposes. One call multiplies a batch of matrices whose batch dimensions follow
/// NumPy broadcasting (MatMul), or a single pair (Gemm, where <c>c</c> is a bias broadcast to
/// <c>[m, n]</c>). Matrices are dense and row-major; a constant <c>b</c> usually comes pre-packed in the
/// layout of <see cref="GemmPacking"/>.
/// </summary>
/// <remarks>
/// The work is done by register-tiled micro-kernels (6 × 64 with 512-bit vectors, narrower tiles with
/// 256- or 128-bit ones, chosen at run time) inside a cache-blocked loop nest; products large enough are
/// split over the worker threads of <c>context</c>. Results do not depend on the thread count or the vector width.
/// </remarks>
public static class Gemm
{
    /// <summary>Computes every matrix of the batch.</summary>
    /// <param name="a">Left operands: <c>[m, k]</c> each, or <c>[k, m]</c> when <paramref name="transA"/>.</param>
    /// <param name="b">Right operands: <c>[k, n]</c> each, <c>[n, k]</c> when <paramref name="transB"/>, or <see cref="GemmPacking.PackedBLength"/> elements each in the panel layout when <paramref name="packedB"/>.</param>
    /// <param name="c">Optional bias (empty when absent), element <c>(i, j)</c> at <c>i · cRowStride + j · cColStride</c>; the same for every matrix of the batch.</param>
    /// <param name="residual">Optional tensor added after the bias (empty when absent), shaped like <paramref name="y"/>.</param>
    /// <param name="y">Results, <c>[batch…, m, n]</c> dense.</param>
    /// <param name="m">Rows of each result.</param>
    /// <param name="n">Columns of each result.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="transA">Whether each matrix of <paramref name="a"/> is stored transposed.</param>
    /// <param name="transB">Whether each matrix of <paramref name="b"/> is stored transposed (false when <paramref name="packedB"/>).</param>
    /// <param name="packedB">Whether <paramref name="b"/> is in the panel layout of <see cref="GemmPacking.PackB"/>.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the bias (ignored without one).</param>
    /// <param name="cRowStride">Element stride of <paramref name="c"/> between rows (0 when broadcast over rows).</param>
    /// <param name="cColStride">Element stride of <paramref name="c"/> between columns (0 when broadcast over columns).</param>
    /// <param name="batchShape">Collapsed batch shape (at least one dimension; <c>[1]</c> for a single product).</param>
    /// <param name="aBatchStrides">Element stride of <paramref name="a"/> per batch dimension (0 where it is broadcast).</param>
    /// <param name="bBatchStrides">Element stride of <paramref name="b"/> per batch dimension (0 where it is broadcast).</param>
    /// <param name="activation">Activation applied last.</param>
    /// <param name="activationAlpha">First parameter of <paramref name="activation"/>.</param>
    /// <param name="activationBeta">Second parameter of <paramref name="activation"/>.</param>
    /// <param name="context">The worker threads large products are split over.</param>
    public static void Run(
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, ReadOnlySpan<float> residual, Span<float> y,
        int m, int n, int k, bool transA, bool transB, bool packedB, float alpha, float beta, int cRowStride, int cColStride,
        ReadOnlySpan<int> batchShape, ReadOnlySpan<int> aBatchStrides, ReadOnlySpan<int> bBatchStrides,
        Activation activation, float activationAlpha, float activationBeta, KernelContext context)
    {
        (int batch, int _) = BatchLayout.Check(batchShape, aBatchStrides, bBatchStrides, m, n, k, y.Length);
        if (packedB && transB)
        {
            throw new ArgumentException("A packed right operand has no transposed form.");
        }

        CheckBatchExtent(batchShape, aBatchStrides, (long)m * k, a.Length, "a");
        CheckBatchExtent(batchShape, bBatchStrides, packedB ? GemmPacking.PackedBLength(k, n) : (long)k * n, b.Length, "b");
        var epilogue = new GemmEpilogue(alpha, c, cRowStride, cColStride, beta, residual, activation, activationAlpha, activationBeta);
        epilogue.Check(m, n, y.Length);
        GemmOperand aLayout = transA ? GemmOperand.Transposed : GemmOperand.RowMajor;
        GemmOperand bLayout = packedB ? GemmOperand.Packed : transB ? GemmOperand.Transposed : GemmOperand.RowMajor;
        unsafe
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* py = y)
            fixed (float* pc = epilogue.C)
            fixed (float* pr = epilogue.Residual)
            fixed (int* shape = batchShape)
            fixed (int* aStrides = aBatchStrides)
            fixed (int* bStrides = bBatchStrides)
            {
                GemmProblem problem = Problem(pa, aLayout, pb, bLayout, py, m, n, k, epilogue, pc, pr, SimdWidth.Auto);
                var walk = new BatchWalk { Shape = shape, AStrides = aStrides, BStrides = bStrides, Rank = batchShape.Length };
                GemmEngine.RunBatch(problem, batch, walk, context);
            }
        }
    }

    /// <summary>One product, <c>y[m, n] = alpha · op(a) · op(b) + beta · c</c>, on the calling thread; <paramref name="a"/> and <paramref name="b"/> are exactly one matrix each.</summary>
    internal static void Multiply(
        ReadOnlySpan<float> a, bool transA, ReadOnlySpan<float> b, bool transB, Span<float> y,
        int m, int n, int k, float alpha, ReadOnlySpan<float> c, int cRowStride, int cColStride, float beta)
        => Multiply(
            a, transA ? GemmOperand.Transposed : GemmOperand.RowMajor, b, transB ? GemmOperand.Transposed : GemmOperand.RowMajor, y, m, n, k,
            new GemmEpilogue(alpha, c, cRowStride, cColStride, beta), null);

    /// <summary>
    /// One product <c>y[m, n] = act(alpha · op(a) · op(b) + beta · c + residual)</c>, each operand row-major,
    /// transposed or pre-packed; split over <paramref name="context"/>'s threads when large (null: this thread).
    /// </summary>
    /// <remarks>
    /// The entry point for other kernels. A convolution with constant weights <c>W [outChannels, K]</c>
    /// packs them at build time with <see cref="GemmPacking.PackA"/> and calls this with
    /// <c>aLayout = Packed</c> and its im2col (or, for a 1×1 kernel, the input itself) as a row-major
    /// <c>b [K, spatial]</c>; a per-channel bias is <c>c</c> with <c>cRowStride = 1, cColStride = 0</c>.
    /// Called from inside a parallel loop's body, the product runs on that thread.
    /// </remarks>
    internal static void Multiply(
        ReadOnlySpan<float> a, GemmOperand aLayout, ReadOnlySpan<float> b, GemmOperand bLayout, Span<float> y,
        int m, int n, int k, in GemmEpilogue epilogue, KernelContext? context, SimdWidth path = SimdWidth.Auto)
        => Multiply(a, aLayout, b, default, bLayout, y, m, n, k, epilogue, context, path);

    /// <summary>
    /// The product of the overload above with row <c>p</c> of <c>op(b)</c> scaled by <paramref name="bRowScale"/><c>[p]</c>
    /// (k values; empty: none) as b is packed: a convolution whose input is scaled per channel (squeeze-excite)
    /// reads it unscaled. b must not be pre-packed.
    /// </summary>
    internal static void Multiply(
        ReadOnlySpan<float> a, GemmOperand aLayout, ReadOnlySpan<float> b, ReadOnlySpan<float> bRowScale, GemmOperand bLayout, Span<float> y,
        int m, int n, int k, in GemmEpilogue epilogue, KernelContext? context, SimdWidth path = SimdWidth.Auto)
    {
        if (m < 0 || n < 0 || k < 0 || y.Length != checked(m * n)
            || a.Length != (aLayout == GemmOperand.Packed ? GemmPacking.PackedALength(m, k) : checked(m * k))
            || b.Length != (bLayout == GemmOperand.Packed ? GemmPacking.PackedBLength(k, n) : checked(k * n))
            || !(bRowScale.IsEmpty || (bRowScale.Length == k && bLayout != GemmOperand.Packed)))
        {
            throw new ArgumentException("GEMM operand lengths do not match m, n and k.");
        }

        epilogue.Check(m, n, y.Length);
        unsafe
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* ps = bRowScale)
            fixed (float* py = y)
            fixed (float* pc = epilogue.C)
            fixed (float* pr = epilogue.Residual)
            {
                GemmProblem problem = Problem(pa, aLayout, pb, bLayout, py, m, n, k, epilogue, pc, pr, path);
                problem.BRowScale = ps;
                GemmEngine.Run(problem, context);
            }
        }
    }

    private static unsafe GemmProblem Problem(
        float* a, GemmOperand aLayout, float* b, GemmOperand bLayout, float* y, int m, int n, int k,
        in GemmEpilogue epilogue, float* c, float* residual, SimdWidth path) => new()
        {
            A = a,
            ALayout = aLayout,
            Lda = aLayout == GemmOperand.Transposed ? m : k,
            B = b,
            BLayout = bLayout,
            Ldb = bLayout == GemmOperand.Transposed ? k : n,
            Y = y,
            Ldy = n,
            M = m,
            N = n,
            K = k,
            Alpha = epilogue.Alpha,
            C = epilogue.HasBias ? c : null,
            CRowStride = epilogue.CRowStride,
            CColStride = epilogue.CColStride,
            Beta = epilogue.Beta,
            Residual = epilogue.Residual.IsEmpty ? null : residual,
            Activation = epilogue.Activation,
            ActivationAlpha = epilogue.ActivationAlpha,
            ActivationBeta = epilogue.ActivationBeta,
            Path = path,
        };

    /// <summary>Checks that every matrix of the batch lies inside the operand.</summary>
    private static void CheckBatchExtent(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, long matrix, int length, string operand)
    {
        long last = matrix;
        for (int d = 0; d < shape.Length; d++)
        {
            if (strides[d] < 0 || shape[d] < 0)
            {
                throw new ArgumentException($"Negative batch stride or dimension for operand {operand}.");
            }

            last += (long)Math.Max(shape[d] - 1, 0) * strides[d];
        }

        if (last > length)
        {
            throw new ArgumentException($"GEMM operand {operand} is smaller than its batch layout requires.");
        }
    }
}

/// <summary>
/// What a GEMM does to each result besides the product: <c>y = act(alpha · product + beta · c + residual)</c>.
/// The bias <c>c</c> is broadcast through its strides; the residual is shaped like y.
/// </summary>
internal readonly ref struct GemmEpilogue
{
    /// <summary>The plain product: alpha 1, nothing else (not the zeroed default, whose alpha of 0 would erase it).</summary>
    public GemmEpilogue()
        : this(1)
    {
    }

    public GemmEpilogue(
        float alpha = 1, ReadOnlySpan<float> c = default, int cRowStride = 0, int cColStride = 0, float beta = 0,
        ReadOnlySpan<float> residual = default, Activation activation = Activation.None, float activationAlpha = 0, float activationBeta = 0)
    {
        Alpha = alpha;
        C = c;
        CRowStride = cRowStride;
        CColStride = cColStride;
        Beta = beta;
        Residual = residual;
        Activation = activation;
        ActivationAlpha = activationAlpha;
        ActivationBeta = activationBeta;
    }

    public float Alpha { get; }

    public ReadOnlySpan<float> C { get; }

    public int CRowStride { get; }

    public int CColStride { get; }

    public float Beta { get; }

    public ReadOnlySpan<float> Residual { get; }

    public Activation Activation { get; }

    public float ActivationAlpha { get; }

    public float ActivationBeta { get; }

    /// <summary>
    /// Whether the bias takes part: ONNX Runtime skips it when beta is 0, so an infinite or NaN bias does
    /// not poison the result.
    /// </summary>
    public bool HasBias => !C.IsEmpty && Beta != 0;

    /// <summary>Checks the bias and residual against an <c>[m, n]</c> result (of a batch of <paramref name="outputLength"/> elements).</summary>
    public void Check(int m, int n, int outputLength)
    {
        if (HasBias && (CRowStride < 0 || CColStride < 0 || (m > 0 && n > 0 && (long)(m - 1) * CRowStride + (long)(n - 1) * CColStride >= C.Length)))
        {
            throw new ArgumentException("The bias is smaller than its strides require.");
        }

        if (!Residual.IsEmpty && Residual.Length != outputLength)
        {
            throw new ArgumentException("The residual must have the shape of the result.");
        }

        if ((uint)Activation > (uint)Activation.GeluTanh)
        {
            throw new ArgumentOutOfRangeException(nameof(Activation));
        }
    }
}
