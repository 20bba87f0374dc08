using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Concat along one axis (required from opset 4, negative from 11): one <see cref="Runtime.Kernels.Concat"/>
/// step per non-empty input, each filling its slice of the output.
/// </summary>
[OnnxOperator("Concat")]
internal sealed class ConcatOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        if (ctx.InputCount == 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Concat needs at least one input.");
        }

        int[] first = ctx.InputShape(0);
        int axis = Axes.Normalize(ctx, ctx.RequiredInt("axis"), first.Length, "axis");
        long length = 0;
        for (int i = 0; i < ctx.InputCount; i++)
        {
            ctx.RequireSameType(0, i);
            int[] shape = ctx.InputShape(i);
            bool fits = shape.Length == first.Length && shape.Select((d, k) => k == axis || d == first[k]).All(same => same);
            if (!fits)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"Concat along axis {axis} needs inputs that agree on every other axis, but input 0 is {Shapes.Format(first)} and input {i} is {Shapes.Format(shape)}.",
                    ctx.Input(i).Name);
            }

            length += shape[axis];
        }

        if (length > Shapes.MaxElements)
        {
            throw ctx.Error(DiagnosticCodes.LimitExceeded, $"Concat along axis {axis} would have {length} elements on that axis.");
        }

        int[] output = (int[])first.Clone();
        output[axis] = (int)length;
        ctx.SetOutput(0, ctx.InputType(0), output);
        if (Shapes.ElementCount(output) == 0)
        {
            // Nothing to compute: an empty tensor is fully known, and no step would ever write it.
            ctx.SetOutputConstant(0, new Tensor(ctx.InputType(0), output, []));
        }
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        if (ctx.Node.Inputs.Count == 1)
        {
            ctx.Alias(y, ctx.Input(0));
            return;
        }

        int[] shape = y.KnownShape;
        InferenceContext attributes = ctx.Reread();
        int axis = Axes.Normalize(attributes, attributes.RequiredInt("axis"), shape.Length, "axis");
        int outer = Shapes.Product(shape, 0, axis), inner = Shapes.Product(shape, axis + 1, shape.Length);
        int offset = 0;
        for (int i = 0; i < ctx.Node.Inputs.Count; i++)
        {
            Value x = ctx.Input(i);
            if (x.ElementCount > 0)
            {
                ctx.Emit(nameof(Runtime.Kernels.Concat), [y.Type],
                    ctx.In("x", x),
                    ctx.Out("y", y),
                    PlanArg.Int("outer", outer),
                    PlanArg.Int("offset", offset));
            }

            offset += x.KnownShape[axis] * inner;
        }
    }
}
