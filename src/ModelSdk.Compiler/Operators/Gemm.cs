using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Gemm: <c>Y = alpha · op(A) · op(B) + beta · C</c> with 2-D A and B, optional transposes, and a
/// bias C broadcast one way to <c>[M, N]</c> (required before opset 11). Lowered onto <see cref="Gemm"/>.
/// </summary>
[OnnxOperator("Gemm")]
internal sealed class GemmOperator : IAcceptsEpilogue
{
    /// <summary>Always: the kernel applies a residual and any <see cref="Activation"/> after the bias, in its store.</summary>
    public bool AcceptsEpilogue(Node node) => true;

    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        ctx.RequireType(1, ElementType.Float32);
        int[] a = ctx.InputShape(0), b = ctx.InputShape(1);
        if (a.Length != 2 || b.Length != 2)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Gemm needs 2-D inputs A and B, but their shapes are {Shapes.Format(a)} and {Shapes.Format(b)}.");
        }

        (int m, int n, int k) = Dimensions(ctx, a, b);
        Value? c = ctx.Opset < 11 ? ctx.Input(2) : ctx.OptionalInput(2);
        if (c is not null)
        {
            ctx.RequireType(2, ElementType.Float32);
            if (BiasStrides(c.KnownShape, m, n) is null)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the bias C of Gemm has shape {Shapes.Format(c.KnownShape)}, which does not broadcast to the output shape [{m},{n}].", c.Name);
            }
        }

        ctx.Float("alpha", 1);
        ctx.Float("beta", 1);
        ctx.SetOutput(0, ElementType.Float32, [m, n]);
    }

    public void Lower(LoweringContext ctx)
    {
        InferenceContext attributes = ctx.Attributes();
        Value a = ctx.Input(0), b = ctx.Input(1);
        (int m, int n, int k) = Dimensions(attributes, a.KnownShape, b.KnownShape);
        bool transA = attributes.Int("transA", 0) != 0, transB = attributes.Int("transB", 0) != 0;
        float alpha = attributes.Float("alpha", 1), beta = attributes.Float("beta", 1);
        Value? c = beta == 0 ? null : ctx.OptionalInput(2);
        (int cRowStride, int cColStride) = c is null ? (0, 0) : BiasStrides(c.KnownShape, m, n)!.Value;
        (a, transA) = PreTransposed(ctx, a, transA, "a");
        if (!Packable(b, k, n))
        {
            (b, transB) = PreTransposed(ctx, b, transB, "b");
        }

        Emit(ctx, a, b, c, ctx.Output(0), m, n, k, transA, transB, alpha, c is null ? 0 : beta, cRowStride, cColStride, epilogue: ctx.Node.Epilogue);
    }

    public long CountMacs(Node node)
    {
        int m = node.Outputs[0].KnownShape[0];
        return m == 0 ? 0 : (long)node.Outputs[0].ElementCount * (node.Inputs[0]!.ElementCount / m);
    }

    /// <summary>
    /// Emits one <see cref="Gemm"/> step; by default a single product without bias. A constant right operand
    /// is packed here, at compile time, into the panel layout the kernel's micro-kernels read
    /// (<see cref="GemmPacking"/>), so runs never pack it; <paramref name="epilogue"/> (a fusion pass's
    /// residual and activation) is applied as results are stored.
    /// </summary>
    public static void Emit(
        LoweringContext ctx, Value a, Value b, Value? c, Value y, int m, int n, int k, bool transA, bool transB,
        float alpha = 1, float beta = 0, int cRowStride = 0, int cColStride = 0,
        int[]? batchShape = null, int[]? aBatchStrides = null, int[]? bBatchStrides = null, Epilogue? epilogue = null)
    {
        bBatchStrides ??= [0];
        bool packed = false;
        if (Packable(b, k, n) && PackedRightOperand(ctx, b, transB, k, n, bBatchStrides) is { } p)
        {
            (b, bBatchStrides, transB, packed) = (p.Value, p.Strides, false, true);
        }

        ctx.Emit(nameof(Gemm), [],
            ctx.In("a", a),
            ctx.In("b", b),
            ctx.InOrNone("c", c),
            ctx.InOrNone("residual", epilogue?.Residual),
            ctx.Out("y", y),
            PlanArg.Int("m", m),
            PlanArg.Int("n", n),
            PlanArg.Int("k", k),
            PlanArg.Bool("transA", transA),
            PlanArg.Bool("transB", transB),
            PlanArg.Bool("packedB", packed),
            PlanArg.Float("alpha", alpha),
            PlanArg.Float("beta", beta),
            PlanArg.Int("cRowStride", cRowStride),
            PlanArg.Int("cColStride", cColStride),
            PlanArg.IntList("batchShape", batchShape ?? [1]),
            PlanArg.IntList("aBatchStrides", aBatchStrides ?? [0]),
            PlanArg.IntList("bBatchStrides", bBatchStrides),
            PlanArg.Enum("activation", nameof(Activation), (epilogue?.Activation ?? Activation.None).ToString()),
            PlanArg.Float("activationAlpha", epilogue?.Alpha ?? 0),
            PlanArg.Float("activationBeta", epilogue?.Beta ?? 0),
            ctx.Context());
    }

    /// <summary>
    /// Whether a right operand is worth packing: it is constant, and the panels' padding (columns rounded up to
    /// 16) at most doubles it, so a matrix-vector product's <c>[k, 1]</c> operand stays as it is.
    /// </summary>
    private static bool Packable(Value b, int k, int n)
        => b.Constant is not null && (long)k * n > 0 && GemmPacking.PackedBLength(k, n) <= 2L * k * n;

    /// <summary>
    /// The constant right operand packed matrix by matrix (each distinct matrix of its batch once), with its
    /// batch strides in packed elements; null when a batch stride does not fall on a matrix boundary.
    /// </summary>
    private static (Value Value, int[] Strides)? PackedRightOperand(LoweringContext ctx, Value b, bool transB, int k, int n, int[] bBatchStrides)
    {
        int matrix = k * n, packedMatrix = GemmPacking.PackedBLength(k, n);
        if (bBatchStrides.Any(s => s % matrix != 0))
        {
            return null;
        }

        ReadOnlySpan<float> source = b.Constant!.Span<float>();
        int count = source.Length / matrix;
        var packed = new float[checked(count * packedMatrix)];
        for (int i = 0; i < count; i++)
        {
            GemmPacking.PackB(source.Slice(i * matrix, matrix), transB, k, n, packed.AsSpan(i * packedMatrix, packedMatrix));
        }

        Value value = ctx.Constant(Tensor.FromFloats([packed.Length], packed), "bPacked");
        return (value, bBatchStrides.Select(s => s / matrix * packedMatrix).ToArray());
    }

    private static (int M, int N, int K) Dimensions(InferenceContext ctx, int[] a, int[] b)
    {
        bool transA = ctx.Int("transA", 0) != 0, transB = ctx.Int("transB", 0) != 0;
        (int m, int ka) = transA ? (a[1], a[0]) : (a[0], a[1]);
        (int kb, int n) = transB ? (b[1], b[0]) : (b[0], b[1]);
        if (ka != kb)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"the inner dimensions of Gemm differ: op(A) is [{m},{ka}] and op(B) is [{kb},{n}] (A {Shapes.Format(a)}, transA={(transA ? 1 : 0)}; B {Shapes.Format(b)}, transB={(transB ? 1 : 0)}).");
        }

        return (m, n, ka);
    }

    /// <summary>Element strides of a bias of <paramref name="shape"/> broadcast to <c>[m, n]</c>, or null when it does not broadcast.</summary>
    private static (int Row, int Col)? BiasStrides(int[] shape, int m, int n)
    {
        if (shape.Length > 2)
        {
            return null;
        }

        int rows = shape.Length == 2 ? shape[0] : 1;
        int cols = shape.Length >= 1 ? shape[^1] : 1;
        if ((rows != 1 && rows != m) || (cols != 1 && cols != n))
        {
            return null;
        }

        return (rows == 1 ? 0 : cols, cols == 1 ? 0 : 1);
    }

    /// <summary>A transposed constant operand becomes a constant in plain layout, so the kernel reads it row by row.</summary>
    private static (Value Operand, bool Transposed) PreTransposed(LoweringContext ctx, Value operand, bool transposed, string role)
    {
        if (!transposed || operand.Constant is not { } t)
        {
            return (operand, transposed);
        }

        int rows = t.Shape[0], cols = t.Shape[1];
        ReadOnlySpan<float> source = t.Span<float>();
        var data = new float[source.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                data[c * rows + r] = source[r * cols + c];
            }
        }

        return (ctx.Constant(Tensor.FromFloats([cols, rows], data), role + "T"), false);
    }
}

