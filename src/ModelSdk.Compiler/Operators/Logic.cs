using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>Comparisons with a bool result, lowered onto <see cref="Compare"/>; Equal of bool tensors onto <see cref="Logical"/>.</summary>
[OnnxOperator("Equal")]
[OnnxOperator("Less")]
[OnnxOperator("Greater")]
[OnnxOperator("LessOrEqual", MinOpset = 12)]
[OnnxOperator("GreaterOrEqual", MinOpset = 12)]
internal sealed class CompareOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ctx.OpType == "Equal" ? [.. ElementTypeSets.Numeric, ElementType.Bool] : ElementTypeSets.Numeric);
        ctx.RequireSameType(0, 1);
        ctx.SetOutput(0, ElementType.Bool, BinaryOperator.BroadcastShape(ctx));
    }

    public void Lower(LoweringContext ctx)
    {
        Value a = ctx.Input(0), b = BinaryOperator.LegacyViewOfB(ctx, ctx.Input(1));
        if (a.Type == ElementType.Bool)
        {
            LogicalOperator.Emit(ctx, LogicalOp.Equal, a, b);
        }
        else
        {
            BinaryOperator.EmitBroadcast(ctx, nameof(Compare), [a.Type], PlanArg.Enum("op", nameof(CompareOp), ctx.Node.OpType), a, b, ctx.Output(0));
        }
    }
}

/// <summary>And, Or, Xor of bool tensors with broadcasting, and Not (Xor with true), lowered onto <see cref="Logical"/>.</summary>
[OnnxOperator("And")]
[OnnxOperator("Or")]
[OnnxOperator("Xor")]
[OnnxOperator("Not")]
internal sealed class LogicalOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Bool);
        if (ctx.OpType == "Not")
        {
            ctx.SetOutput(0, ElementType.Bool, ctx.InputShape(0));
            return;
        }

        ctx.RequireType(1, ElementType.Bool);
        ctx.SetOutput(0, ElementType.Bool, BinaryOperator.BroadcastShape(ctx));
    }

    public void Lower(LoweringContext ctx)
    {
        bool not = ctx.Node.OpType == "Not";
        Value b = not ? ctx.Constant(new Tensor(ElementType.Bool, [], [1]), "true") : BinaryOperator.LegacyViewOfB(ctx, ctx.Input(1));
        Emit(ctx, not ? LogicalOp.Xor : Enum.Parse<LogicalOp>(ctx.Node.OpType), ctx.Input(0), b);
    }

    /// <summary>Emits <c>y = op(a, b)</c> on bool tensors into the node's output.</summary>
    public static void Emit(LoweringContext ctx, LogicalOp op, Value a, Value b)
        => BinaryOperator.EmitBroadcast(ctx, nameof(Logical), [], PlanArg.Enum("op", nameof(LogicalOp), op.ToString()), a, b, ctx.Output(0));
}

/// <summary>IsNaN and IsInf (with <c>detect_positive</c>, <c>detect_negative</c>) of float tensors, lowered onto <see cref="Classify"/>.</summary>
[OnnxOperator("IsNaN", MinOpset = 9)]
[OnnxOperator("IsInf", MinOpset = 10)]
internal sealed class ClassifyOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementTypeSets.Floats);
        _ = Operation(ctx);
        ctx.SetOutput(0, ElementType.Bool, ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
        => ctx.Emit(nameof(Classify), [ctx.Input(0).Type],
            PlanArg.Enum("op", nameof(ClassifyOp), Operation(ctx.Attributes()).ToString()),
            ctx.In("x", ctx.Input(0)),
            ctx.Out("y", ctx.Output(0)));

    private static ClassifyOp Operation(InferenceContext ctx)
    {
        if (ctx.OpType == "IsNaN")
        {
            return ClassifyOp.IsNaN;
        }

        bool positive = ctx.Int("detect_positive", 1) != 0, negative = ctx.Int("detect_negative", 1) != 0;
        return (positive, negative) switch
        {
            (true, true) => ClassifyOp.IsInf,
            (true, false) => ClassifyOp.IsPositiveInf,
            (false, true) => ClassifyOp.IsNegativeInf,
            _ => ClassifyOp.None,
        };
    }
}

/// <summary>Where: <c>condition ? X : Y</c> with all three broadcast together; X and Y of any one type.</summary>
[OnnxOperator("Where", MinOpset = 9)]
internal sealed class WhereOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Bool);
        ctx.RequireSameType(1, 2);
        int[] c = ctx.InputShape(0), x = ctx.InputShape(1), y = ctx.InputShape(2);
        int[] shape = Shapes.Broadcast(c, x) is { } cx && Shapes.Broadcast(cx, y) is { } all
            ? all
            : throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"shapes {Shapes.Format(c)}, {Shapes.Format(x)} and {Shapes.Format(y)} of Where cannot be broadcast together.");
        ctx.SetOutput(0, ctx.InputType(1), shape);
    }

    public void Lower(LoweringContext ctx)
    {
        Value c = ctx.Input(0), x = ctx.Input(1), y = ctx.Input(2), result = ctx.Output(0);
        BroadcastLayout layout = BroadcastLayout.Create(result.KnownShape, c.KnownShape, x.KnownShape, y.KnownShape);
        ctx.Emit(nameof(Where), [x.Type],
            ctx.In("condition", c),
            ctx.In("x", x),
            ctx.In("y", y),
            ctx.Out("result", result),
            PlanArg.IntList("shape", layout.Shape),
            PlanArg.IntList("conditionStrides", layout.Strides[0]),
            PlanArg.IntList("xStrides", layout.Strides[1]),
            PlanArg.IntList("yStrides", layout.Strides[2]));
    }
}
