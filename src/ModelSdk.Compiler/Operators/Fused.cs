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
/// Attributes <c>q_perm</c>, <c>k_perm</c>, <c>v_perm</c> (each absent for the identity) say that the
/// operand is a Transpose of that input with this permutation, read in place; <c>y_perm</c> that the output
/// is the result transposed by it, written in place. None of them moves the last axis.
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
        var (qv, kv, vv) = (View.Read(q, attributes.Ints("q_perm")), View.Read(k, attributes.Ints("k_perm")), View.Read(v, attributes.Ints("v_perm")));
        View yv = View.Written(y, attributes.Ints("y_perm"));
        int queries = qv.Shape[^2], depth = qv.Shape[^1], keys = keyTransposed ? kv.Shape[^1] : kv.Shape[^2], valueDepth = vv.Shape[^1];
        int[] batch = yv.Shape[..^2];
        int[] maskShape = mask is null ? [1, 1] : [.. Enumerable.Repeat(1, Math.Max(0, 2 - mask.KnownShape.Length)), .. mask.KnownShape];
        int[] maskStrides = Shapes.Strides(maskShape);
        BroadcastLayout layout = BroadcastLayout.Create(batch,
            [qv.Shape[..^2], kv.Shape[..^2], vv.Shape[..^2], maskShape[..^2], batch],
            [qv.Strides[..^2], kv.Strides[..^2], vv.Strides[..^2], maskStrides[..^2], yv.Strides[..^2]]);
        int maskRows = maskShape[^2], maskCols = maskShape[^1];
        ctx.Emit(nameof(Attention), [],
            ctx.In("q", q),
            ctx.In("k", k),
            ctx.In("v", v),
            ctx.InOrNone("mask", mask),
            ctx.Out("y", y),
            ctx.Out("scores", ctx.Temporary(ElementType.Float32, [Scratch(y.ElementCount / Math.Max(1, queries * valueDepth), queries), (int)Attention.SliceLength(keys, depth, valueDepth, keyTransposed, kv.Strides[^2], vv.Strides[^2])], "scores")),
            PlanArg.Int("queries", queries),
            PlanArg.Int("keys", keys),
            PlanArg.Int("depth", depth),
            PlanArg.Int("valueDepth", valueDepth),
            PlanArg.Bool("keyTransposed", keyTransposed),
            PlanArg.Float("scale", attributes.Float("scale", 1)),
            PlanArg.IntList("batchShape", layout.Shape),
            PlanArg.IntList("qBatchStrides", layout.Strides[0]),
            PlanArg.IntList("kBatchStrides", layout.Strides[1]),
            PlanArg.IntList("vBatchStrides", layout.Strides[2]),
            PlanArg.IntList("maskBatchStrides", layout.Strides[3]),
            PlanArg.Int("maskRowStride", maskRows == 1 ? 0 : maskCols),
            PlanArg.Int("maskColStride", maskCols == 1 ? 0 : 1),
            PlanArg.IntList("yBatchStrides", layout.Strides[4]),
            PlanArg.Int("qRowStride", qv.Strides[^2]),
            PlanArg.Int("kRowStride", kv.Strides[^2]),
            PlanArg.Int("vRowStride", vv.Strides[^2]),
            PlanArg.Int("yRowStride", yv.Strides[^2]),
            ctx.Context());
    }

    /// <summary>Scratch slices: one per part the kernel may run at once, no more than it has (head, block) items.</summary>
    private static int Scratch(long heads, int queries)
        => (int)Math.Max(1, Math.Min(Attention.Slices, heads * ((queries + Attention.BlockRows - 1) / Attention.BlockRows)));

    public long CountMacs(Node node)
    {
        Value y = node.Outputs[0];
        int depth = node.Inputs[0]!.KnownShape[^1];
        int keys = View.Read(node.Inputs[2]!, node.Attributes.TryGetValue("v_perm", out Ir.Attribute? p) ? p.Ints : null).Shape[^2];
        return (long)y.ElementCount / Math.Max(1, y.KnownShape[^1]) * keys * (depth + y.KnownShape[^1]);
    }

    /// <summary>
    /// An operand as the kernel sees it: the shape and the element strides of a tensor's axes in the order of a
    /// permutation (for an input, the Transpose the fusion absorbed; for the output, the inverse of the one it
    /// wrote through). The last axis is never moved: rows are contiguous.
    /// </summary>
    private readonly record struct View(int[] Shape, int[] Strides)
    {
        public static View Read(Value value, long[]? perm)
        {
            int[] shape = value.KnownShape, dense = Shapes.Strides(shape);
            return perm is null ? new View(shape, dense) : Checked(new View([.. perm.Select(a => shape[a])], [.. perm.Select(a => dense[a])]));
        }

        public static View Written(Value value, long[]? perm)
        {
            int[] shape = value.KnownShape, dense = Shapes.Strides(shape);
            if (perm is null)
            {
                return new View(shape, dense);
            }

            // The output is the result transposed by perm: axis perm[i] of the result is axis i of the output.
            var (resultShape, resultStrides) = (new int[shape.Length], new int[shape.Length]);
            for (int i = 0; i < perm.Length; i++)
            {
                (resultShape[perm[i]], resultStrides[perm[i]]) = (shape[i], dense[i]);
            }

            return Checked(new View(resultShape, resultStrides));
        }

        private static View Checked(View view) => view.Strides[^1] == 1 ? view
            : throw new InvalidOperationException("A fused attention operand's permutation moves its last axis.");
    }
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
