using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// MatMulInteger: int8/uint8 operands with optional zero points (per tensor, per row of A, per column
/// of B) to int32, with MatMul's broadcasting. Lowered onto <see cref="MatMulInteger"/>.
/// </summary>
[OnnxOperator("MatMulInteger", MinOpset = 10)]
internal sealed class MatMulIntegerOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        IntegerLinear.RequireBytes(ctx, 0, 1);
        MatMulOperator.Operands o = MatMulOperator.Operands.Of(ctx);
        IntegerLinear.ZeroPoint(ctx, 2, 0, o.A.Length > 1 ? o.A : [], perRow: o.A.Length > 1 ? true : null);
        IntegerLinear.ZeroPoint(ctx, 3, 1, o.B.Length > 1 ? o.B : [], perRow: o.B.Length > 1 ? false : null);
        ctx.SetOutput(0, ElementType.Int32, o.OutputShape);
    }

    public void Lower(LoweringContext ctx)
    {
        MatMulOperator.Operands o = MatMulOperator.Operands.Of(ctx.Attributes());
        Value a = ctx.Input(0), b = ctx.Input(1), y = ctx.Output(0);
        if (!IntegerLinear.TryEmitPacked(ctx, a, b, ctx.OptionalInput(2), ctx.OptionalInput(3), [], null, null, y, IntegerLinear.Rows(a, o), o.N, o.K))
        {
            IntegerLinear.EmitMatMul(ctx, o, a, b, ctx.OptionalInput(2), ctx.OptionalInput(3), y);
        }
    }

    public long CountMacs(Node node) => (long)node.Outputs[0].ElementCount * node.Inputs[0]!.KnownShape[^1];
}

/// <summary>
/// QLinearMatMul: <c>y = saturate(round((a − za)(b − zb) · sa · sb / sy) + zy)</c> with per-tensor A and
/// output parameters and per-tensor or per-column B parameters. Lowered onto <see cref="MatMulInteger"/>
/// (int32) and the <see cref="Requantize"/> epilogue.
/// </summary>
[OnnxOperator("QLinearMatMul", MinOpset = 10)]
internal sealed class QLinearMatMulOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        IntegerLinear.RequireBytes(ctx, 0, 3);
        ctx.RequireSameType(0, 2);
        ctx.RequireSameType(3, 5);
        ctx.RequireType(7, ElementType.UInt8, ElementType.Int8);
        MatMulOperator.Operands o = MatMulOperator.Operands.Of(ctx, 0, 3);
        IntegerLinear.Scale(ctx, 1, o.A, perChannel: false);
        IntegerLinear.ZeroPoint(ctx, 2, 0, o.A, perRow: null);
        IntegerLinear.Scale(ctx, 4, o.B.Length > 1 ? o.B : [], perChannel: o.B.Length > 1);
        IntegerLinear.ZeroPoint(ctx, 5, 3, o.B.Length > 1 ? o.B : [], perRow: o.B.Length > 1 ? false : null);
        IntegerLinear.Scale(ctx, 6, ctx.InputShape(7), perChannel: false);
        IntegerLinear.ZeroPoint(ctx, 7, 7, [], perRow: null);
        ctx.SetOutput(0, ctx.InputType(7), o.OutputShape);
    }

    public void Lower(LoweringContext ctx)
    {
        MatMulOperator.Operands o = MatMulOperator.Operands.Of(ctx.Attributes(), 0, 3);
        Value y = ctx.Output(0);
        Value aScale = ctx.Input(1), bScale = ctx.Input(4), yScale = ctx.Input(6);
        if (aScale.Constant is { } sa && bScale.Constant is { } sb && yScale.Constant is { } sy)
        {
            // The multiplier as Requantize computes it (x · w / y in single precision), so both paths agree exactly.
            float[] w = sb.ToFloats();
            float x = sa.ToFloats()[0], yv = sy.ToFloats()[0];
            float[] multiplier = w.Select(s => x * s / yv).ToArray();
            if (IntegerLinear.TryEmitPacked(ctx, ctx.Input(0), ctx.Input(3), ctx.Input(2), ctx.Input(5), [], multiplier, ctx.Input(7), y, IntegerLinear.Rows(ctx.Input(0), o), o.N, o.K))
            {
                return;
            }
        }

        Value accumulators = ctx.Temporary(ElementType.Int32, y.KnownShape, "accumulators");
        IntegerLinear.EmitMatMul(ctx, o, ctx.Input(0), ctx.Input(3), ctx.Input(2), ctx.Input(5), accumulators);
        bool perColumn = ctx.Input(4).ElementCount > 1;
        IntegerLinear.EmitRequantize(ctx, accumulators, null, ctx.Input(1), ctx.Input(4), ctx.Input(6), ctx.Input(7), y,
            channels: perColumn ? o.N : 1, inner: perColumn ? 1 : y.ElementCount);
    }

    public long CountMacs(Node node) => (long)node.Outputs[0].ElementCount * node.Inputs[0]!.KnownShape[^1];
}

