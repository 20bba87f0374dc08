using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// QuantizeLinear: float32, float16 or int32 to uint8, int8, uint16 or int16, per tensor, per axis
/// (opset 13) or per block (opset 21, block_size). The output type is the zero point's, else the
/// output_dtype attribute's (opset 21), else uint8. Lowered onto <see cref="QuantizeLinear"/>.
/// </summary>
[OnnxOperator("QuantizeLinear", MinOpset = 10)]
internal sealed class QuantizeLinearOperator : IOperator
{
    private static readonly ElementType[] Quantized = [ElementType.UInt8, ElementType.Int8, ElementType.UInt16, ElementType.Int16];

    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Float16, ElementType.Int32);
        ctx.RequireType(1, ctx.InputType(0) == ElementType.Int32 ? [ElementType.Float32] : [ElementType.Float32, ElementType.Float16]);
        ElementType output = OutputType(ctx);
        QuantizationGranularity.Resolve(ctx, ctx.InputShape(0), 1, 2);
        ctx.SetOutput(0, output, ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), scale = ctx.Input(1), y = ctx.Output(0);
        QuantizationGranularity g = QuantizationGranularity.Resolve(ctx.Attributes(), x.KnownShape, 1, 2);
        ctx.Emit(nameof(QuantizeLinear), [x.Type, scale.Type, y.Type],
            ctx.In("x", x),
            ctx.In("scale", scale),
            ctx.InOrNone("zeroPoint", ctx.OptionalInput(2)),
            ctx.Out("y", y),
            PlanArg.Int("channels", g.Channels),
            PlanArg.Int("inner", g.Inner),
            PlanArg.Int("blockSize", g.BlockSize));
    }

    private static ElementType OutputType(InferenceContext ctx)
    {
        ElementType? attribute = null;
        if (ctx.Opset >= 21 && ctx.Has("output_dtype"))
        {
            long code = ctx.Int("output_dtype", 0);
            attribute = code switch
            {
                2 => ElementType.UInt8,
                3 => ElementType.Int8,
                4 => ElementType.UInt16,
                5 => ElementType.Int16,
                _ => throw ctx.Error(DiagnosticCodes.UnsupportedType, $"QuantizeLinear output_dtype {code} is not supported (supported: uint8, int8, uint16, int16)."),
            };
        }

        if (ctx.OptionalInput(2) is null)
        {
            return attribute ?? ElementType.UInt8;
        }

        ctx.RequireType(2, Quantized);
        if (attribute is { } a && a != ctx.InputType(2))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"attribute 'output_dtype' of QuantizeLinear says {a.ToPlanName()}, but the zero point y_zero_point is {ctx.InputType(2).ToPlanName()}.");
        }

        return ctx.InputType(2);
    }
}

/// <summary>
/// DequantizeLinear: 8-, 16- or 32-bit integers to the scale's type (float32; float16 from opset 19),
/// per tensor, per axis (opset 13) or per block (opset 21). Lowered onto <see cref="DequantizeLinear"/>.
/// </summary>
[OnnxOperator("DequantizeLinear", MinOpset = 10)]
internal sealed class DequantizeLinearOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.UInt8, ElementType.Int8, ElementType.UInt16, ElementType.Int16, ElementType.Int32);
        ctx.RequireType(1, ctx.Opset >= 19 ? [ElementType.Float32, ElementType.Float16] : [ElementType.Float32]);
        if (ctx.OptionalInput(2) is not null)
        {
            ctx.RequireSameType(0, 2);
        }

        QuantizationGranularity.Resolve(ctx, ctx.InputShape(0), 1, 2);
        ctx.SetOutput(0, ctx.InputType(1), ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), scale = ctx.Input(1), y = ctx.Output(0);
        QuantizationGranularity g = QuantizationGranularity.Resolve(ctx.Attributes(), x.KnownShape, 1, 2);
        ctx.Emit(nameof(DequantizeLinear), [x.Type, scale.Type],
            ctx.In("x", x),
            ctx.In("scale", scale),
            ctx.InOrNone("zeroPoint", ctx.OptionalInput(2)),
            ctx.Out("y", y),
            PlanArg.Int("channels", g.Channels),
            PlanArg.Int("inner", g.Inner),
            PlanArg.Int("blockSize", g.BlockSize));
    }
}

