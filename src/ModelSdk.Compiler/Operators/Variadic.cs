using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Sum, Mean, Max, Min of one or more inputs, broadcast together (opset 8 on; before, all shapes must be
/// equal). Lowered as a chain of <see cref="Binary"/> steps accumulating in the output: the first combines
/// inputs 0 and 1 broadcast to the full shape, each further step folds one input in place; Mean then
/// divides by the count. One input is a view of it.
/// </summary>
[OnnxOperator("Sum")]
[OnnxOperator("Mean")]
[OnnxOperator("Max")]
[OnnxOperator("Min")]
internal sealed class VariadicOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        if (ctx.InputCount == 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} needs at least one input.");
        }

        ctx.RequireType(0, ctx.OpType is "Max" or "Min" ? ElementTypeSets.Numeric : ElementTypeSets.Floats);
        int[] shape = ctx.InputShape(0);
        for (int i = 1; i < ctx.InputCount; i++)
        {
            ctx.RequireSameType(0, i);
            int[] next = ctx.InputShape(i);
            shape = Shapes.Broadcast(shape, next) is { } s && (ctx.Opset >= 8 || Shapes.Equal(shape, next))
                ? s
                : throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"the shapes of {ctx.OpType}'s inputs ({string.Join(", ", Enumerable.Range(0, ctx.InputCount).Select(k => Shapes.Format(ctx.InputShape(k))))}) cannot be broadcast together" +
                    (ctx.Opset < 8 ? $" (before opset 8 they must be equal)." : "."));
        }

        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        int count = ctx.Node.Inputs.Count;
        if (count == 1)
        {
            ctx.Alias(y, ctx.Input(0));
            return;
        }

        BinaryOp op = ctx.Node.OpType switch
        {
            "Max" => BinaryOp.Max,
            "Min" => BinaryOp.Min,
            _ => BinaryOp.Add,
        };
        BinaryOperator.EmitBroadcast(ctx, op, ctx.Input(0), ctx.Input(1), y);
        for (int i = 2; i < count; i++)
        {
            BinaryOperator.EmitBroadcast(ctx, op, y, ctx.Input(i), y);
        }

        if (ctx.Node.OpType == "Mean")
        {
            Value n = ctx.Constant(CastOperator.Convert(Tensor.FromFloats([], count), y.Type), "count");
            BinaryOperator.EmitBroadcast(ctx, BinaryOp.Div, y, n, y);
        }
    }
}