/// <summary>
/// ConvInteger: int8/uint8 convolution to int32 with a per-tensor input zero point and per-tensor or
/// per-output-channel weight zero points; Conv's attributes. Lowered onto <see cref="ConvInteger"/>.
/// </summary>
[OnnxOperator("ConvInteger", MinOpset = 10)]
internal sealed class ConvIntegerOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        IntegerLinear.RequireBytes(ctx, 0, 1);
        int[] x = ctx.InputShape(0), w = ctx.InputShape(1);
        WindowGeometry window = ConvOperator.Window(ctx, x, w);
        IntegerLinear.ZeroPoint(ctx, 2, 0, [], perRow: null);
        IntegerLinear.ZeroPoint(ctx, 3, 1, [w[0]], perRow: true);
        ctx.SetOutput(0, ElementType.Int32, [x[0], w[0], .. window.Output]);
    }

    public void Lower(LoweringContext ctx)
        => IntegerLinear.EmitConv(ctx, ctx.Input(0), ctx.Input(1), ctx.OptionalInput(2), ctx.OptionalInput(3), ctx.Output(0));

    public long CountMacs(Node node) => IntegerLinear.ConvMacs(node, 1);
}

/// <summary>
/// QLinearConv: an 8-bit convolution with per-tensor input and output parameters, per-tensor or
/// per-output-channel weight parameters and an optional int32 bias. Lowered onto
/// <see cref="ConvInteger"/> (int32) and the <see cref="Requantize"/> epilogue.
/// </summary>
[OnnxOperator("QLinearConv", MinOpset = 10)]
internal sealed class QLinearConvOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        IntegerLinear.RequireBytes(ctx, 0, 3);
        ctx.RequireSameType(0, 2);
        ctx.RequireSameType(3, 5);
        ctx.RequireType(7, ElementType.UInt8, ElementType.Int8);
        int[] x = ctx.InputShape(0), w = ctx.InputShape(3);
        WindowGeometry window = ConvOperator.Window(ctx, x, w);
        IntegerLinear.Scale(ctx, 1, [], perChannel: false);
        IntegerLinear.ZeroPoint(ctx, 2, 0, [], perRow: null);
        IntegerLinear.Scale(ctx, 4, [w[0]], perChannel: true);
        IntegerLinear.ZeroPoint(ctx, 5, 3, [w[0]], perRow: true);
        IntegerLinear.Scale(ctx, 6, [], perChannel: false);
        IntegerLinear.ZeroPoint(ctx, 7, 7, [], perRow: null);
        if (ctx.OptionalInput(8) is { } bias)
        {
            ctx.RequireType(8, ElementType.Int32);
            if (!Shapes.Equal(bias.KnownShape, [w[0]]))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the bias B of QLinearConv must have shape [{w[0]}] (one int32 per output channel), but it has {Shapes.Format(bias.KnownShape)}.", bias.Name);
            }
        }

        ctx.SetOutput(0, ctx.InputType(7), [x[0], w[0], .. window.Output]);
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        if (TryEmitPacked(ctx, y))
        {
            return;
        }

        Value accumulators = ctx.Temporary(ElementType.Int32, y.KnownShape, "accumulators");
        IntegerLinear.EmitConv(ctx, ctx.Input(0), ctx.Input(3), ctx.Input(2), ctx.Input(5), accumulators);
        int[] shape = y.KnownShape;
        IntegerLinear.EmitRequantize(ctx, accumulators, ctx.OptionalInput(8), ctx.Input(1), ctx.Input(4), ctx.Input(6), ctx.Input(7), y,
            channels: shape[1], inner: Shapes.Product(shape, 2, shape.Length));
    }

    public long CountMacs(Node node) => IntegerLinear.ConvMacs(node, 3);

    /// <summary>
    /// A 2-d convolution without groups by constant weights whose zero point is 0 once shifted, with constant
    /// parameters: one <see cref="QuantizedConv"/> call (windows read in place from a channels-last copy × weights
    /// packed now, bias and requantization in the store).
    /// </summary>
    private static bool TryEmitPacked(LoweringContext ctx, Value y)
    {
        Value x = ctx.Input(0), w = ctx.Input(3), xZero = ctx.Input(2), wZero = ctx.Input(5);
        InferenceContext attributes = ctx.Attributes();
        int[] xs = x.KnownShape, ws = w.KnownShape;
        if (xs.Length != 4 || attributes.Int("group", 1) != 1 || w.Constant is null || xZero.Constant is null || wZero.Constant is null
            || ctx.Input(1).Constant is not { } sx || ctx.Input(4).Constant is not { } sw || ctx.Input(6).Constant is not { } sy
            || (ctx.OptionalInput(8) is { } b && b.Constant is null))
        {
            return false;
        }

        WindowGeometry window = WindowGeometry.Resolve(attributes, xs[2..], ws[2..], ceilMode: false);
        int outChannels = ws[0], channels = xs[1], kh = window.Kernel[0], kw = window.Kernel[1], dx = window.Dilations[1];

        int depth = QuantizedConv.Segments(kh, kw, dx) * QuantizedConv.SegmentLength(channels, kw, dx);
        if ((long)depth * outChannels > int.MaxValue / 2)
        {
            return false;
        }

        // Padding rows hold the weights' zero point (0 once shifted to signed, which PackWeights checks).
        var arranged = new byte[depth * outChannels];
        QuantizedConv.ArrangeWeights(w.Constant.Bytes, w.Type == ElementType.UInt8 ? (byte)0x80 : (byte)0, arranged, outChannels, channels, kh, kw, dx);

        int paddedHeight = ((window.Output[0] - 1) * window.Strides[0]) + ((kh - 1) * window.Dilations[0]) + 1;
        int paddedWidth = ((window.Output[1] - 1) * window.Strides[1]) + ((kw - 1) * dx) + 1;
        long paddedLength = QuantizedConv.PaddedLength(channels, paddedHeight, paddedWidth);

        int[] bias = ctx.OptionalInput(8) is { Constant: { } bc } ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bc.Bytes).ToArray() : [];
        if (paddedLength > int.MaxValue / 2
            || IntegerLinear.PackWeights(arranged, w.Type, wZero, x.Type, xZero, bias, depth, outChannels) is not var (packed, terms))
        {
            return false;
        }

        // The multiplier as Requantize computes it (x · w / y in single precision), so both paths agree exactly.
        float xScale = sx.ToFloats()[0], yScale = sy.ToFloats()[0];
        float[] multiplier = sw.ToFloats().Select(s => xScale * s / yScale).ToArray();
        ctx.Emit(nameof(QuantizedConv), [x.Type, y.Type],
        [
            ctx.In("x", x),
            ctx.In("w", ctx.Constant(new Tensor(ElementType.Int8, [packed.Length], packed), "wPacked")),
            ctx.In("terms", ctx.Constant(Tensor.From<int>(ElementType.Int32, [terms.Length], terms), "terms")),
            ctx.In("scale", ctx.Constant(IntegerLinear.Padded(multiplier, outChannels), "scale")),
            ctx.In("xZeroPoint", xZero),
            ctx.In("yZeroPoint", ctx.Input(7)),
            ctx.Out("y", y),
            ctx.Out("padded", ctx.Temporary(x.Type, [(int)paddedLength], "channelsLast")),
            PlanArg.Int("batch", xs[0]),
            PlanArg.Int("channels", xs[1]),
            PlanArg.Int("outChannels", outChannels),
            .. window.KernelArgs(),
            ctx.Context(),
        ]);
        return true;
    }
}

