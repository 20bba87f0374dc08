using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// NegativeLogLikelihoodLoss (opset 12): log-probabilities <c>[N, C, d1…]</c>, int32 or int64 targets
/// <c>[N, d1…]</c>, optional class weights <c>[C]</c>, reduction none, sum or mean (divided by the sum
/// of the weights applied), and ignore_index. Lowered onto <see cref="NegativeLogLikelihood"/>.
/// </summary>
[OnnxOperator("NegativeLogLikelihoodLoss", MinOpset = 12)]
internal sealed class NegativeLogLikelihoodLossOperator : IOperator
{
    public void Infer(InferenceContext ctx) => LossShape.Infer(ctx);

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), target = ctx.Input(1);
        ctx.Emit(nameof(NegativeLogLikelihood), [x.Type, target.Type],
            [
                ctx.In("x", x),
                ctx.In("target", target),
                ctx.InOrNone("weight", ctx.OptionalInput(2)),
                ctx.Out("loss", ctx.Output(0)),
                .. LossShape.Args(ctx),
            ]);
    }
}

/// <summary>
/// SoftmaxCrossEntropyLoss (opset 12): the log-softmax of scores <c>[N, C, d1…]</c> over the classes
/// (the optional second output, log_prob), then NegativeLogLikelihoodLoss of it with the same labels,
/// weights, reduction and ignore_index. Lowered onto <see cref="SoftmaxCrossEntropy"/>, which writes the
/// log-probabilities into the second output or, without it, into a temporary.
/// </summary>
[OnnxOperator("SoftmaxCrossEntropyLoss", MinOpset = 12)]
internal sealed class SoftmaxCrossEntropyLossOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        LossShape.Infer(ctx);
        if (ctx.OutputCount > 1 && ctx.Node.Outputs[1].Name.Length > 0)
        {
            ctx.SetOutput(1, ctx.InputType(0), ctx.InputShape(0));
        }
    }

    public void Lower(LoweringContext ctx)
    {
        Value scores = ctx.Input(0), labels = ctx.Input(1);
        Value logProb = ctx.Node.Outputs.Count > 1 && ctx.Output(1).Name.Length > 0
            ? ctx.Output(1)
            : ctx.Temporary(scores.Type, scores.KnownShape, "logProb");
        ctx.Emit(nameof(SoftmaxCrossEntropy), [scores.Type, labels.Type],
            [
                ctx.In("scores", scores),
                ctx.In("labels", labels),
                ctx.InOrNone("weights", ctx.OptionalInput(2)),
                ctx.Out("loss", ctx.Output(0)),
                ctx.Out("logProb", logProb),
                .. LossShape.Args(ctx),
            ]);
    }
}

/// <summary>The inputs, attributes and loss output shared by the two loss operators.</summary>
internal static class LossShape
{
    /// <summary>
    /// Checks the scores (or log-probabilities), the targets and the weights, and sets output 0: one loss per
    /// target with reduction none, a scalar otherwise.
    /// </summary>
    public static void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Float64, ElementType.Float16);
        ctx.RequireType(1, ElementType.Int32, ElementType.Int64);
        int[] shape = ctx.InputShape(0), target = ctx.InputShape(1);
        if (shape.Length < 2 || !Shapes.Equal(target, [shape[0], .. shape[2..]]))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{ctx.OpType} needs an input [N, C, d1, …] and targets [N, d1, …], but they are {Shapes.Format(shape)} and {Shapes.Format(target)}.");
        }

        if (ctx.OptionalInput(2) is { } weight)
        {
            ctx.RequireSameType(0, 2);
            if (!Shapes.Equal(weight.KnownShape, [shape[1]]))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"the weights of {ctx.OpType} must have one element per class, [{shape[1]}], but they are {Shapes.Format(weight.KnownShape)}.", weight.Name);
            }
        }

        _ = Ignore(ctx);
        ctx.SetOutput(0, ctx.InputType(0), Reduction(ctx) == LossReduction.None ? target : []);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    /// <summary>The kernel arguments after the tensors: classes, inner, reduction, ignore, ignoreIndex.</summary>
    public static PlanArg[] Args(LoweringContext ctx)
    {
        int[] shape = ctx.Input(0).KnownShape;
        InferenceContext attributes = ctx.Reread();
        (bool ignore, int ignoreIndex) = Ignore(attributes);
        return
        [
            PlanArg.Int("classes", shape[1]),
            PlanArg.Int("inner", Shapes.Product(shape, 2, shape.Length)),
            PlanArg.Enum("reduction", nameof(LossReduction), Reduction(attributes).ToString()),
            PlanArg.Bool("ignore", ignore),
            PlanArg.Int("ignoreIndex", ignoreIndex),
        ];
    }

    private static LossReduction Reduction(InferenceContext ctx) => ctx.String("reduction", "mean") switch
    {
        "none" => LossReduction.None,
        "sum" => LossReduction.Sum,
        "mean" => LossReduction.Mean,
        string other => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'reduction' of {ctx.OpType} must be none, sum or mean, not '{other}'."),
    };

    /// <summary>Whether a target value is ignored, and which.</summary>
    private static (bool Ignore, int Index) Ignore(InferenceContext ctx)
    {
        if (!ctx.Has("ignore_index"))
        {
            return (false, 0);
        }

        long index = ctx.Int("ignore_index", 0);
        if (index is >= int.MinValue and <= int.MaxValue)
        {
            return (true, (int)index);
        }

        // No int32 target can equal it; int64 targets could, but the kernel compares with an int.
        return ctx.InputType(1) == ElementType.Int32
            ? (false, 0)
            : throw ctx.Unsupported($"ignore_index {index} of {ctx.OpType} is outside the int32 range, which ModelSdk does not support with int64 targets.");
    }
}
