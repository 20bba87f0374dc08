using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// LayerNormalization (opset 17): normalizes over the axes from <c>axis</c> (default −1) to the last,
/// then applies Scale and the optional B, each broadcast to the normalized shape; the optional
/// outputs Mean and InvStdDev keep the reduced axes as 1. Only stash_type 1 (float32) is supported,
/// which is what float32 models use. Lowered onto <see cref="Normalization"/>. The same class lowers
/// the fused LayerNormalization that <see cref="Passes.LayerNormalizationFusionPass"/> creates, where
/// Scale is optional too.
/// </summary>
[OnnxOperator("LayerNormalization", MinOpset = 17)]
[OnnxOperator("LayerNormalization", Domain = FusedDomain.Name)]
internal sealed class LayerNormalizationOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        if (ctx.Node.Domain == FusedDomain.Name)
        {
            throw FusedDomain.NotForModels(ctx);
        }

        ctx.RequireType(0, ElementType.Float32);
        ctx.RequireType(1, ElementType.Float32);
        long stash = ctx.Int("stash_type", 1);
        if (stash != 1)
        {
            throw ctx.Unsupported($"LayerNormalization with stash_type {stash} is not supported; only 1 (float32 statistics) is.");
        }

        int[] x = ctx.InputShape(0);
        int axis = Axis(ctx, x.Length);
        int[] normalized = x[axis..];
        CheckParameter(ctx, 1, "Scale", normalized);
        if (ctx.OptionalInput(2) is not null)
        {
            ctx.RequireType(2, ElementType.Float32);
            CheckParameter(ctx, 2, "B", normalized);
        }

        ctx.Float("epsilon", 1e-5f);
        ctx.SetOutput(0, ElementType.Float32, x);
        int[] statistics = [.. x[..axis], .. Enumerable.Repeat(1, x.Length - axis)];
        for (int i = 1; i < Math.Min(ctx.OutputCount, 3); i++)
        {
            if (ctx.Node.Outputs[i].Name.Length > 0)
            {
                ctx.SetOutput(i, ElementType.Float32, statistics);
            }
        }
    }

    public void Lower(LoweringContext ctx)
    {
        InferenceContext attributes = ctx.Attributes();
        Value x = ctx.Input(0);
        int[] shape = x.KnownShape;
        int axis = Axis(attributes, shape.Length);
        int[] normalized = shape[axis..];
        Value? Statistic(int index) => index < ctx.Node.Outputs.Count && ctx.Output(index).Name.Length > 0 ? ctx.Output(index) : null;
        NormalizationLowering.Emit(
            ctx, x, ctx.Output(0),
            NormalizationLowering.Expanded(ctx, ctx.OptionalInput(1), normalized, "scale"),
            NormalizationLowering.Expanded(ctx, ctx.OptionalInput(2), normalized, "bias"),
            Statistic(1), Statistic(2),
            size: Shapes.Product(shape, axis, shape.Length), groups: 1, channels: Shapes.Product(shape, axis, shape.Length),
            attributes.Float("epsilon", 1e-5f));
    }

    public long CountMacs(Node node) => 2L * node.Inputs[0]!.ElementCount;

    private static int Axis(InferenceContext ctx, int rank) => Axes.Normalize(ctx, ctx.Int("axis", -1), rank, "axis");

    /// <summary>Scale and B must broadcast to the normalized shape (trailing alignment, size 1 or equal).</summary>
    private static void CheckParameter(InferenceContext ctx, int index, string role, int[] normalized)
    {
        int[] shape = ctx.InputShape(index);
        int[] significant = shape.SkipWhile(d => d == 1).ToArray();
        if (significant.Length > normalized.Length
            || significant.Where((d, i) => d != 1 && d != normalized[normalized.Length - significant.Length + i]).Any())
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"input {role} of LayerNormalization has shape {Shapes.Format(shape)}, which does not broadcast to the normalized shape {Shapes.Format(normalized)} (the axes from 'axis' on).", ctx.Input(index).Name);
        }
    }
}

/// <summary>
/// InstanceNormalization (opset 1 and 6; the legacy consumed_inputs attribute is ignored): each
/// channel of each image is normalized over its spatial elements, then scaled and shifted per
/// channel. Lowered onto <see cref="Normalization"/>.
/// </summary>
[OnnxOperator("InstanceNormalization")]
internal sealed class InstanceNormalizationOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] x = ctx.InputShape(0);
        for (int i = 0; i < 3; i++)
        {
            ctx.RequireType(i, ElementType.Float32);
        }

        if (x.Length < 3)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"InstanceNormalization needs input as [N,C,spatial…], but its shape is {Shapes.Format(x)}.");
        }

        NormalizationLowering.RequireShape(ctx, 1, "scale", [x[1]]);
        NormalizationLowering.RequireShape(ctx, 2, "B", [x[1]]);
        ctx.Float("epsilon", 1e-5f);
        ctx.SetOutput(0, ElementType.Float32, x);
    }

    public void Lower(LoweringContext ctx)
    {
        int[] shape = ctx.Input(0).KnownShape;
        NormalizationLowering.Emit(
            ctx, ctx.Input(0), ctx.Output(0), ctx.Input(1), ctx.Input(2), null, null,
            size: Shapes.Product(shape, 2, shape.Length), groups: shape[1], channels: 1,
            ctx.Attributes().Float("epsilon", 1e-5f));
    }

    public long CountMacs(Node node) => 2L * node.Inputs[0]!.ElementCount;
}