/// <summary>
/// An 8-bit matrix product by constant weights with its bias and output conversion, fused by
/// <see cref="Passes.QdqFusionPass"/> from a Gemm in QDQ form or from MatMulInteger → int32 Add →
/// DequantizeLinear. Inputs: A (int8/uint8 <c>[…, K]</c>), B (constant <c>[K, N]</c>), A's zero point,
/// B's zero point (optional), the int32 bias (optional, <c>[N]</c>), the float32 multiplier (one or
/// <c>[N]</c>), and the output zero point (optional). The output is float32 (<c>(A·B + bias) · multiplier</c>)
/// or int8/uint8 (requantized, rounding half to even). Lowered onto <see cref="QuantizedMatMul"/>.
/// </summary>
[OnnxOperator("QGemm", Domain = FusedDomain.Name)]
internal sealed class FusedQGemmOperator : IOperator
{
    public void Infer(InferenceContext ctx) => throw FusedDomain.NotForModels(ctx);

    public void Lower(LoweringContext ctx)
    {
        Value a = ctx.Input(0), b = ctx.Input(1), y = ctx.Output(0);
        int k = b.KnownShape[0], n = b.KnownShape[1];
        int[] bias = ctx.OptionalInput(4) is { Constant: { } c } ? c.Bytes.Length == 4 * n ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(c.Bytes).ToArray() : [] : [];
        float[] multiplier = ctx.Input(5).Constant!.ToFloats();
        if (!IntegerLinear.TryEmitPacked(ctx, a, b, ctx.OptionalInput(2), ctx.OptionalInput(3), bias, multiplier, ctx.OptionalInput(6), y, (int)(a.ElementCount / Math.Max(1, k)), n, k))
        {
            throw new InvalidOperationException($"{ctx.Node}: the fusion pass made a QGemm its kernel cannot run.");
        }
    }

