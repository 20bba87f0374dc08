using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// CumSum: running sums along the axis given by input 1 (int32 or int64, one element), optionally
/// exclusive and/or reversed. The axis does not change the output shape, so it may be computed at
/// run time; a constant one is checked here. Lowered onto <see cref="Runtime.Kernels.CumSum"/>.
/// </summary>
[OnnxOperator("CumSum")]
internal sealed class CumSumOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Float64, ElementType.Int32, ElementType.Int64);
        ctx.RequireType(1, ElementType.Int32, ElementType.Int64);
        int[] shape = ctx.InputShape(0);
        Value axis = ctx.Input(1);
        if (shape.Length == 0 || axis.KnownShape.Length > 1 || axis.ElementCount != 1)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"CumSum needs an input of rank 1 or more and a one-element axis, but they have shapes {Shapes.Format(shape)} and {Shapes.Format(axis.KnownShape)}.", axis.Name);
        }

        if (axis.Constant is { } value)
        {
            Axes.Normalize(ctx, value.ToInt64s()[0], shape.Length, "axis");
        }

        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), axis = ctx.Input(1);
        InferenceContext attributes = ctx.Reread();
        ctx.Emit(nameof(Runtime.Kernels.CumSum), [x.Type, axis.Type],
            ctx.In("x", x),
            ctx.In("axis", axis),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.IntList("shape", x.KnownShape),
            PlanArg.Bool("exclusive", attributes.Int("exclusive", 0) != 0),
            PlanArg.Bool("reverse", attributes.Int("reverse", 0) != 0));
    }
}
