using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Conv over 1, 2, 3 or more spatial dimensions, with groups, padding (explicit or auto_pad),
/// strides, dilations and an optional bias; weights and bias may be computed at run time.
/// Lowered onto <see cref="Conv"/> (see <see cref="Algorithm"/>), with the work a fusion pass folded into
/// <see cref="Node.Epilogue"/> (residual, activation) done by the kernel's store.
/// </summary>
[OnnxOperator("Conv")]
internal sealed class ConvOperator : IAcceptsEpilogue
{
    /// <summary>Every Conv is float32, and each of its algorithms applies the epilogue in its store.</summary>
    public bool AcceptsEpilogue(Node node) => true;

    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        ctx.RequireType(1, ElementType.Float32);
        int[] x = ctx.InputShape(0), w = ctx.InputShape(1);
        WindowGeometry window = Window(ctx, x, w);
        if (ctx.OptionalInput(2) is { } bias)
        {
            ctx.RequireType(2, ElementType.Float32);
            if (!Shapes.Equal(bias.KnownShape, [w[0]]))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the bias B of Conv must have shape [{w[0]}] (one value per output channel), but it has {Shapes.Format(bias.KnownShape)}.", bias.Name);
            }
        }

        ctx.SetOutput(0, ElementType.Float32, [x[0], w[0], .. window.Output]);
    }

    /// <summary>
    /// Validates the shapes of X <c>[N, C, spatial…]</c> and W <c>[M, C / group, kernel…]</c> against the
    /// group, kernel_shape, padding and stride attributes, and resolves the window (Conv, ConvInteger, QLinearConv).
    /// </summary>
    internal static WindowGeometry Window(InferenceContext ctx, int[] x, int[] w)
    {
        if (x.Length < 3 || w.Length != x.Length)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{ctx.OpType} needs X as [N,C,spatial…] and W of the same rank, but their shapes are {Shapes.Format(x)} and {Shapes.Format(w)}.");
        }

        long group = ctx.Int("group", 1);
        if (group < 1 || group > int.MaxValue)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'group' of {ctx.OpType} must be positive, but it is {group}.");
        }

        if ((long)w[1] * group != x[1] || w[0] % group != 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"the channels of {ctx.OpType} do not match its {group} group(s): X {Shapes.Format(x)} has {x[1]} channels and W {Shapes.Format(w)} expects {w[1]} per group, with {w[0]} output channels.");
        }

        int[] kernel = w[2..];
        if (WindowGeometry.KernelAttribute(ctx, kernel.Length) is { } attribute && !Shapes.Equal(attribute, kernel))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"attribute 'kernel_shape' of {ctx.OpType} is {Shapes.Format(attribute)}, but W {Shapes.Format(w)} has kernel {Shapes.Format(kernel)}.");
        }

        return WindowGeometry.Resolve(ctx, x[2..], kernel, ceilMode: false);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), w = ctx.Input(1), y = ctx.Output(0);
        int[] xs = x.KnownShape, ws = w.KnownShape;
        InferenceContext attributes = ctx.Attributes();
        int group = (int)attributes.Int("group", 1);
        WindowGeometry window = WindowGeometry.Resolve(attributes, xs[2..], ws[2..], ceilMode: false);
        ConvAlgorithm algorithm = Algorithm(xs[1] / group, window);
        Value? col = algorithm == ConvAlgorithm.Im2Col
            ? ctx.Temporary(ElementType.Float32, [xs[1] / group * window.Taps, Shapes.ElementCount(window.Output)], "im2col")
            : null;
        Epilogue? epilogue = ctx.Node.Epilogue;

        // A fourth input is a per-channel scale of x, folded in by ChannelScaleFoldingPass (pointwise only).
        Value? inputScale = ctx.OptionalInput(3);
        if (inputScale is not null && (algorithm != ConvAlgorithm.Pointwise || Shapes.ElementCount(window.Output) == 1))
        {
            throw new InvalidOperationException($"{ctx.Node}: an input scale on a {algorithm} convolution.");
        }

        bool packed = algorithm != ConvAlgorithm.Direct && w.Constant is not null;
        if (packed)
        {
            w = PackedWeights(ctx, w, group, vector: Shapes.ElementCount(window.Output) == 1);
        }

        ctx.Emit(nameof(Conv), [],
        [
            PlanArg.Enum("algorithm", nameof(ConvAlgorithm), algorithm.ToString()),
            ctx.In("x", x),
            ctx.In("w", w),
            ctx.InOrNone("b", ctx.OptionalInput(2)),
            ctx.InOrNone("residual", epilogue?.Residual),
            ctx.Out("y", y),
            col is null ? PlanArg.None("col") : ctx.Out("col", col),
            PlanArg.Bool("packedW", packed),
            PlanArg.Int("batch", xs[0]),
            PlanArg.Int("channels", xs[1]),
            PlanArg.Int("outChannels", ws[0]),
            PlanArg.Int("group", group),
            .. window.KernelArgs(),
            PlanArg.Enum("activation", nameof(Activation), (epilogue?.Activation ?? Activation.None).ToString()),
            PlanArg.Float("alpha", epilogue?.Alpha ?? 0),
            PlanArg.Float("beta", epilogue?.Beta ?? 0),
            ctx.Context(),
            .. inputScale is null ? Array.Empty<PlanArg>() : [ctx.In("inputScale", inputScale)],
        ]);
    }

    /// <summary>
    /// Constant weights packed at compile time, group by group, into the panels the GEMM's micro-kernels read, so
    /// runs never pack them: the row panels of <see cref="GemmPacking.PackA"/> (as many elements as unpacked), or,
    /// for a single output position (<paramref name="vector"/>: the kernel computes <c>x · Wᵀ</c>), the column panels
    /// of <see cref="GemmPacking.PackB"/> of the transposed weights.
    /// </summary>
    private static Value PackedWeights(LoweringContext ctx, Value w, int group, bool vector)
    {
        ReadOnlySpan<float> source = w.Constant!.Span<float>();
        int mg = w.KnownShape[0] / group, kg = mg == 0 ? 0 : source.Length / (mg * group);
        int packedGroup = vector ? GemmPacking.PackedBLength(kg, mg) : mg * kg;
        var packed = new float[checked(group * packedGroup)];
        for (int g = 0; g < group; g++)
        {
            ReadOnlySpan<float> block = source.Slice(g * mg * kg, mg * kg);
            Span<float> destination = packed.AsSpan(g * packedGroup, packedGroup);
            if (vector)
            {
                GemmPacking.PackB(block, true, kg, mg, destination);
            }
            else
            {
                GemmPacking.PackA(block, false, mg, kg, destination);
            }
        }

        return ctx.Constant(Tensor.FromFloats([packed.Length], packed), "wPacked");
    }

    /// <summary>
    /// Direct for one or two spatial dimensions when each group reads few input values per output
    /// (depthwise, channel multipliers, first layers on images, small CNNs): im2col would copy more than it saves.
    /// GEMM on the input itself for 1×1 convolutions, im2col + GEMM otherwise.
    /// </summary>
    internal static ConvAlgorithm Algorithm(int groupChannels, WindowGeometry window)
        => window.Input.Length <= 2 && (groupChannels == 1 || groupChannels * window.Taps <= DirectMaxDepth) && !window.IsPointwise ? ConvAlgorithm.Direct
            : window.IsPointwise ? ConvAlgorithm.Pointwise
            : ConvAlgorithm.Im2Col;

    // Inputs per output (channels × taps) up to which the direct kernel beats im2col + GEMM: it reads its
    // zero-padded patch from L1 with one load per multiply-add, where im2col first copies taps × input values.
    // Re-measured against the packed-weight GEMM engine (one thread, 3×3 kernels): direct is 2× faster on the
    // digits and LeNet layers (depth 72 and 150), a few percent faster at depth 144 to 288 on 28×28, and slower
    // from 432 (14×14: 88 against 74 µs) to 1152 (7×7: 4×), so the crossover stays near 256.
    private const int DirectMaxDepth = 256;

    public long CountMacs(Node node)
    {
        Value w = node.Inputs[1]!;
        int outChannels = w.KnownShape[0];
        return outChannels == 0 ? 0 : (long)node.Outputs[0].ElementCount * (w.ElementCount / outChannels);
    }
}