    public long CountMacs(Node node) => (long)node.Outputs[0].ElementCount * node.Inputs[1]!.KnownShape[0];
}

/// <summary>
/// MaxPool on an int8/uint8 tensor, fused by <see cref="Passes.QdqFusionPass"/> from DequantizeLinear →
/// MaxPool → QuantizeLinear with the same per-tensor parameters at both ends (the maximum commutes with
/// dequantization). MaxPool's attributes; 2-d, without the indices output. Lowered onto <see cref="QuantizedMaxPool"/>.
/// </summary>
[OnnxOperator("QMaxPool", Domain = FusedDomain.Name)]
internal sealed class FusedQMaxPoolOperator : IOperator
{
    public void Infer(InferenceContext ctx) => throw FusedDomain.NotForModels(ctx);

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        InferenceContext attributes = ctx.Attributes();
        int[] xs = x.KnownShape;
        int[] kernel = WindowGeometry.KernelAttribute(attributes, xs.Length - 2)!;
        WindowGeometry window = WindowGeometry.Resolve(attributes, xs[2..], kernel, ceilMode: attributes.Int("ceil_mode", 0) != 0);
        ctx.Emit(nameof(QuantizedMaxPool), [x.Type],
        [
            ctx.In("x", x),
            ctx.Out("y", y),
            PlanArg.Int("planes", xs[0] * xs[1]),
            .. window.KernelArgs(),
        ]);
    }

    public long CountMacs(Node node)
        => node.Outputs[0].ElementCount * (node.Attributes.TryGetValue("kernel_shape", out Ir.Attribute? k) ? k.Ints.Aggregate(1L, (p, d) => p * d) : 1);
}

/// <summary>Validation and lowering shared by the integer matrix products and convolutions.</summary>
internal static class IntegerLinear
{
    /// <summary>Both operands are int8 or uint8.</summary>
    public static void RequireBytes(InferenceContext ctx, int a, int b)
    {
        ctx.RequireType(a, ElementType.UInt8, ElementType.Int8);
        ctx.RequireType(b, ElementType.UInt8, ElementType.Int8);
    }

