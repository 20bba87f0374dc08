using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Compress: keeps the slices along <c>axis</c> (or the elements of the flattened input, without an axis)
/// whose condition is true. The condition fixes the output's length, so it must be a compile-time
/// constant; the kept positions then become constant indices of one <see cref="Runtime.Kernels.Gather"/>.
/// </summary>
[OnnxOperator("Compress", MinOpset = 9)]
internal sealed class CompressOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        (int? axis, int[] kept) = Resolve(ctx, shape);
        int[] output = axis is { } a ? [.. shape[..a], kept.Length, .. shape[(a + 1)..]] : [kept.Length];
        ctx.SetOutput(0, ctx.InputType(0), output);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        int[] shape = x.KnownShape;
        (int? axis, int[] kept) = Resolve(ctx.Reread(), shape);
        (int outer, int length, int inner) = axis is { } a
            ? (Shapes.Product(shape, 0, a), shape[a], Shapes.Product(shape, a + 1, shape.Length))
            : (1, x.ElementCount, 1);
        Value indices = ctx.Constant(Tensor.From<int>(ElementType.Int32, [kept.Length], kept), "indices");
        ctx.Emit(nameof(Runtime.Kernels.Gather), [x.Type, ElementType.Int32],
            ctx.In("data", x),
            ctx.In("indices", indices),
            ctx.Out("y", y),
            PlanArg.Int("outer", outer),
            PlanArg.Int("axisLength", length),
            PlanArg.Int("inner", inner));
    }

    /// <summary>The axis (null: the flattened input) and the positions along it whose condition is true.</summary>
    private static (int? Axis, int[] Kept) Resolve(InferenceContext ctx, int[] shape)
    {
        ctx.RequireType(1, ElementType.Bool);
        if (ctx.InputShape(1).Length != 1)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the condition of Compress must be 1-D, but its shape is {Shapes.Format(ctx.InputShape(1))}.", ctx.Input(1).Name);
        }

        int? axis = ctx.Has("axis") ? Axes.Normalize(ctx, ctx.Int("axis", 0), shape.Length, "axis") : null;
        int length = axis is { } a ? shape[a] : Shapes.ElementCount(shape);
        ReadOnlySpan<byte> condition = ctx.ConstantInput(1, "condition").Bytes;
        var kept = new List<int>();
        for (int i = 0; i < condition.Length; i++)
        {
            if (condition[i] == 0)
            {
                continue;
            }

            if (i >= length)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"the condition of Compress selects position {i}, but {(axis is null ? "the flattened input" : $"axis {axis}")} of {Shapes.Format(shape)} has {length}.");
            }

            kept.Add(i);
        }

        return (axis, kept.ToArray());
    }
}