/// <summary>
/// MatMul with NumPy semantics: a 1-D operand is promoted to a matrix and the added dimension is
/// dropped from the result; batch dimensions broadcast. Lowered onto <see cref="Gemm"/>.
/// </summary>
[OnnxOperator("MatMul")]
internal sealed class MatMulOperator : IAcceptsEpilogue
{
    /// <summary>Always: batched or not, every product goes through <see cref="Gemm"/>, whose store applies the epilogue.</summary>
    public bool AcceptsEpilogue(Node node) => true;

    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        ctx.RequireType(1, ElementType.Float32);
        ctx.SetOutput(0, ElementType.Float32, Operands.Of(ctx).OutputShape);
    }

    public void Lower(LoweringContext ctx)
    {
        Operands o = Operands.Of(ctx.Attributes());
        Value a = ctx.Input(0), b = ctx.Input(1), y = ctx.Output(0);
        Value? bias = ctx.Node.Epilogue?.Bias; // one value per column: row stride 0, column stride 1
        int[] aBatch = o.A.Length > 2 ? o.A[..^2] : [], bBatch = o.B.Length > 2 ? o.B[..^2] : [];
        if (Shapes.ElementCount(bBatch) == 1)
        {
            // One right-hand matrix: A's batch rows are consecutive, so they form one taller product.
            GemmOperator.Emit(ctx, a, b, bias, y, Shapes.ElementCount(aBatch) * o.M, o.N, o.K, transA: false, transB: false,
                beta: bias is null ? 0 : 1, cColStride: bias is null ? 0 : 1, epilogue: ctx.Node.Epilogue);
            return;
        }

        BroadcastLayout layout = BroadcastLayout.Create(o.Batch, aBatch, bBatch);
        GemmOperator.Emit(ctx, a, b, bias, y, o.M, o.N, o.K, transA: false, transB: false,
            beta: bias is null ? 0 : 1, cColStride: bias is null ? 0 : 1,
            batchShape: layout.Shape,
            aBatchStrides: layout.Strides[0].Select(s => s * o.M * o.K).ToArray(),
            bBatchStrides: layout.Strides[1].Select(s => s * o.K * o.N).ToArray(),
            epilogue: ctx.Node.Epilogue);
    }

    public long CountMacs(Node node) => (long)node.Outputs[0].ElementCount * node.Inputs[0]!.KnownShape[^1];

    /// <summary>The operand shapes and the product they describe.</summary>
    internal sealed record Operands(int[] A, int[] B, int M, int N, int K, int[] Batch)
    {
        /// <summary>The result's shape: the batch, then M unless A is 1-D, then N unless B is 1-D.</summary>
        public int[] OutputShape => [.. Batch, .. A.Length > 1 ? [M] : Array.Empty<int>(), .. B.Length > 1 ? [N] : Array.Empty<int>()];

        /// <summary>The product of inputs <paramref name="aIndex"/> and <paramref name="bIndex"/> (MatMul's are 0 and 1; QLinearMatMul's 0 and 3).</summary>
        public static Operands Of(InferenceContext ctx, int aIndex = 0, int bIndex = 1)
        {
            int[] a = ctx.InputShape(aIndex), b = ctx.InputShape(bIndex);
            if (a.Length == 0 || b.Length == 0)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} operands must have at least one dimension, but their shapes are {Shapes.Format(a)} and {Shapes.Format(b)}.");
            }

            (int m, int ka) = a.Length == 1 ? (1, a[0]) : (a[^2], a[^1]);
            (int kb, int n) = b.Length == 1 ? (b[0], 1) : (b[^2], b[^1]);
            if (ka != kb)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"the inner dimensions of {ctx.OpType} differ: A is {Shapes.Format(a)} and B is {Shapes.Format(b)}, so {ka} columns of A meet {kb} rows of B.");
            }

            int[] batch = Shapes.Broadcast(a.Length > 2 ? a[..^2] : [], b.Length > 2 ? b[..^2] : [])
                ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the batch dimensions of {ctx.OpType} operands {Shapes.Format(a)} and {Shapes.Format(b)} cannot be broadcast together.");
            return new Operands(a, b, m, n, ka, batch);
        }
    }
}