    /// <summary>
    /// Checks optional zero point <paramref name="index"/> of operand <paramref name="operand"/> (shape
    /// <paramref name="shape"/>): one value, or one per row (<paramref name="perRow"/> true: shape
    /// <c>[M]</c> or <c>[1…, M, 1]</c>) or per column (false: <c>[N]</c> or <c>[1…, 1, N]</c>); null
    /// allows one value only. A convolution passes <c>[M]</c>, its output channels, as <paramref name="shape"/>.
    /// </summary>
    public static void ZeroPoint(InferenceContext ctx, int index, int operand, int[] shape, bool? perRow)
    {
        if (ctx.OptionalInput(index) is not { } zero)
        {
            return;
        }

        if (index != operand)
        {
            ctx.RequireSameType(operand, index);
        }

        PerChannel(ctx, zero, shape, perRow, "zero point");
    }

    /// <summary>Checks scale <paramref name="index"/> (float32): one value, or (<paramref name="perChannel"/>) one per output channel or column.</summary>
    public static void Scale(InferenceContext ctx, int index, int[] shape, bool perChannel)
    {
        ctx.RequireType(index, ElementType.Float32);
        PerChannel(ctx, ctx.Input(index), shape, perChannel ? false : null, "scale");
    }

    private static void PerChannel(InferenceContext ctx, Value v, int[] shape, bool? perRow, string role)
    {
        int[] s = v.KnownShape;
        if (Shapes.ElementCount(s) == 1)
        {
            return;
        }

        // A convolution's weights and a 1-D operand have a single channel dimension.
        int length = shape.Length == 1 ? shape[0] : perRow == true ? shape[^2] : shape.Length >= 2 ? shape[^1] : 0;
        bool fits = perRow is not null && length > 0 && (
            Shapes.Equal(s, [length])
            || (shape.Length >= 2 && s.Length >= 2 && s.Length <= shape.Length
                && s[..^2].All(d => d == 1)
                && (perRow == true ? s[^2] == length && s[^1] == 1 : s[^2] == 1 && s[^1] == length)));
        if (!fits)
        {
            string expected = perRow switch
            {
                null => "one element",
                true when shape.Length == 1 => $"one element or [{length}] (one per output channel)",
                true => $"one element, [{length}] or [1…,{length},1] (one per row)",
                false when shape.Length == 1 => $"one element or [{length}] (one per output channel)",
                false => $"one element, [{length}] or [1…,1,{length}] (one per column)",
            };
            throw ctx.Error(DiagnosticCodes.UnsupportedAttribute,
                $"the {role} '{v.Name}' of {ctx.OpType} has shape {Shapes.Format(s)}; ModelSdk supports {expected}.", v.Name);
        }
    }

    /// <summary>A per-column multiplier padded with zeros to whole eights (the store reads eight at a time); one value as is.</summary>
    public static Tensor Padded(float[] scale, int n)
    {
        float[] values = scale.Length == 1 ? scale : [.. scale, .. new float[PackedIntegerGemm.PaddedColumns(n) - scale.Length]];
        return Tensor.FromFloats([values.Length], values);
    }

    /// <summary>
    /// Packs constant weights <paramref name="b"/> (<c>[k, n]</c> bytes) for <see cref="PackedIntegerGemm"/> and folds
    /// the bias and the left zero point's correction into per-column terms; null when the weights' zero point is
    /// not 0 once shifted to signed.
    /// </summary>
    public static (byte[] Packed, int[] Terms)? PackWeights(
        ReadOnlySpan<byte> b, ElementType bType, Value? bZero, ElementType aType, Value? aZero, ReadOnlySpan<int> bias, int k, int n)
    {
        var packed = new byte[PackedIntegerGemm.PackedLength(k, n)];
        var sums = new int[n];
        if (!PackedIntegerGemm.Pack(b, bType == ElementType.Int8, bZero is null ? [] : bZero.Constant!.Bytes, k, n, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(packed.AsSpan()), sums))
        {
            return null;
        }

        // The left operand is read unsigned (int8 shifted by +128), so is its zero point.
        bool aSigned = aType == ElementType.Int8;
        int zero = aZero is null ? 0 : aSigned ? (sbyte)aZero.Constant!.Bytes[0] : aZero.Constant!.Bytes[0];
        int shiftedZero = aSigned ? zero + 128 : zero;
        var terms = new int[PackedIntegerGemm.PaddedColumns(n)]; // the store reads eight at a time
        for (int j = 0; j < n; j++)
        {
            terms[j] = unchecked((bias.IsEmpty ? 0 : bias[j]) - (shiftedZero * sums[j]));
        }

        return (packed, terms);
    }

