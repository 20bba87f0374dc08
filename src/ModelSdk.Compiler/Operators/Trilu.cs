using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Trilu: the upper or lower triangle of the last two axes, relative to diagonal <c>k</c>. The optional
/// <c>k</c> input only selects values, not the shape, so it may be computed at run time.
/// </summary>
[OnnxOperator("Trilu", MinOpset = 14)]
internal sealed class TriluOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        if (shape.Length < 2)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Trilu needs an input of rank 2 or more, but it is {Shapes.Format(shape)}.");
        }

        if (ctx.OptionalInput(1) is { } k)
        {
            ctx.RequireType(1, ElementType.Int64);
            if (k.ElementCount != 1)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"k of Trilu must be one element, but its shape is {Shapes.Format(k.KnownShape)}.", k.Name);
            }
        }

        ctx.SetOutput(0, ctx.InputType(0), shape);
        Common.StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        int[] shape = x.KnownShape;
        ctx.Emit(nameof(Runtime.Kernels.Trilu), [x.Type],
            ctx.In("x", x),
            ctx.InOrNone("k", ctx.OptionalInput(1)),
            ctx.Out("y", y),
            PlanArg.Int("rows", shape[^2]),
            PlanArg.Int("columns", shape[^1]),
            PlanArg.Bool("upper", Common.Axes.Reread(ctx).Int("upper", 1) != 0));
    }
}
