using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// ReverseSequence (opset 10): reverses the first <c>sequence_lens[b]</c> time steps of every batch entry;
/// batch_axis and time_axis are 0 and 1 in either order. The int64 lengths never change the output
/// shape, so they may be computed at run time; constant ones are range-checked here. Lowered onto
/// <see cref="Runtime.Kernels.ReverseSequence"/>.
/// </summary>
[OnnxOperator("ReverseSequence", MinOpset = 10)]
internal sealed class ReverseSequenceOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(1, ElementType.Int64);
        int[] shape = ctx.InputShape(0);
        (int batchAxis, int timeAxis) = Axes(ctx);
        Value lens = ctx.Input(1);
        if (shape.Length < 2 || !Shapes.Equal(lens.KnownShape, [shape[batchAxis]]))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"ReverseSequence needs an input of rank 2 or more and one sequence length per batch entry, but they have shapes {Shapes.Format(shape)} and {Shapes.Format(lens.KnownShape)}.", lens.Name);
        }

        foreach (long length in lens.Constant?.ToInt64s() ?? [])
        {
            if (length < 0 || length > shape[timeAxis])
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"sequence length {length} of ReverseSequence is outside [0, {shape[timeAxis]}], the length of the time axis.", lens.Name);
            }
        }

        ctx.SetOutput(0, ctx.InputType(0), shape);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        int[] shape = x.KnownShape;
        (int batchAxis, int timeAxis) = Axes(ctx.Reread());
        ctx.Emit(nameof(Runtime.Kernels.ReverseSequence), [x.Type],
            ctx.In("x", x),
            ctx.In("sequenceLens", ctx.Input(1)),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Int("batch", shape[batchAxis]),
            PlanArg.Int("time", shape[timeAxis]),
            PlanArg.Int("inner", Shapes.Product(shape, 2, shape.Length)),
            PlanArg.Bool("batchMajor", batchAxis == 0));
    }

    private static (int Batch, int Time) Axes(InferenceContext ctx)
    {
        long batch = ctx.Int("batch_axis", 1), time = ctx.Int("time_axis", 0);
        return (batch, time) switch
        {
            (0, 1) => (0, 1),
            (1, 0) => (1, 0),
            _ => throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"batch_axis and time_axis of ReverseSequence must be 0 and 1 in either order, but they are {batch} and {time}."),
        };
    }
}