    /// <summary>
    /// Whether <see cref="TryEmitPacked"/> can serve a right operand: a constant int8/uint8 matrix whose zero
    /// point (constant, per tensor or per column) is 0 once shifted to signed, and a constant per-tensor left zero point.
    /// </summary>
    public static bool Packable(Value b, Value? aZero, Value? bZero)
    {
        if (b.Constant is null || b.KnownShape.Length != 2 || b.Type is not (ElementType.Int8 or ElementType.UInt8)
            || (aZero is not null && (aZero.Constant is null || aZero.ElementCount != 1)) || (bZero is not null && bZero.Constant is null))
        {
            return false;
        }

        byte flip = b.Type == ElementType.Int8 ? (byte)0 : (byte)0x80;
        return bZero is null ? flip == 0 : bZero.Constant!.Bytes.ToArray().All(z => (byte)(z ^ flip) == 0);
    }

    /// <summary>The rows of the one product a left operand's batch forms with a single right matrix, or -1 when it forms several.</summary>
    public static int Rows(Value a, MatMulOperator.Operands o)
        => o.B.Length > 2 && Shapes.ElementCount(o.B[..^2]) != 1 ? -1 : (int)Math.Min(int.MaxValue, a.ElementCount / Math.Max(1, o.K));

    /// <summary>Emits one <see cref="MatMulInteger"/> step for <paramref name="o"/>.</summary>
    public static void EmitMatMul(LoweringContext ctx, MatMulOperator.Operands o, Value a, Value b, Value? aZero, Value? bZero, Value y)
    {
        int[] aBatch = o.A.Length > 2 ? o.A[..^2] : [], bBatch = o.B.Length > 2 ? o.B[..^2] : [];
        int m = o.M;
        int[] batchShape = [1], aStrides = [0], bStrides = [0];
        if (Shapes.ElementCount(bBatch) == 1 && (aZero is null || aZero.ElementCount == 1))
        {
            // One right-hand matrix: A's batch rows are consecutive, so they form one taller product.
            m *= Shapes.ElementCount(aBatch);
        }
        else
        {
            BroadcastLayout layout = BroadcastLayout.Create(o.Batch, aBatch, bBatch);
            (batchShape, aStrides, bStrides) = (layout.Shape,
                layout.Strides[0].Select(s => s * o.M * o.K).ToArray(),
                layout.Strides[1].Select(s => s * o.K * o.N).ToArray());
        }

        ctx.Emit(nameof(MatMulInteger), [a.Type, b.Type],
            ctx.In("a", a),
            ctx.In("b", b),
            ctx.InOrNone("aZeroPoint", aZero),
            ctx.InOrNone("bZeroPoint", bZero),
            ctx.Out("y", y),
            ctx.Out("rowSums", ctx.Temporary(ElementType.Int32, [Math.Max(1, m)], "rowSums")),
            PlanArg.Int("m", m),
            PlanArg.Int("n", o.N),
            PlanArg.Int("k", o.K),
            PlanArg.IntList("batchShape", batchShape),
            PlanArg.IntList("aBatchStrides", aStrides),
            PlanArg.IntList("bBatchStrides", bStrides));
    }

