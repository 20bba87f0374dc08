using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Gather along one axis with int32 or int64 indices of any rank (a scalar index drops the axis);
/// negative indices count from the end. Lowered onto <see cref="Runtime.Kernels.Gather"/>.
/// </summary>
[OnnxOperator("Gather")]
internal sealed class GatherOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] data = ctx.InputShape(0);
        int[] indices = ctx.InputShape(1);
        ctx.RequireType(1, ElementType.Int32, ElementType.Int64);
        if (data.Length == 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Gather needs data of rank 1 or more, but it is a scalar.", ctx.Input(0).Name);
        }

        int axis = Axis(ctx, data.Length);
        if (ctx.Input(1).Constant is { } constant)
        {
            // Caught here with the node's name rather than as a failure while folding or at run time.
            foreach (long index in constant.ToInt64s())
            {
                if (index < -data[axis] || index >= data[axis])
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                        $"Gather index {index} is outside [{-data[axis]}, {data[axis] - 1}], the range of axis {axis} of {Shapes.Format(data)}.", ctx.Input(1).Name);
                }
            }
        }

        ctx.SetOutput(0, ctx.InputType(0), [.. data[..axis], .. indices, .. data[(axis + 1)..]]);
    }

    public void Lower(LoweringContext ctx)
    {
        Value data = ctx.Input(0), indices = ctx.Input(1);
        int[] shape = data.KnownShape;
        int axis = Axis(ctx.Reread(), shape.Length);
        ctx.Emit(nameof(Runtime.Kernels.Gather), [data.Type, indices.Type],
            ctx.In("data", data),
            ctx.In("indices", indices),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Int("outer", Shapes.Product(shape, 0, axis)),
            PlanArg.Int("axisLength", shape[axis]),
            PlanArg.Int("inner", Shapes.Product(shape, axis + 1, shape.Length)));
    }

    private static int Axis(InferenceContext ctx, int rank) => Axes.Normalize(ctx, ctx.Int("axis", 0), rank, "axis");
}
