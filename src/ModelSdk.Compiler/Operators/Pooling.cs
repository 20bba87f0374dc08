using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// MaxPool and AveragePool over N spatial dimensions: kernel_shape, strides, pads or auto_pad,
/// ceil_mode, dilations, count_include_pad, and MaxPool's optional Indices output (int64, flat
/// indices into X, row- or column-major per storage_order). Lowered onto <see cref="Pool"/>.
/// </summary>
[OnnxOperator("MaxPool")]
[OnnxOperator("AveragePool")]
internal sealed class PoolOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        WindowGeometry window = Window(ctx);
        int[] x = ctx.InputShape(0);
        int[] shape = [x[0], x[1], .. window.Output];
        ctx.SetOutput(0, ElementType.Float32, shape);
        if (ctx.OpType == "MaxPool")
        {
            long order = ctx.Int("storage_order", 0);
            if (order is not (0 or 1))
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'storage_order' of MaxPool must be 0 (row major) or 1 (column major), but it is {order}.");
            }

            if (WantsIndices(ctx.Node))
            {
                ctx.SetOutput(1, ElementType.Int64, shape);
            }
        }
        else
        {
            ctx.Int("count_include_pad", 0);
        }
    }

    public void Lower(LoweringContext ctx)
    {
        InferenceContext attributes = ctx.Attributes();
        bool max = ctx.Node.OpType == "MaxPool";
        Emit(ctx, max ? PoolKind.Max : PoolKind.Average, Window(attributes),
            indices: max && WantsIndices(ctx.Node) ? ctx.Output(1) : null,
            countIncludePad: !max && attributes.Int("count_include_pad", 0) != 0,
            columnMajorIndices: max && attributes.Int("storage_order", 0) == 1);
    }

    public long CountMacs(Node node)
    {
        // One compare or add per window element.
        long taps = node.Attributes.TryGetValue("kernel_shape", out Ir.Attribute? k) ? k.Ints.Aggregate(1L, (p, d) => p * d) : 1;
        return node.Outputs[0].ElementCount * taps;
    }

    /// <summary>Emits one <see cref="Pool"/> step over <c>[N, C, spatial…]</c>.</summary>
    public static void Emit(LoweringContext ctx, PoolKind kind, WindowGeometry window, Value? indices = null, bool countIncludePad = false, bool columnMajorIndices = false)
    {
        int[] x = ctx.Input(0).KnownShape;
        ctx.Emit(nameof(Pool), [],
            PlanArg.Enum("kind", nameof(PoolKind), kind.ToString()),
            ctx.In("x", ctx.Input(0)),
            ctx.Out("y", ctx.Output(0)),
            indices is null ? PlanArg.None("indices") : ctx.Out("indices", indices),
            PlanArg.Int("planes", x[0] * x[1]),
            PlanArg.IntList("inputShape", window.Input),
            PlanArg.IntList("outputShape", window.Output),
            PlanArg.IntList("kernelShape", window.Kernel),
            PlanArg.IntList("strides", window.Strides),
            PlanArg.IntList("dilations", window.Dilations),
            PlanArg.IntList("padsBegin", window.PadsBegin),
            PlanArg.IntList("padsEnd", window.PadsEnd),
            PlanArg.Bool("countIncludePad", countIncludePad),
            PlanArg.Bool("columnMajorIndices", columnMajorIndices));
    }

    /// <summary>Checks X and resolves the window of a pooling node.</summary>
    private static WindowGeometry Window(InferenceContext ctx)
    {
        int[] x = RequireImage(ctx);
        int[] kernel = WindowGeometry.KernelAttribute(ctx, x.Length - 2)
            ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"{ctx.OpType} requires attribute 'kernel_shape'.");
        return WindowGeometry.Resolve(ctx, x[2..], kernel, ceilMode: ctx.Int("ceil_mode", 0) != 0);
    }

    /// <summary>The shape of X, which must be float32 <c>[N, C, spatial…]</c>.</summary>
    public static int[] RequireImage(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        int[] x = ctx.InputShape(0);
        if (x.Length < 3)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} needs X as [N,C,spatial…] with at least one spatial dimension, but its shape is {Shapes.Format(x)}.");
        }

        return x;
    }

    private static bool WantsIndices(Node node) => node.Outputs.Count > 1 && node.Outputs[1].Name.Length > 0;
}

/// <summary>GlobalAveragePool and GlobalMaxPool: one value per channel, <c>[N, C, 1, …]</c>. Lowered onto <see cref="Pool"/>.</summary>
[OnnxOperator("GlobalAveragePool")]
[OnnxOperator("GlobalMaxPool")]
internal sealed class GlobalPoolOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] x = PoolOperator.RequireImage(ctx);
        if (x[2..].Contains(0))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} cannot reduce an empty spatial extent: X has shape {Shapes.Format(x)}.");
        }

        ctx.SetOutput(0, ElementType.Float32, [x[0], x[1], .. Enumerable.Repeat(1, x.Length - 2)]);
    }

    public void Lower(LoweringContext ctx)
    {
        int[] spatial = ctx.Input(0).KnownShape[2..];
        int[] ones = Enumerable.Repeat(1, spatial.Length).ToArray(), zeros = new int[spatial.Length];
        var window = new WindowGeometry(spatial, ones, spatial, ones, ones, zeros, zeros);
        PoolOperator.Emit(ctx, ctx.Node.OpType == "GlobalMaxPool" ? PoolKind.Max : PoolKind.Average, window);
    }

    public long CountMacs(Node node) => node.Inputs[0]!.ElementCount;
}
