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
        SoftmaxAxis.Resolve(ctx, shape);
        ctx.SetOutput(0, ElementType.Float32, shape);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        (int axisLength, int inner) = SoftmaxAxis.Resolve(ctx.Reread(), x.KnownShape);
        ctx.Emit(nameof(Runtime.Kernels.Softmax), [],
            ctx.In("x", x),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Int("axisLength", axisLength),
            PlanArg.Int("inner", inner),
            PlanArg.Bool("log", ctx.Node.OpType == "LogSoftmax"),
            ctx.Context());
    }
}

/// <summary>
/// Hardmax: 1 at the first largest element along the axis, 0 elsewhere, with Softmax's axis rules
/// (coerced 2-D before opset 13). Lowered onto <see cref="Runtime.Kernels.Hardmax"/>.
/// </summary>
[OnnxOperator("Hardmax")]
internal sealed class HardmaxOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Float64);
        int[] shape = ctx.InputShape(0);
        SoftmaxAxis.Resolve(ctx, shape);
        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        (int axisLength, int inner) = SoftmaxAxis.Resolve(ctx.Reread(), x.KnownShape);
        int positions = axisLength == 0 ? 0 : x.ElementCount / axisLength;
        ctx.Emit(nameof(Runtime.Kernels.Hardmax), [x.Type],
            ctx.In("x", x),
            ctx.Out("y", ctx.Output(0)),
            ctx.Out("scratch", ctx.Temporary(ElementType.Int64, [positions], "argmax")),
            PlanArg.Int("axisLength", axisLength),
            PlanArg.Int("inner", inner));
    }
}

/// <summary>The axis of the softmax family, as the kernels' <c>[outer, axisLength, inner]</c> view.</summary>
internal static class SoftmaxAxis
{
    /// <summary>
    /// Before opset 13 the axis (default 1) splits the shape in two and the whole trailing block is one
    /// row; from 13 the axis (default -1) is one dimension.
    /// </summary>
    public static (int AxisLength, int Inner) Resolve(InferenceContext ctx, int[] shape)
    {
        int rank = shape.Length;
        int axis = Axes.Normalize(ctx, ctx.Int("axis", ctx.Opset < 13 ? 1 : -1), rank, "axis");
        int end = ctx.Opset < 13 ? rank : axis + 1;
        return (Shapes.Product(shape, axis, end), Shapes.Product(shape, end, rank));
    }
}
