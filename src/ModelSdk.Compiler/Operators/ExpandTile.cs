using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Expand: broadcasts the input to the constant shape input (bidirectionally, as NumPy does). Lowered onto
/// one strided copy with stride 0 along broadcast dimensions, or a view when nothing is repeated.
/// </summary>
[OnnxOperator("Expand", MinOpset = 8)]
internal sealed class ExpandOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        long[] requested = Axes.ConstantInts(ctx, 1, "shape")
            ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Expand requires the shape input.");
        if (requested.Any(d => d < 0 || d > Shapes.MaxElements))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Expand to [{string.Join(",", requested)}]: a dimension is negative or too large.");
        }

        int[] output = Shapes.Broadcast(shape, requested.Select(d => (int)d).ToArray())
            ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Expand cannot broadcast {Shapes.Format(shape)} to [{string.Join(",", requested)}].");
        ctx.SetOutput(0, ctx.InputType(0), output);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        BroadcastLayout layout = BroadcastLayout.Create(y.KnownShape, x.KnownShape);
        StridedLayout.EmitCopy(ctx, x, y, layout.Shape, layout.Strides[0], 0);
    }
}

/// <summary>
/// Tile: repeats the input along each axis by the constant repeats input. Output axis <c>d</c> is viewed as
/// <c>[repeats[d], input[d]]</c>, the first read with stride 0, so the whole tiling is one strided copy.
/// </summary>
[OnnxOperator("Tile", MinOpset = 6)]
internal sealed class TileOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        long[] repeats = Repeats(ctx, shape.Length);
        var output = new int[shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            long length = shape[d] * repeats[d];
            if (length > Shapes.MaxElements)
            {
                throw ctx.Error(DiagnosticCodes.LimitExceeded, $"Tile of {Shapes.Format(shape)} by [{string.Join(",", repeats)}] is too large.");
            }

            output[d] = (int)length;
        }

        ctx.SetOutput(0, ctx.InputType(0), output);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        int[] shape = x.KnownShape;
        long[] repeats = Repeats(ctx.Reread(), shape.Length);
        int[] dense = Shapes.Strides(shape);
        var dims = new int[2 * shape.Length];
        var strides = new int[2 * shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            (dims[2 * d], strides[2 * d]) = ((int)repeats[d], 0);
            (dims[(2 * d) + 1], strides[(2 * d) + 1]) = (shape[d], dense[d]);
        }

        StridedLayout.EmitCopy(ctx, x, y, dims, strides, 0);
    }

    private static long[] Repeats(InferenceContext ctx, int rank)
    {
        long[] repeats = Axes.ConstantInts(ctx, 1, "repeats")
            ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Tile requires the repeats input.");
        if (repeats.Length != rank || repeats.Any(r => r < 0 || r > Shapes.MaxElements))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"repeats [{string.Join(",", repeats)}] of Tile must hold one non-negative count for each of the {rank} axes.");
        }

        return repeats;
    }
}
