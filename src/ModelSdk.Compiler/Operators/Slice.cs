using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Slice: starts, ends and axes as attributes before opset 10; from 10 as inputs (int32 or int64, with
/// steps), which must be compile-time constants because they fix the output shape. Out-of-range
/// bounds clamp; negative steps walk backwards. Lowered onto one strided copy.
/// </summary>
[OnnxOperator("Slice")]
internal sealed class SliceOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        (_, _, int[] lengths) = Resolve(ctx, ctx.InputShape(0));
        ctx.SetOutput(0, ctx.InputType(0), lengths);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        int[] shape = x.KnownShape;
        (int[] starts, int[] steps, int[] lengths) = Resolve(ctx.Reread(), shape);
        int[] dense = Shapes.Strides(shape);
        int offset = 0;
        var strides = new int[shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            offset += starts[d] * dense[d];
            // A dimension of one element never advances; its step may be too large to multiply.
            strides[d] = lengths[d] > 1 ? steps[d] * dense[d] : 0;
        }

        StridedLayout.EmitCopy(ctx, x, y, lengths, strides, offset);
    }

    /// <summary>Per dimension of the input: the first position read, the step, and the output length.</summary>
    private static (int[] Starts, int[] Steps, int[] Lengths) Resolve(InferenceContext ctx, int[] shape)
    {
        int rank = shape.Length;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (ctx.Opset < 10)
        {
            starts = ctx.Ints("starts") ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute, "Slice requires attribute 'starts'.");
            ends = ctx.Ints("ends") ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute, "Slice requires attribute 'ends'.");
            axes = ctx.Ints("axes");
        }
        else
        {
            starts = Axes.ConstantInts(ctx, 1, "starts", int32Allowed: true) ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Slice requires the starts input.");
            ends = Axes.ConstantInts(ctx, 2, "ends", int32Allowed: true) ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Slice requires the ends input.");
            axes = Axes.ConstantInts(ctx, 3, "axes", int32Allowed: true);
            steps = Axes.ConstantInts(ctx, 4, "steps", int32Allowed: true);
        }

        int count = starts.Length;
        if (ends.Length != count || (axes is not null && axes.Length != count) || (steps is not null && steps.Length != count))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"the starts, ends, axes and steps of Slice must have one length, but they have {starts.Length}, {ends.Length}, {axes?.Length.ToString() ?? "-"} and {steps?.Length.ToString() ?? "-"}.");
        }

        if (axes is null && count > rank)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Slice lists {count} starts for an input of rank {rank}.");
        }

        int[] sliced = axes is null ? Enumerable.Range(0, count).ToArray() : Axes.NormalizeAll(ctx, axes, rank, "axes");
        var first = new int[rank];
        var step = Enumerable.Repeat(1, rank).ToArray();
        var lengths = (int[])shape.Clone();
        for (int i = 0; i < count; i++)
        {
            int d = sliced[i], n = shape[d];
            long s = steps?[i] ?? 1;
            if (s == 0)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"step {i} of Slice is 0.");
            }

            // A step longer than the axis reads one element either way; clamped, it cannot overflow below.
            s = Math.Clamp(s, -n - 1L, n + 1L);

            long begin = starts[i] < 0 ? starts[i] + n : starts[i];
            long end = ends[i] < 0 ? ends[i] + n : ends[i];
            long length;
            if (n == 0)
            {
                length = 0;
            }
            else if (s > 0)
            {
                begin = Math.Clamp(begin, 0, n);
                end = Math.Clamp(end, 0, n);
                length = end > begin ? (end - begin + s - 1) / s : 0;
            }
            else
            {
                begin = Math.Clamp(begin, 0, n - 1);
                end = Math.Clamp(end, -1, n - 1);
                length = begin > end ? (begin - end - s - 1) / -s : 0;
            }

            first[d] = length > 0 ? (int)begin : 0;
            step[d] = (int)s;
            lengths[d] = (int)length;
        }

        return (first, step, lengths);
    }
}
