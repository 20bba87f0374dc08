using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators.Common;

/// <summary>
/// The sliding window of Conv and the pooling operators over the spatial dimensions, resolved from
/// the attributes kernel_shape, strides, dilations, pads, auto_pad and ceil_mode: explicit padding
/// on both sides of every dimension, and the output shape.
/// </summary>
internal sealed record WindowGeometry(int[] Input, int[] Output, int[] Kernel, int[] Strides, int[] Dilations, int[] PadsBegin, int[] PadsEnd)
{
    /// <summary>Elements of the kernel.</summary>
    public int Taps => Shapes.Product(Kernel, 0, Kernel.Length);

    /// <summary>Whether each output element reads exactly the input element at its own position.</summary>
    public bool IsPointwise
        => Kernel.All(k => k == 1) && Strides.All(s => s == 1) && PadsBegin.All(p => p == 0) && PadsEnd.All(p => p == 0);

    /// <summary>The window as the arguments of a sliding-window kernel (Conv, ConvInteger): shapes, strides, dilations, leading padding.</summary>
    public PlanArg[] KernelArgs() =>
    [
        PlanArg.IntList("inputShape", Input),
        PlanArg.IntList("outputShape", Output),
        PlanArg.IntList("kernelShape", Kernel),
        PlanArg.IntList("strides", Strides),
        PlanArg.IntList("dilations", Dilations),
        PlanArg.IntList("padsBegin", PadsBegin),
    ];

    /// <summary>The kernel_shape attribute, validated against <paramref name="rank"/> spatial dimensions; null when absent.</summary>
    public static int[]? KernelAttribute(InferenceContext ctx, int rank)
        => ctx.Ints("kernel_shape") is { } values ? PositiveList(ctx, "kernel_shape", values, rank) : null;

    /// <summary>Resolves the window of a <paramref name="kernel"/> over the spatial shape <paramref name="input"/>.</summary>
    /// <param name="ctx">The node, for its attributes and errors.</param>
    /// <param name="input">Spatial input shape.</param>
    /// <param name="kernel">Kernel shape (validated).</param>
    /// <param name="ceilMode">Whether output sizes round up (pooling's ceil_mode).</param>
    public static WindowGeometry Resolve(InferenceContext ctx, int[] input, int[] kernel, bool ceilMode)
    {
        int rank = input.Length;
        int[] strides = ctx.Ints("strides") is { } s ? PositiveList(ctx, "strides", s, rank) : Ones(rank);
        int[] dilations = ctx.Ints("dilations") is { } d ? PositiveList(ctx, "dilations", d, rank) : Ones(rank);
        string autoPad = ctx.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID"))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'auto_pad' of {ctx.OpType} must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, but it is '{autoPad}'.");
        }

        // Explicit pads apply only with NOTSET; otherwise auto_pad decides them, as in ONNX Runtime.
        long[] pads = autoPad == "NOTSET" ? ctx.Ints("pads") ?? new long[2 * rank] : new long[2 * rank];
        if (pads.Length != 2 * rank || pads.Any(p => p < 0 || p > int.MaxValue))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"attribute 'pads' of {ctx.OpType} must hold {2 * rank} non-negative values (begin and end of each spatial dimension), but it is [{string.Join(",", pads)}].");
        }

        var output = new int[rank];
        var begin = new int[rank];
        var end = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            long span = (long)(kernel[i] - 1) * dilations[i] + 1;
            long size;
            if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                size = (input[i] + (long)strides[i] - 1) / strides[i];
                long total = Math.Max(0, (size - 1) * strides[i] + span - input[i]);
                long before = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                (begin[i], end[i]) = ((int)before, (int)(total - before));
            }
            else
            {
                (begin[i], end[i]) = ((int)pads[i], (int)pads[i + rank]);
                long room = input[i] + (long)begin[i] + end[i] - span;
                size = room < 0 ? 0 : (ceilMode ? (room + strides[i] - 1) / strides[i] : room / strides[i]) + 1;

                // Rounding up must not add a window that starts in the end padding.
                if (ceilMode && size > 0 && (size - 1) * strides[i] >= input[i] + (long)begin[i])
                {
                    size--;
                }
            }

            if (size < 1 || size > int.MaxValue)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"{ctx.OpType} has no valid output along spatial dimension {i}: the input is {input[i]} long with pads {begin[i]}+{end[i]}, and the window spans {span}.");
            }

            output[i] = (int)size;
        }

        return new WindowGeometry(input, output, kernel, strides, dilations, begin, end);
    }

    /// <summary>A list attribute of <paramref name="rank"/> positive values; MSDK2002 otherwise.</summary>
    internal static int[] PositiveList(InferenceContext ctx, string name, long[] values, int rank)
    {
        if (values.Length != rank || values.Any(v => v < 1 || v > int.MaxValue))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"attribute '{name}' of {ctx.OpType} must hold {rank} positive values (one per spatial dimension), but it is [{string.Join(",", values)}].");
        }

        return values.Select(v => (int)v).ToArray();
    }

    private static int[] Ones(int rank) => Enumerable.Repeat(1, rank).ToArray();
}