    /// <summary>
    /// Emits one <see cref="QuantizedMatMul"/> step for <c>y = f(a · b + bias)</c> with <paramref name="b"/> packed
    /// now (<see cref="PackedIntegerGemm"/>), the bias and the zero point's correction folded into per-column
    /// terms, and <paramref name="scale"/> (null: int32 results) applied in the store; false, emitting nothing,
    /// when <paramref name="b"/> is not a constant matrix whose zero point is 0 once shifted to signed or the
    /// zero point of <paramref name="a"/> is not one constant.
    /// </summary>
    public static bool TryEmitPacked(
        LoweringContext ctx, Value a, Value b, Value? aZero, Value? bZero, ReadOnlySpan<int> bias, float[]? scale, Value? yZero, Value y, int m, int n, int k)
    {
        if (!Packable(b, aZero, bZero) || b.KnownShape[0] != k || b.KnownShape[1] != n || m < 0
            || PackedIntegerGemm.PackedLength(k, n) > int.MaxValue / 2 || PackedIntegerGemm.ScratchLength(m, k) > int.MaxValue / 2)
        {
            return false;
        }

        if (PackWeights(b.Constant!.Bytes, b.Type, bZero, a.Type, aZero, bias, k, n) is not var (packed, terms))
        {
            return false;
        }

        ctx.Emit(nameof(QuantizedMatMul), [a.Type, y.Type],
            ctx.In("a", a),
            ctx.In("b", ctx.Constant(new Tensor(ElementType.Int8, [packed.Length], packed), "bPacked")),
            ctx.In("terms", ctx.Constant(Tensor.From<int>(ElementType.Int32, [terms.Length], terms), "terms")),
            scale is null ? PlanArg.None("scale") : ctx.In("scale", ctx.Constant(Padded(scale, n), "scale")),
            ctx.InOrNone("yZeroPoint", yZero),
            ctx.Out("y", y),
            ctx.Out("scratch", ctx.Temporary(ElementType.UInt8, [(int)Math.Max(1, PackedIntegerGemm.ScratchLength(m, k))], "scratch")),
            PlanArg.Int("m", m),
            PlanArg.Int("n", n),
            PlanArg.Int("k", k),
            ctx.Context());
        return true;
    }

    /// <summary>Emits one <see cref="ConvInteger"/> step: im2col scratch unless the kernel is pointwise.</summary>
    public static void EmitConv(LoweringContext ctx, Value x, Value w, Value? xZero, Value? wZero, Value y)
    {
        int[] xs = x.KnownShape, ws = w.KnownShape;
        InferenceContext attributes = ctx.Attributes();
        int group = (int)attributes.Int("group", 1);
        WindowGeometry window = WindowGeometry.Resolve(attributes, xs[2..], ws[2..], ceilMode: false);
        int groupChannels = xs[1] / group;
        Value? col = window.IsPointwise ? null : ctx.Temporary(x.Type, [groupChannels * window.Taps, Shapes.ElementCount(window.Output)], "im2col");
        ctx.Emit(nameof(ConvInteger), [x.Type, w.Type],
        [
            ctx.In("x", x),
            ctx.In("w", w),
            ctx.InOrNone("xZeroPoint", xZero),
            ctx.InOrNone("wZeroPoint", wZero),
            ctx.Out("y", y),
            col is null ? PlanArg.None("col") : ctx.Out("col", col),
            ctx.Out("rowSums", ctx.Temporary(ElementType.Int32, [Math.Max(1, ws[0] / group)], "rowSums")),
            PlanArg.Int("batch", xs[0]),
            PlanArg.Int("channels", xs[1]),
            PlanArg.Int("outChannels", ws[0]),
            PlanArg.Int("group", group),
            .. window.KernelArgs(),
        ]);
    }

    /// <summary>Emits the <see cref="Requantize"/> epilogue from int32 <paramref name="accumulators"/> to <paramref name="y"/>.</summary>
    public static void EmitRequantize(
        LoweringContext ctx, Value accumulators, Value? bias, Value xScale, Value wScale, Value yScale, Value yZero, Value y, int channels, int inner)
        => ctx.Emit(nameof(Requantize), [y.Type],
            ctx.In("x", accumulators),
            ctx.InOrNone("bias", bias),
            ctx.In("xScale", xScale),
            ctx.In("wScale", wScale),
            ctx.In("yScale", yScale),
            ctx.In("yZeroPoint", yZero),
            ctx.Out("y", y),
            PlanArg.Int("channels", channels),
            PlanArg.Int("inner", inner));

    /// <summary>Multiply-accumulates of a convolution whose weights are input <paramref name="weights"/>.</summary>
    public static long ConvMacs(Node node, int weights)
    {
        Value w = node.Inputs[weights]!;
        int outChannels = w.KnownShape[0];
        return outChannels == 0 ? 0 : (long)node.Outputs[0].ElementCount * (w.ElementCount / outChannels);
    }
}
