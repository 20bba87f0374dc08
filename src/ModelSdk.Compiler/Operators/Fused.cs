using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// The domain of the operators that fusion passes (<c>Passes/*FusionPass.cs</c>) put in place of
/// exporters' decompositions. They exist only after shape inference, so a model that uses this
/// domain itself is rejected when its nodes are inferred.
/// </summary>
internal static class FusedDomain
{
    /// <summary>The domain name, as plans and reports show it.</summary>
    public const string Name = "modelsdk.fused";

    /// <summary>MSDK2001 for a model node in the fused domain.</summary>
    public static CompileException NotForModels(InferenceContext ctx)
        => ctx.Error(DiagnosticCodes.UnsupportedOperator,
            $"operator '{Name}.{ctx.OpType}' is internal to ModelSdk (fusion passes create it); models cannot use it.");
}

/// <summary>
/// GELU fused from <c>x · 0.5 · (1 + erf(x / √2))</c> or its tanh approximation (attribute
/// <c>approximate</c>: 0 or 1) by <see cref="Passes.GeluFusionPass"/>. Lowered onto <see cref="Gelu"/>.
/// </summary>
[OnnxOperator("Gelu", Domain = FusedDomain.Name)]
internal sealed class FusedGeluOperator : IOperator
{
    public void Infer(InferenceContext ctx) => throw FusedDomain.NotForModels(ctx);

    public void Lower(LoweringContext ctx)
        => ctx.Emit(nameof(Gelu), [],
            ctx.In("x", ctx.Input(0)),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Bool("approximate", ctx.Attributes().Int("approximate", 0) != 0),
            ctx.Context());
}

/// <summary>
/// Scaled dot-product attention fused by <see cref="Passes.AttentionFusionPass"/> from
/// <c>MatMul(Q, Kᵀ) → scale → (+ mask) → Softmax(last axis) → MatMul(·, V)</c>. Inputs: Q
/// <c>[…, Sq, D]</c>, K as <c>[…, Sk, D]</c> (attribute <c>key_transposed</c> = 0) or <c>[…, D, Sk]</c>
/// (1), V <c>[…, Sk, Dv]</c>, and an optional additive mask broadcast to <c>[…, Sq, Sk]</c>; batch
/// dimensions broadcast like MatMul's. Attribute <c>scale</c> multiplies the dot products.
/// Lowered onto <see cref="Attention"/> with a scratch of a block of query rows' scores.
/// </summary>
[OnnxOperator("Attention", Domain = FusedDomain.Name)]
internal sealed class FusedAttentionOperator : IOperator
{
    public void Infer(InferenceContext ctx) => throw FusedDomain.NotForModels(ctx);

    public void Lower(LoweringContext ctx)
    {
        InferenceContext attributes = ctx.Attributes();
        bool keyTransposed = attributes.Int("key_transposed", 0) != 0;
        Value q = ctx.Input(0), k = ctx.Input(1), v = ctx.Input(2), y = ctx.Output(0);
        Value? mask = ctx.OptionalInput(3);
        int[] qs = q.KnownShape, ks = k.KnownShape, vs = v.KnownShape, ys = y.KnownShape;
        int queries = qs[^2], depth = qs[^1], keys = keyTransposed ? ks[^1] : ks[^2], valueDepth = vs[^1];
        int[] batch = ys[..^2];
        int[] maskShape = mask is null ? [1, 1] : [.. Enumerable.Repeat(1, Math.Max(0, 2 - mask.KnownShape.Length)), .. mask.KnownShape];
        BroadcastLayout layout = BroadcastLayout.Create(batch, qs[..^2], ks[..^2], vs[..^2], maskShape[..^2]);
        int maskRows = maskShape[^2], maskCols = maskShape[^1];
        ctx.Emit(nameof(Attention), [],
            ctx.In("q", q),
            ctx.In("k", k),
            ctx.In("v", v),
            ctx.InOrNone("mask", mask),
            ctx.Out("y", y),
            ctx.Out("scores", ctx.Temporary(ElementType.Float32, [Scratch(y.ElementCount / Math.Max(1, queries * valueDepth), queries), Attention.BlockRows * keys + (keyTransposed ? 0 : depth * keys)], "scores")),
            PlanArg.Int("queries", queries),
            PlanArg.Int("keys", keys),
            PlanArg.Int("depth", depth),
            PlanArg.Int("valueDepth", valueDepth),
            PlanArg.Bool("keyTransposed", keyTransposed),
            PlanArg.Float("scale", attributes.Float("scale", 1)),
            PlanArg.IntList("batchShape", layout.Shape),
            PlanArg.IntList("qBatchStrides", Scaled(layout.Strides[0], queries * depth)),
            PlanArg.IntList("kBatchStrides", Scaled(layout.Strides[1], keys * depth)),
            PlanArg.IntList("vBatchStrides", Scaled(layout.Strides[2], keys * valueDepth)),
            PlanArg.IntList("maskBatchStrides", Scaled(layout.Strides[3], maskRows * maskCols)),
            PlanArg.Int("maskRowStride", maskRows == 1 ? 0 : maskCols),
            PlanArg.Int("maskColStride", maskCols == 1 ? 0 : 1),
            ctx.Context());
    }

    /// <summary>Scratch slices: one per part the kernel may run at once, no more than it has (head, block) items.</summary>
    private static int Scratch(long heads, int queries)
        => (int)Math.Max(1, Math.Min(Attention.Slices, heads * ((queries + Attention.BlockRows - 1) / Attention.BlockRows)));

    public long CountMacs(Node node)
    {
        Value y = node.Outputs[0];
        int depth = node.Inputs[0]!.KnownShape[^1];
        int keys = node.Inputs[2]!.KnownShape[^2];
        return (long)y.ElementCount / Math.Max(1, y.KnownShape[^1]) * keys * (depth + y.KnownShape[^1]);
    }

    private static int[] Scaled(int[] strides, int factor) => strides.Select(s => s * factor).ToArray();
}

/// <summary>
/// A chain of float32 elementwise steps fused by <see cref="Passes.ElementwiseChainFusionPass"/>. Inputs: the
/// chain's input <c>x</c> and up to two tensors <c>b</c>, <c>c</c> of its shape that binary steps read; attributes
/// <c>steps</c> (three integers per step) and <c>parameters</c> (two floats per step), as <see cref="ElementwiseChain"/>
/// reads them. Lowered onto that kernel.
/// </summary>
[OnnxOperator("ElementwiseChain", Domain = FusedDomain.Name)]
internal sealed class FusedElementwiseChainOperator : IOperator
{
    public void Infer(InferenceContext ctx) => throw FusedDomain.NotForModels(ctx);

    public void Lower(LoweringContext ctx)
    {
        InferenceContext attributes = ctx.Attributes();
        ctx.Emit(nameof(ElementwiseChain), [],
            ctx.In("x", ctx.Input(0)),
            ctx.InOrNone("b", ctx.OptionalInput(1)),
            ctx.InOrNone("c", ctx.OptionalInput(2)),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.IntList("steps", (attributes.Ints("steps") ?? []).Select(v => (int)v).ToArray()),
            PlanArg.FloatList("parameters", attributes.Floats("parameters") ?? []),
            ctx.Context());
    }
}
