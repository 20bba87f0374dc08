using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// MaxUnpool (opset 9): a zero tensor with each input element written at its int64 index, a position in
/// the whole flattened output as MaxPool's Indices output gives it. The output shape comes from the
/// optional output_shape input, which must be constant, or else from kernel_shape, strides and pads:
/// <c>(in - 1) · stride + kernel - pad_begin - pad_end</c>. The indices may be computed at run time.
/// Lowered onto <see cref="Fill"/>, <see cref="ElementOffsets"/> (the indices as checked offsets) and
/// <see cref="ScatterBlocks"/>; a later duplicate index wins. Constant indices must lie in the output; a
/// run-time index beyond it throws, but a negative one counts from the end (ElementOffsets' rule), where
/// ONNX Runtime rejects it.
/// </summary>
[OnnxOperator("MaxUnpool", MinOpset = 9)]
internal sealed class MaxUnpoolOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementTypeSets.Floats);
        ctx.RequireType(1, ElementType.Int64);
        int[] x = ctx.InputShape(0);
        if (x.Length < 3 || !Shapes.Equal(ctx.InputShape(1), x))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"MaxUnpool needs an input [N, C, d1, …] and indices of the same shape, but they are {Shapes.Format(x)} and {Shapes.Format(ctx.InputShape(1))}.");
        }

        int[] output = OutputShape(ctx, x);
        ctx.SetOutput(0, ctx.InputType(0), output);
        StridedLayout.SetEmptyConstant(ctx, 0);
        int count = Shapes.ElementCount(output);
        foreach (long index in ctx.Input(1).Constant?.ToInt64s() ?? [])
        {
            if (index < 0 || index >= count)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"MaxUnpool index {index} is outside [0, {count - 1}], the positions of its output.", ctx.Input(1).Name);
            }
        }
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), indices = ctx.Input(1), y = ctx.Output(0);
        ctx.Emit(nameof(Fill), [y.Type], ctx.In("value", ctx.Constant(ScalarTensors.Of(y.Type, 0), "zero")), ctx.Out("y", y));
        if (x.ElementCount == 0)
        {
            return;
        }

        // Each index is a whole-tensor position: one axis spanning the output, nothing else to add.
        Value offsets = ctx.Temporary(ElementType.Int32, [x.ElementCount], "offsets");
        ctx.Emit(nameof(ElementOffsets), [indices.Type],
            ctx.In("indices", indices),
            ctx.Out("offsets", offsets),
            PlanArg.IntList("shape", [x.ElementCount]),
            PlanArg.IntList("dataStrides", [0]),
            PlanArg.Int("axisLength", y.ElementCount),
            PlanArg.Int("axisStride", 1));
        ctx.Emit(nameof(ScatterBlocks), [y.Type], ctx.In("offsets", offsets), ctx.In("updates", x), ctx.Out("y", y), PlanArg.Int("block", 1));
    }

    private static int[] OutputShape(InferenceContext ctx, int[] x)
    {
        int rank = x.Length - 2;
        int[] kernel = WindowGeometry.KernelAttribute(ctx, rank) ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute, "MaxUnpool requires attribute 'kernel_shape'.");
        int[] strides = ctx.Ints("strides") is { } s ? WindowGeometry.PositiveList(ctx, "strides", s, rank) : Enumerable.Repeat(1, rank).ToArray();
        long[] pads = ctx.Ints("pads") ?? new long[2 * rank];
        if (pads.Length != 2 * rank || pads.Any(p => p < 0 || p > int.MaxValue))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"attribute 'pads' of MaxUnpool must hold {2 * rank} non-negative values (begin and end of each spatial dimension), but it is [{string.Join(",", pads)}].");
        }

        if (Axes.ConstantInts(ctx, 2, "output_shape") is { } given)
        {
            if (given.Length != x.Length || given[0] != x[0] || given[1] != x[1] || given.Any(d => d < 1 || d > Shapes.MaxElements))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"output_shape [{string.Join(",", given)}] of MaxUnpool must keep the input's N and C, {x[0]} and {x[1]}, and give {rank} positive spatial dimensions.");
            }

            return given.Select(d => (int)d).ToArray();
        }

        var shape = new int[x.Length];
        (shape[0], shape[1]) = (x[0], x[1]);
        for (int i = 0; i < rank; i++)
        {
            long size = (x[i + 2] - 1L) * strides[i] + kernel[i] - pads[i] - pads[i + rank];
            if (size < 1 || size > Shapes.MaxElements)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"MaxUnpool has no valid output along spatial dimension {i}: an input of {x[i + 2]} with stride {strides[i]}, kernel {kernel[i]} and pads {pads[i]}+{pads[i + rank]} gives {size}.");
            }

            shape[i + 2] = (int)size;
        }

        return shape;
    }
}
