using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// ArgMax and ArgMin: int64 positions of the extreme element along <c>axis</c> (default 0), the axis
/// kept as size 1 unless keepdims is 0; select_last_index (opset 12) picks the last of equal
/// elements. Lowered onto <see cref="ArgReduce"/>.
/// </summary>
[OnnxOperator("ArgMax")]
[OnnxOperator("ArgMin")]
internal sealed class ArgReduceOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Float64, ElementType.Int32, ElementType.Int64, ElementType.Int8, ElementType.UInt8);
        int[] shape = ctx.InputShape(0);
        int axis = Axes.Normalize(ctx, ctx.Int("axis", 0), shape.Length, "axis");
        int[] output = ctx.Int("keepdims", 1) != 0
            ? shape.Select((d, a) => a == axis ? 1 : d).ToArray()
            : shape.Where((_, a) => a != axis).ToArray();
        if (shape[axis] == 0 && Shapes.ElementCount(output) > 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} along axis {axis} of shape {Shapes.Format(shape)} has no element to choose.");
        }

        ctx.SetOutput(0, ElementType.Int64, output);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        int[] shape = x.KnownShape;
        InferenceContext attributes = ctx.Reread();
        int axis = Axes.Normalize(attributes, attributes.Int("axis", 0), shape.Length, "axis");
        ctx.Emit(nameof(ArgReduce), [x.Type],
            ctx.In("x", x),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Int("axisLength", shape[axis]),
            PlanArg.Int("inner", Shapes.Product(shape, axis + 1, shape.Length)),
            PlanArg.Bool("min", ctx.Node.OpType == "ArgMin"),
            PlanArg.Bool("selectLast", ctx.Opset >= 12 && attributes.Int("select_last_index", 0) != 0));
    }
}
