using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// LRN (local response normalization across channels, opsets 1 and 13) on float32
/// <c>[N, C, spatial…]</c>: attributes size (required, odd or even), alpha, beta and bias.
/// Lowered onto <see cref="Lrn"/>.
/// </summary>
[OnnxOperator("LRN")]
internal sealed class LrnOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        int[] x = ctx.InputShape(0);
        if (x.Length < 2)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"LRN needs X as [N,C,…], but its shape is {Shapes.Format(x)}.");
        }

        long size = ctx.RequiredInt("size");
        if (size < 1 || size > int.MaxValue)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'size' of LRN must be positive, but it is {size}.");
        }

        ctx.Float("alpha", 1e-4f);
        ctx.Float("beta", 0.75f);
        ctx.Float("bias", 1);
        ctx.SetOutput(0, ElementType.Float32, x);
    }

    public void Lower(LoweringContext ctx)
    {
        InferenceContext attributes = ctx.Attributes();
        int[] shape = ctx.Input(0).KnownShape;
        ctx.Emit(nameof(Lrn), [],
            ctx.In("x", ctx.Input(0)),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Int("channels", shape[1]),
            PlanArg.Int("spatial", Shapes.Product(shape, 2, shape.Length)),
            PlanArg.Int("size", (int)attributes.RequiredInt("size")),
            PlanArg.Float("alpha", attributes.Float("alpha", 1e-4f)),
            PlanArg.Float("beta", attributes.Float("beta", 0.75f)),
            PlanArg.Float("bias", attributes.Float("bias", 1)));
    }

    public long CountMacs(Node node)
    {
        Value x = node.Inputs[0]!;
        long size = node.Attributes.TryGetValue("size", out Ir.Attribute? a) ? a.Int : 1;
        return x.ElementCount * (size + 1);
    }
}
