using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Split along one axis into the node's outputs: lengths from the <c>split</c> attribute (before opset 13)
/// or constant input (from 13), else equal parts; from opset 18 <c>num_outputs</c> allows a shorter last
/// part. Each output is one strided copy of its part.
/// </summary>
[OnnxOperator("Split")]
internal sealed class SplitOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        (int axis, int[] lengths) = Resolve(ctx, shape);
        for (int i = 0; i < lengths.Length; i++)
        {
            int[] part = (int[])shape.Clone();
            part[axis] = lengths[i];
            ctx.SetOutput(i, ctx.InputType(0), part);
            StridedLayout.SetEmptyConstant(ctx, i);
        }
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        int[] shape = x.KnownShape;
        (int axis, int[] lengths) = Resolve(ctx.Reread(), shape);
        int outer = Shapes.Product(shape, 0, axis), inner = Shapes.Product(shape, axis + 1, shape.Length);
        int start = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            Value y = ctx.Output(i);
            if (y.Name.Length > 0)
            {
                StridedLayout.EmitCopy(ctx, x, y, [outer, lengths[i] * inner], [shape[axis] * inner, 1], start * inner);
            }

            start += lengths[i];
        }
    }

    private static (int Axis, int[] Lengths) Resolve(InferenceContext ctx, int[] shape)
    {
        int axis = Axes.Normalize(ctx, ctx.Int("axis", 0), shape.Length, "axis");
        int length = shape[axis], parts = ctx.OutputCount;
        long[]? split = Axes.AttributeOrInput(ctx, "split", 13, 1);
        if (split is { Length: > 0 })
        {
            if (split.Length != parts || split.Any(s => s < 0 || s > length) || split.Sum() != length)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"split [{string.Join(",", split)}] of Split must give each of the {parts} outputs a length, summing to {length} (axis {axis} of {Shapes.Format(shape)}).");
            }

            return (axis, split.Select(s => (int)s).ToArray());
        }

        if (ctx.Opset >= 18 && ctx.Has("num_outputs"))
        {
            long count = ctx.Int("num_outputs", parts);
            if (count != parts || count < 1)
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"num_outputs {count} of Split must equal its {parts} outputs.");
            }

            // Parts of ceil(length / count), the last one shorter.
            int size = (int)((length + count - 1) / count);
            return (axis, Enumerable.Range(0, parts).Select(i => Math.Clamp(length - i * size, 0, size)).ToArray());
        }

        if (parts == 0 || length % parts != 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Split cannot cut axis {axis} of {Shapes.Format(shape)} into {parts} equal parts.");
        }

        return (axis, Enumerable.Repeat(length / parts, parts).ToArray());
    }
}
