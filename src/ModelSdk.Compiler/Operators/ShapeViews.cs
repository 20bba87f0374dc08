using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>An operator whose output has its input's bytes in another shape: lowered to a view, never a copy.</summary>
internal abstract class ViewOperator : IOperator
{
    public abstract void Infer(InferenceContext ctx);

    public void Lower(LoweringContext ctx) => ctx.Alias(ctx.Output(0), ctx.Input(0));
}

/// <summary>Flatten: the 2-D view <c>[d0·…·d(axis-1), d(axis)·…]</c>; axis in <c>[-r, r]</c>, default 1.</summary>
[OnnxOperator("Flatten")]
internal sealed class FlattenOperator : ViewOperator
{
    public override void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        int axis = Axes.Normalize(ctx, ctx.Int("axis", 1), shape.Length, "axis", inclusiveEnd: true);
        ctx.SetOutput(0, ctx.InputType(0), [Shapes.Product(shape, 0, axis), Shapes.Product(shape, axis, shape.Length)]);
    }
}

/// <summary>
/// Reshape (shape as an input since opset 5, which must be a compile-time constant): 0 copies the
/// input's dimension unless allowzero (opset 14) makes it a real 0, and one -1 is inferred.
/// </summary>
[OnnxOperator("Reshape", MinOpset = 5)]
internal sealed class ReshapeOperator : ViewOperator
{
    public override void Infer(InferenceContext ctx)
    {
        int[] input = ctx.InputShape(0);
        long[] requested = Axes.ConstantInts(ctx, 1, "shape")
            ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Reshape requires the shape input.");
        bool allowZero = ctx.Opset >= 14 && ctx.Int("allowzero", 0) != 0;
        int total = Shapes.ElementCount(input);
        string Describe() => $"Reshape cannot turn {Shapes.Format(input)} ({total} elements) into [{string.Join(",", requested)}]";

        var dims = new int[requested.Length];
        int inferred = -1;
        // Capped just above any valid count, so the running product cannot overflow yet stays exact wherever it matters.
        const long Cap = Shapes.MaxElements + 1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long d = requested[i];
            if (d == -1)
            {
                if (inferred >= 0)
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{Describe()}: only one dimension may be -1.");
                }

                inferred = i;
                continue;
            }

            if (d == 0 && !allowZero)
            {
                if (i >= input.Length)
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{Describe()}: 0 at position {i} copies the input's dimension {i}, which does not exist.");
                }

                d = input[i];
            }
            else if (d < 0 || d > Shapes.MaxElements)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{Describe()}: dimension {d} is invalid.");
            }

            dims[i] = (int)d;
            known = Math.Min(known * d, Cap);
        }

        if (inferred >= 0)
        {
            if (allowZero && Array.IndexOf(requested, 0L) >= 0)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{Describe()}: with allowzero=1 a shape cannot contain both 0 and -1.");
            }

            if (known == 0 || total % known != 0)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{Describe()}: no size for the -1 dimension makes the element counts match.");
            }

            dims[inferred] = (int)(total / known);
            known = total;
        }

        if (known != total)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{Describe()}: the element counts differ.");
        }

        ctx.SetOutput(0, ctx.InputType(0), dims);
    }
}

/// <summary>
/// Squeeze: removes the listed size-1 axes, or every size-1 axis when none are listed (axes an
/// attribute before opset 13, an optional constant input from 13).
/// </summary>
[OnnxOperator("Squeeze")]
internal sealed class SqueezeOperator : ViewOperator
{
    public override void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        long[]? listed = Axes.AttributeOrInput(ctx, "axes", 13, 1);
        bool[] remove = new bool[shape.Length];
        if (listed is null || listed.Length == 0)
        {
            for (int d = 0; d < shape.Length; d++)
            {
                remove[d] = shape[d] == 1;
            }
        }
        else
        {
            foreach (int axis in Axes.NormalizeAll(ctx, listed, shape.Length, "axes"))
            {
                if (shape[axis] != 1)
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Squeeze cannot remove axis {axis} of {Shapes.Format(shape)}: its size is {shape[axis]}, not 1.");
                }

                remove[axis] = true;
            }
        }

        ctx.SetOutput(0, ctx.InputType(0), shape.Where((_, d) => !remove[d]).ToArray());
    }
}

/// <summary>
/// Unsqueeze: inserts size-1 axes at the listed positions of the output (axes an attribute before
/// opset 13, a constant input from 13; required either way).
/// </summary>
[OnnxOperator("Unsqueeze")]
internal sealed class UnsqueezeOperator : ViewOperator
{
    public override void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        long[] listed = Axes.AttributeOrInput(ctx, "axes", 13, 1)
            ?? throw (ctx.Opset >= 13
                ? ctx.Error(DiagnosticCodes.ShapeMismatch, "Unsqueeze requires the axes input (input 1) from opset 13.")
                : ctx.Error(DiagnosticCodes.InvalidAttribute, "Unsqueeze requires attribute 'axes'."));
        int rank = shape.Length + listed.Length;
        int[] inserted = Axes.NormalizeAll(ctx, listed, rank, "axes");
        var output = new int[rank];
        for (int d = 0, next = 0; d < rank; d++)
        {
            output[d] = Array.IndexOf(inserted, d) >= 0 ? 1 : shape[next++];
        }

        ctx.SetOutput(0, ctx.InputType(0), output);
    }
}