/// <summary>
/// GroupNormalization: the channels of each image split into num_groups groups, each normalized over
/// its channels and spatial elements. Opset 18 scales and shifts per group (scale and bias are
/// <c>[num_groups]</c>), opset 21 per channel (<c>[C]</c>, and stash_type, of which 1 is supported).
/// Lowered onto <see cref="Normalization"/>.
/// </summary>
[OnnxOperator("GroupNormalization", MinOpset = 18)]
internal sealed class GroupNormalizationOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        for (int i = 0; i < 3; i++)
        {
            ctx.RequireType(i, ElementType.Float32);
        }

        int[] x = ctx.InputShape(0);
        if (x.Length < 2)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"GroupNormalization needs X as [N,C,…], but its shape is {Shapes.Format(x)}.");
        }

        long groups = ctx.RequiredInt("num_groups");
        if (groups < 1 || x[1] % groups != 0)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'num_groups' of GroupNormalization must be a positive divisor of the {x[1]} channels of X, but it is {groups}.");
        }

        long stash = ctx.Int("stash_type", 1);
        if (stash != 1)
        {
            throw ctx.Unsupported($"GroupNormalization with stash_type {stash} is not supported; only 1 (float32 statistics) is.");
        }

        int parameters = ctx.Opset >= 21 ? x[1] : (int)groups;
        NormalizationLowering.RequireShape(ctx, 1, "scale", [parameters]);
        NormalizationLowering.RequireShape(ctx, 2, "bias", [parameters]);
        ctx.Float("epsilon", 1e-5f);
        ctx.SetOutput(0, ElementType.Float32, x);
    }

    public void Lower(LoweringContext ctx)
    {
        InferenceContext attributes = ctx.Attributes();
        int[] shape = ctx.Input(0).KnownShape;
        int groups = (int)attributes.RequiredInt("num_groups");
        int groupChannels = shape[1] / groups;
        NormalizationLowering.Emit(
            ctx, ctx.Input(0), ctx.Output(0), ctx.Input(1), ctx.Input(2), null, null,
            size: groupChannels * Shapes.Product(shape, 2, shape.Length), groups, channels: ctx.Opset >= 21 ? groupChannels : 1,
            attributes.Float("epsilon", 1e-5f));
    }

    public long CountMacs(Node node) => 2L * node.Inputs[0]!.ElementCount;
}

/// <summary>What the normalization operators share: parameter checks and the <see cref="Normalization"/> step.</summary>
internal static class NormalizationLowering
{
    /// <summary>Requires input <paramref name="index"/> to have exactly <paramref name="shape"/> (MSDK2003 otherwise).</summary>
    public static void RequireShape(InferenceContext ctx, int index, string role, int[] shape)
    {
        if (!Shapes.Equal(ctx.InputShape(index), shape))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"input '{role}' of {ctx.OpType} must have shape {Shapes.Format(shape)}, but it has {Shapes.Format(ctx.InputShape(index))}.", ctx.Input(index).Name);
        }
    }

    /// <summary>Emits one <see cref="Normalization"/> step.</summary>
    public static void Emit(
        LoweringContext ctx, Value x, Value y, Value? scale, Value? bias, Value? mean, Value? invStdDev,
        int size, int groups, int channels, float epsilon)
        => ctx.Emit(nameof(Normalization), [],
            ctx.In("x", x),
            ctx.InOrNone("scale", scale),
            ctx.InOrNone("bias", bias),
            ctx.Out("y", y),
            mean is null ? PlanArg.None("mean") : ctx.Out("mean", mean),
            invStdDev is null ? PlanArg.None("invStdDev") : ctx.Out("invStdDev", invStdDev),
            PlanArg.Int("size", size),
            PlanArg.Int("groups", groups),
            PlanArg.Int("channels", channels),
            PlanArg.Float("epsilon", epsilon),
            ctx.Context());

    /// <summary>
    /// A parameter broadcast to <paramref name="shape"/>, one value per element: itself when it already
    /// has that many elements, a constant expanded at compile time, or a run-time value expanded by a
    /// broadcast step (adding a scalar zero).
    /// </summary>
    public static Value? Expanded(LoweringContext ctx, Value? parameter, int[] shape, string role)
    {
        if (parameter is null || parameter.ElementCount == Shapes.ElementCount(shape))
        {
            return parameter;
        }

        int[] source = parameter.KnownShape.SkipWhile(d => d == 1).ToArray();
        if (parameter.Constant is { } constant)
        {
            float[] values = constant.ToFloats();
            var expanded = new float[Shapes.ElementCount(shape)];
            int[] targetStrides = Shapes.Strides(shape), sourceStrides = Shapes.Strides(source);
            int skipped = shape.Length - source.Length;
            for (int i = 0; i < expanded.Length; i++)
            {
                int from = 0;
                for (int d = skipped; d < shape.Length; d++)
                {
                    int coordinate = i / targetStrides[d] % shape[d];
                    from += source[d - skipped] == 1 ? 0 : coordinate * sourceStrides[d - skipped];
                }

                expanded[i] = values[from];
            }

            return ctx.Constant(Tensor.FromFloats(shape, expanded), role);
        }

        Value result = ctx.Temporary(ElementType.Float32, shape, role);
        BinaryOperator.EmitBroadcast(ctx, BinaryOp.Add, parameter, ctx.Constant(Tensor.FromFloats([], 0), "zero"), result);
        return result;
    }
}
