using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// ConvTranspose over 1, 2, 3 or more spatial dimensions, with groups, strides, dilations, explicit
/// pads or auto_pad, output_padding, output_shape and an optional bias; weights and bias may be
/// computed at run time. Lowered onto <see cref="ConvTranspose"/> (a GEMM per group, then col2im).
/// </summary>
/// <remarks>
/// When output_shape (or SAME auto_pad) asks for a larger output than the input can reach, the
/// padding is zero and the extra elements at the end hold only the bias, as in ONNX's own
/// test_convtranspose_output_shape and ONNX Runtime.
/// </remarks>
[OnnxOperator("ConvTranspose")]
internal sealed class ConvTransposeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        ctx.RequireType(1, ElementType.Float32);
        int[] x = ctx.InputShape(0), w = ctx.InputShape(1);
        if (x.Length < 3 || w.Length != x.Length)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"ConvTranspose needs X as [N,C,spatial…] and W of the same rank, but their shapes are {Shapes.Format(x)} and {Shapes.Format(w)}.");
        }

        long group = ctx.Int("group", 1);
        if (group < 1 || group > int.MaxValue)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'group' of ConvTranspose must be positive, but it is {group}.");
        }

        if (w[0] != x[1] || x[1] % group != 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"the channels of ConvTranspose do not match: X {Shapes.Format(x)} has {x[1]} channels, W {Shapes.Format(w)} expects {w[0]}, and they must split into {group} group(s).");
        }

        long outChannels = w[1] * group;
        if (outChannels > int.MaxValue)
        {
            throw ctx.Error(DiagnosticCodes.LimitExceeded, $"ConvTranspose would have {outChannels} output channels.");
        }

        if (WindowGeometry.KernelAttribute(ctx, x.Length - 2) is { } attribute && !Shapes.Equal(attribute, w[2..]))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"attribute 'kernel_shape' of ConvTranspose is {Shapes.Format(attribute)}, but W {Shapes.Format(w)} has kernel {Shapes.Format(w[2..])}.");
        }

        if (ctx.OptionalInput(2) is { } bias)
        {
            ctx.RequireType(2, ElementType.Float32);
            if (!Shapes.Equal(bias.KnownShape, [(int)outChannels]))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the bias B of ConvTranspose must have shape [{outChannels}] (one value per output channel), but it has {Shapes.Format(bias.KnownShape)}.", bias.Name);
            }
        }

        Geometry geometry = Geometry.Resolve(ctx, x, w);
        ctx.SetOutput(0, ElementType.Float32, [x[0], (int)outChannels, .. geometry.Output]);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), w = ctx.Input(1), y = ctx.Output(0);
        int[] xs = x.KnownShape, ws = w.KnownShape;
        InferenceContext attributes = ctx.Attributes();
        int group = (int)attributes.Int("group", 1);
        Geometry g = Geometry.Resolve(attributes, xs, ws);
        int outChannels = ws[1] * group;
        int taps = Shapes.Product(ws, 2, ws.Length);
        Value? col = g.IsPointwise(xs[2..], ws[2..])
            ? null
            : ctx.Temporary(ElementType.Float32, [ws[1] * taps, Shapes.Product(xs, 2, xs.Length)], "columns");
        ctx.Emit(nameof(ConvTranspose), [],
            ctx.In("x", x),
            ctx.In("w", w),
            ctx.InOrNone("b", ctx.OptionalInput(2)),
            ctx.Out("y", y),
            col is null ? PlanArg.None("col") : ctx.Out("col", col),
            PlanArg.Int("batch", xs[0]),
            PlanArg.Int("channels", xs[1]),
            PlanArg.Int("outChannels", outChannels),
            PlanArg.Int("group", group),
            PlanArg.IntList("inputShape", xs[2..]),
            PlanArg.IntList("outputShape", g.Output),
            PlanArg.IntList("kernelShape", ws[2..]),
            PlanArg.IntList("strides", g.Strides),
            PlanArg.IntList("dilations", g.Dilations),
            PlanArg.IntList("padsBegin", g.PadsBegin));
    }

    public long CountMacs(Node node)
    {
        Value x = node.Inputs[0]!, w = node.Inputs[1]!;
        int channels = w.KnownShape[0];
        return channels == 0 ? 0 : (long)x.ElementCount * (w.ElementCount / channels);
    }

    /// <summary>The spatial geometry: output size, strides, dilations and the output elements cropped at the start.</summary>
    private sealed record Geometry(int[] Output, int[] Strides, int[] Dilations, int[] PadsBegin)
    {
        public bool IsPointwise(int[] input, int[] kernel)
            => kernel.All(k => k == 1) && Strides.All(s => s == 1) && PadsBegin.All(p => p == 0) && Shapes.Equal(input, Output);

        public static Geometry Resolve(InferenceContext ctx, int[] x, int[] w)
        {
            int rank = x.Length - 2;
            int[] input = x[2..], kernel = w[2..];
            int[] strides = ctx.Ints("strides") is { } s ? WindowGeometry.PositiveList(ctx, "strides", s, rank) : Ones(rank);
            int[] dilations = ctx.Ints("dilations") is { } d ? WindowGeometry.PositiveList(ctx, "dilations", d, rank) : Ones(rank);
            long[] outputPadding = ctx.Ints("output_padding") ?? new long[rank];
            if (outputPadding.Length != rank || outputPadding.Any(p => p < 0 || p > int.MaxValue))
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                    $"attribute 'output_padding' of ConvTranspose must hold {rank} non-negative values, but it is [{string.Join(",", outputPadding)}].");
            }

            string autoPad = ctx.String("auto_pad", "NOTSET");
            if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID"))
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'auto_pad' of ConvTranspose must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, but it is '{autoPad}'.");
            }

            long[]? requested = ctx.Ints("output_shape");
            if (requested is not null)
            {
                // ONNX Runtime also accepts the full [N, M, spatial…] shape; only the spatial part matters.
                requested = requested.Length == rank + 2 ? requested[2..] : requested;
                if (requested.Length != rank || requested.Any(v => v < 1 || v > int.MaxValue))
                {
                    throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                        $"attribute 'output_shape' of ConvTranspose must hold {rank} positive values (one per spatial dimension), but it is [{string.Join(",", ctx.Ints("output_shape")!)}].");
                }
            }

            long[] pads = autoPad == "NOTSET" && requested is null ? ctx.Ints("pads") ?? new long[2 * rank] : new long[2 * rank];
            if (pads.Length != 2 * rank || pads.Any(p => p < 0 || p > int.MaxValue))
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                    $"attribute 'pads' of ConvTranspose must hold {2 * rank} non-negative values (begin and end of each spatial dimension), but it is [{string.Join(",", pads)}].");
            }

            var output = new int[rank];
            var begin = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                // The extent the input's scatter covers before any cropping.
                long full = (long)strides[i] * (input[i] - 1) + outputPadding[i] + (long)(kernel[i] - 1) * dilations[i] + 1;
                long size;
                if (requested is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    size = requested is not null ? requested[i] : (long)input[i] * strides[i];
                    long total = Math.Max(0, full - size);

                    // The odd element of the cropping goes to the end for SAME_UPPER, to the start otherwise.
                    begin[i] = (int)(autoPad == "SAME_UPPER" ? total / 2 : total - total / 2);
                }
                else
                {
                    begin[i] = (int)pads[i];
                    size = full - pads[i] - pads[i + rank];
                }

                if (size < 1 || size > int.MaxValue)
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                        $"ConvTranspose has no valid output along spatial dimension {i}: the input is {input[i]} long, the kernel reaches {full} elements, and the pads crop {pads[i]}+{pads[i + rank]}.");
                }

                output[i] = (int)size;
            }

            return new Geometry(output, strides, dilations, begin);
        }

        private static int[] Ones(int rank) => Enumerable.Repeat(1, rank).ToArray();
    }
}
