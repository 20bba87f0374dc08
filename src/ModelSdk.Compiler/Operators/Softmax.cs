using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Softmax and LogSoftmax on float32. Before opset 13 the input is coerced to 2-D at <c>axis</c>
/// (default 1) and normalised over the whole trailing block; from 13 over the one axis (default -1).
/// Lowered onto <see cref="Runtime.Kernels.Softmax"/>.
/// </summary>
[OnnxOperator("Softmax")]
[OnnxOperator("LogSoftmax")]
internal sealed class SoftmaxOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        int[] shape = ctx.InputShape(0);
        Axis(ctx, shape.Length);
        ctx.SetOutput(0, ElementType.Float32, shape);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        int[] shape = x.KnownShape;
        int axis = Axis(ctx.Reread(), shape.Length);
        int end = ctx.Opset < 13 ? shape.Length : axis + 1;
        ctx.Emit(nameof(Runtime.Kernels.Softmax), [],
            ctx.In("x", x),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Int("axisLength", Shapes.Product(shape, axis, end)),
            PlanArg.Int("inner", Shapes.Product(shape, end, shape.Length)),
            PlanArg.Bool("log", ctx.Node.OpType == "LogSoftmax"));
    }

    private static int Axis(InferenceContext ctx, int rank)
        => Axes.Normalize(ctx, ctx.Int("axis", ctx.Opset < 13 ? 1 : -1), rank, "axis");
}
