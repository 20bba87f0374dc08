using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// BatchNormalization at inference: <c>y = (x − mean) / sqrt(var + epsilon) · scale + B</c> per
/// channel, rewritten as <c>y = x · s + t</c> and lowered onto <see cref="ChannelAffine"/>. With
/// constant parameters s and t are computed at compile time; otherwise by a few steps on [C].
/// Training mode (and its extra outputs) and the per-activation mode of opsets 6–8 (spatial=0) are not supported.
/// </summary>
[OnnxOperator("BatchNormalization")]
internal sealed class BatchNormalizationOperator : IOperator
{
    private static readonly string[] Roles = ["X", "scale", "B", "input_mean", "input_var"];

    public void Infer(InferenceContext ctx)
    {
        if (ctx.Opset < 9 && ctx.Int("spatial", 1) == 0)
        {
            throw ctx.Unsupported("BatchNormalization with spatial=0 (statistics per activation instead of per channel) is not supported.");
        }

        if (ctx.Opset >= 14 && ctx.Int("training_mode", 0) != 0)
        {
            throw ctx.Unsupported("BatchNormalization in training mode (training_mode=1) is not supported; export the model for inference.");
        }

        if (ctx.Node.Outputs.Skip(1).Any(o => o.Name.Length > 0))
        {
            throw ctx.Unsupported("the running and saved statistics outputs of BatchNormalization exist only in training mode, which is not supported; export the model for inference.");
        }

        for (int i = 0; i < Roles.Length; i++)
        {
            ctx.RequireType(i, ElementType.Float32);
        }

        int[] x = ctx.InputShape(0);
        if (x.Length < 2)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"BatchNormalization needs X as [N,C,…], but its shape is {Shapes.Format(x)}.");
        }

        for (int i = 1; i < Roles.Length; i++)
        {
            if (!Shapes.Equal(ctx.InputShape(i), [x[1]]))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"input '{Roles[i]}' of BatchNormalization must have shape [{x[1]}] (one value per channel of X {Shapes.Format(x)}), but it has {Shapes.Format(ctx.InputShape(i))}.", ctx.Input(i).Name);
            }
        }

        ctx.Float("epsilon", 1e-5f);
        ctx.SetOutput(0, ElementType.Float32, x);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        float epsilon = ctx.Attributes().Float("epsilon", 1e-5f);
        (Value scale, Value shift) = ctx.Input(1).IsConstant && ctx.Input(2).IsConstant && ctx.Input(3).IsConstant && ctx.Input(4).IsConstant
            ? FoldParameters(ctx, epsilon)
            : ComputeParameters(ctx, epsilon);
        int[] shape = x.KnownShape;
        ctx.Emit(nameof(ChannelAffine), [],
            ctx.In("x", x),
            ctx.In("scale", scale),
            ctx.In("bias", shift),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Int("channels", shape[1]),
            PlanArg.Int("spatial", Shapes.Product(shape, 2, shape.Length)));
    }

    public long CountMacs(Node node) => node.Inputs[0]!.ElementCount;

    private static (Value Scale, Value Shift) FoldParameters(LoweringContext ctx, float epsilon)
    {
        float[] gamma = ctx.Input(1).Constant!.ToFloats(), beta = ctx.Input(2).Constant!.ToFloats();
        float[] mean = ctx.Input(3).Constant!.ToFloats(), variance = ctx.Input(4).Constant!.ToFloats();
        var s = new float[gamma.Length];
        var t = new float[gamma.Length];
        for (int c = 0; c < s.Length; c++)
        {
            double factor = gamma[c] / Math.Sqrt((double)variance[c] + epsilon);
            s[c] = (float)factor;
            t[c] = (float)(beta[c] - mean[c] * factor);
        }

        return (ctx.Constant(Tensor.FromFloats([s.Length], s), "scale"), ctx.Constant(Tensor.FromFloats([t.Length], t), "shift"));
    }

    private static (Value Scale, Value Shift) ComputeParameters(LoweringContext ctx, float epsilon)
    {
        int[] channels = ctx.Input(1).KnownShape;
        Value Step(BinaryOp op, Value a, Value b, string role)
        {
            Value result = ctx.Temporary(ElementType.Float32, channels, role);
            BinaryOperator.EmitBroadcast(ctx, op, a, b, result);
            return result;
        }

        Value shifted = Step(BinaryOp.Add, ctx.Input(4), ctx.Constant(Tensor.FromFloats([], epsilon), "epsilon"), "variance");
        Value inverseStd = Step(BinaryOp.Pow, shifted, ctx.Constant(Tensor.FromFloats([], -0.5f), "exponent"), "inverse_std");
        Value scale = Step(BinaryOp.Mul, ctx.Input(1), inverseStd, "scale");
        Value centre = Step(BinaryOp.Mul, ctx.Input(3), scale, "mean_scaled");
        return (scale, Step(BinaryOp.Sub, ctx.Input(2), centre, "shift"));
    }
}
