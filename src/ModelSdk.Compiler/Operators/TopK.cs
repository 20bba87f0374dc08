using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// TopK: the k largest (or, from opset 11, smallest) elements along <c>axis</c> (default -1) and their
/// int64 positions, best first, equal values by position. k is an attribute before opset 10 and a
/// constant one-element input from then. Results are always sorted, which satisfies sorted=0 too
/// (its order is unspecified). Lowered onto <see cref="Runtime.Kernels.TopK"/>.
/// </summary>
[OnnxOperator("TopK")]
internal sealed class TopKOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Float64, ElementType.Int32, ElementType.Int64);
        int[] shape = ctx.InputShape(0);
        (int axis, int k) = Resolve(ctx, shape);
        int[] output = shape.Select((d, a) => a == axis ? k : d).ToArray();
        ctx.SetOutput(0, ctx.InputType(0), output);
        if (ctx.OutputCount > 1)
        {
            ctx.SetOutput(1, ElementType.Int64, output);
        }
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), values = ctx.Output(0);
        int[] shape = x.KnownShape;
        InferenceContext attributes = ctx.Reread();
        (int axis, int k) = Resolve(attributes, shape);

        // The kernel keeps its heap in the indices, so it needs them even when the model does not.
        Value indices = ctx.Node.Outputs.Count > 1 ? ctx.Output(1) : ctx.Temporary(ElementType.Int64, values.KnownShape, "indices");
        ctx.Emit(nameof(Runtime.Kernels.TopK), [x.Type],
            ctx.In("x", x),
            ctx.Out("values", values),
            ctx.Out("indices", indices),
            PlanArg.Int("axisLength", shape[axis]),
            PlanArg.Int("inner", Shapes.Product(shape, axis + 1, shape.Length)),
            PlanArg.Int("k", k),
            PlanArg.Bool("largest", ctx.Opset < 11 || attributes.Int("largest", 1) != 0));
    }

    private static (int Axis, int K) Resolve(InferenceContext ctx, int[] shape)
    {
        int axis = Axes.Normalize(ctx, ctx.Int("axis", -1), shape.Length, "axis");
        long k;
        if (ctx.Opset < 10)
        {
            k = ctx.RequiredInt("k");
        }
        else
        {
            ctx.RequireType(1, ElementType.Int64);
            long[] values = ctx.ConstantInput(1, "K").ToInt64s();
            if (values.Length != 1)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the K input of TopK must hold one value, but it holds {values.Length}.", ctx.Input(1).Name);
            }

            k = values[0];
        }

        if (k < 0 || k > shape[axis])
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"TopK asks for k = {k} elements along axis {axis}, which has {shape[axis]}.");
        }

        return (axis, (int)k);
    }
}
