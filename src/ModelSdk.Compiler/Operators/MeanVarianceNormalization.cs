using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// MeanVarianceNormalization (opset 9): <c>y = (x - mean) / sqrt(var + 1e-9)</c> with the mean and the
/// (biased) variance over <c>axes</c> (default [0, 2, 3]). Lowered, as the specification's function body
/// is, onto <see cref="Reduce"/>, <see cref="Binary"/> and <see cref="Unary"/> steps; the variance is the
/// mean of the squared deviations, which unlike E[x²] - E[x]² cannot come out negative.
/// </summary>
[OnnxOperator("MeanVarianceNormalization", MinOpset = 9)]
internal sealed class MeanVarianceNormalizationOperator : IOperator
{
    private const double Epsilon = 1e-9;

    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Float64);
        _ = ReducedShape(ctx);
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        ElementType type = x.Type;
        int[] shape = x.KnownShape, reduced = ReducedShape(ctx.Reread());

        Value mean = ctx.Temporary(type, reduced, "mean");
        EmitMean(ctx, x, mean);
        Value centered = ctx.Temporary(type, shape, "centered");
        BinaryOperator.EmitBroadcast(ctx, BinaryOp.Sub, x, mean, centered);

        // The squares go through the output, which the last step overwrites.
        BinaryOperator.EmitBroadcast(ctx, BinaryOp.Mul, centered, centered, y);
        Value variance = ctx.Temporary(type, reduced, "variance");
        EmitMean(ctx, y, variance);
        Value shifted = ctx.Temporary(type, reduced, "shifted");
        BinaryOperator.EmitBroadcast(ctx, BinaryOp.Add, variance, ctx.Constant(ScalarTensors.Of(type, Epsilon), "epsilon"), shifted);
        Value deviation = ctx.Temporary(type, reduced, "deviation");
        ctx.Emit(nameof(Unary), [type],
            PlanArg.Enum("op", nameof(UnaryOp), nameof(UnaryOp.Sqrt)),
            ctx.In("x", shifted),
            ctx.Out("y", deviation),
            PlanArg.Float("alpha", 0),
            PlanArg.Float("beta", 0),
            ctx.Context());
        BinaryOperator.EmitBroadcast(ctx, BinaryOp.Div, centered, deviation, y);
    }

    /// <summary>The input shape with each normalised axis set to 1.</summary>
    private static int[] ReducedShape(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        long[] axes = ctx.Ints("axes") ?? [0, 2, 3];
        int[] reduced = (int[])shape.Clone();
        foreach (int a in Axes.NormalizeAll(ctx, axes, shape.Length, "axes"))
        {
            reduced[a] = 1;
        }

        return reduced;
    }

    // Means over the axes where `mean` has size 1; Reduce walks the input with the broadcast layout of its output.
    private static void EmitMean(LoweringContext ctx, Value x, Value mean)
    {
        BroadcastLayout layout = BroadcastLayout.Create(x.KnownShape, x.KnownShape, mean.KnownShape);
        ctx.Emit(nameof(Reduce), [x.Type],
            PlanArg.Enum("op", nameof(ReduceOp), nameof(ReduceOp.Mean)),
            ctx.In("x", x),
            ctx.Out("y", mean),
            PlanArg.IntList("shape", layout.Shape),
            PlanArg.IntList("yStrides", layout.Strides[1]));
    }
}