/// <summary>
/// DynamicQuantizeLinear: float32 to uint8 with the scale and zero point of the data's range (which
/// always includes 0). Lowered onto <see cref="DynamicQuantizeLinear"/>.
/// </summary>
[OnnxOperator("DynamicQuantizeLinear", MinOpset = 11)]
internal sealed class DynamicQuantizeLinearOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        if (ctx.OutputCount != 3)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"DynamicQuantizeLinear has 3 outputs (y, y_scale, y_zero_point), but the node lists {ctx.OutputCount}.");
        }

        ctx.SetOutput(0, ElementType.UInt8, ctx.InputShape(0));
        ctx.SetOutput(1, ElementType.Float32, []);
        ctx.SetOutput(2, ElementType.UInt8, []);
    }

    public void Lower(LoweringContext ctx)
        => ctx.Emit(nameof(DynamicQuantizeLinear), [],
            ctx.In("x", ctx.Input(0)),
            ctx.Out("y", ctx.Output(0)),
            ctx.Out("yScale", ctx.Output(1)),
            ctx.Out("yZeroPoint", ctx.Output(2)));
}

/// <summary>
/// Which scale applies where, from the shape of a quantization operator's scale: one for the tensor, one
/// per channel of the axis attribute, or one per block of block_size channels. Kernels see the input as
/// <c>[outer, Channels, Inner]</c>; a per-tensor scale has one channel.
/// </summary>
internal sealed record QuantizationGranularity(int Channels, int Inner, int BlockSize)
{
    /// <summary>Validates the scale (input <paramref name="scaleIndex"/>) and zero point (input <paramref name="zeroIndex"/>, optional) against <paramref name="x"/>.</summary>
    public static QuantizationGranularity Resolve(InferenceContext ctx, int[] x, int scaleIndex, int zeroIndex)
    {
        int[] s = ctx.InputShape(scaleIndex);
        if (ctx.OptionalInput(zeroIndex) is { } zero && !Shapes.Equal(zero.KnownShape, s))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"the zero point of {ctx.OpType} must have the scale's shape {Shapes.Format(s)}, but it has {Shapes.Format(zero.KnownShape)}.", zero.Name);
        }

        long block = ctx.Opset >= 21 ? ctx.Int("block_size", 0) : 0;
        if (block < 0 || block > int.MaxValue)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'block_size' of {ctx.OpType} must be 0 or positive, but it is {block}.");
        }

        int count = Shapes.ElementCount(x);
        if (block == 0 && s.Length <= 1 && Shapes.ElementCount(s) == 1)
        {
            return new QuantizationGranularity(1, count, 0);
        }

        if (ctx.Opset < 13)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{ctx.OpType} quantizes per tensor before opset 13, so its scale must have one element, but its shape is {Shapes.Format(s)}.");
        }

        int axis = Axes.Normalize(ctx, ctx.Int("axis", 1), x.Length, "axis");
        int inner = Shapes.Product(x, axis + 1, x.Length);
        if (block == 0)
        {
            if (s.Length != 1 || s[0] != x[axis])
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"the scale of {ctx.OpType} must be a scalar or 1-D with {x[axis]} elements (axis {axis} of input {Shapes.Format(x)}), but its shape is {Shapes.Format(s)}.");
            }

            return new QuantizationGranularity(Math.Max(1, x[axis]), x[axis] == 0 ? 0 : inner, 0);
        }

        int[] expected = [.. x];
        expected[axis] = (int)((x[axis] + block - 1) / block);
        if (!Shapes.Equal(s, expected))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"with block_size {block} on axis {axis}, the scale of {ctx.OpType} must have shape {Shapes.Format(expected)} for input {Shapes.Format(x)}, but it has {Shapes.Format(s)}.");
        }

        return new QuantizationGranularity(Math.Max(1, x[axis]), x[axis] == 0 ? 0 : inner, (int)block);
    }
}
