using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Resize (opsets 10–19) and Upsample (7–9). Scales or sizes (and the roi of tf_crop_and_resize) must be
/// compile-time constants, since they fix the output shape; the coordinate transformation, rounding and
/// interpolation weights are then resolved here, once, into per-axis tables for
/// <see cref="ResizeNearest"/> (any element type) or, one resized axis at a time, <see cref="ResizeAxis"/> (linear and cubic, float32).
/// Arithmetic follows ONNX Runtime's float32 formulas, so nearest rounding agrees at the half-way points.
/// </summary>
[OnnxOperator("Resize", MinOpset = 10)]
[OnnxOperator("Upsample", MinOpset = 7)]
internal sealed class ResizeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ResizePlan plan = ResizePlan.Resolve(ctx);
        ctx.SetOutput(0, ctx.InputType(0), plan.Output);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        ResizePlan plan = ResizePlan.Resolve(ctx.Reread());
        if (plan.Scales.All(s => s == 1))
        {
            ctx.Alias(y, x);
            return;
        }

        int[] strides = Shapes.Strides(plan.Input);
        if (plan.Mode == ResizeMode.Nearest)
        {
            int[] offsets = Enumerable.Range(0, plan.Input.Length).SelectMany(d => plan.NearestTable(d, strides[d])).ToArray();
            Value? extrapolation = plan.Extrapolates ? ctx.Constant(ScalarTensors.Of(x.Type, plan.ExtrapolationValue), "extrapolation") : null;
            ctx.Emit(nameof(ResizeNearest), [x.Type],
                ctx.In("x", x),
                ctx.In("offsets", ctx.Constant(Tensor.From<int>(ElementType.Int32, [offsets.Length], offsets), "offsets")),
                ctx.InOrNone("extrapolation", extrapolation),
                ctx.Out("y", y),
                PlanArg.IntList("outputShape", plan.Output));
            return;
        }

        // One pass per resized axis, those that shrink most first so the intermediates stay small.
        int[] axes = Enumerable.Range(0, plan.Input.Length).Where(d => plan.Scales[d] != 1)
            .OrderBy(d => (double)plan.Output[d] / plan.Input[d]).ThenBy(d => d).ToArray();
        int[] shape = (int[])plan.Input.Clone();
        Value source = x;
        foreach (int d in axes)
        {
            (int taps, int[] indices, float[] weights) = plan.InterpolationTable(d, 1);
            int outer = Shapes.Product(shape, 0, d), inner = Shapes.Product(shape, d + 1, shape.Length);
            shape[d] = plan.Output[d];
            Value target = d == axes[^1] ? y : ctx.Temporary(ElementType.Float32, (int[])shape.Clone(), $"axis{d}");
            ctx.Emit(nameof(ResizeAxis), [],
                ctx.In("x", source),
                ctx.In("indices", ctx.Constant(Tensor.From<int>(ElementType.Int32, [indices.Length], indices), "indices")),
                ctx.In("weights", ctx.Constant(Tensor.FromFloats([weights.Length], weights), "weights")),
                ctx.Out("y", target),
                PlanArg.Int("outer", outer),
                PlanArg.Int("inner", inner),
                PlanArg.Int("taps", taps),
                PlanArg.Float("extrapolation", plan.ExtrapolationValue));
            source = target;
        }
    }
}

internal enum ResizeMode
{
    Nearest,
    Linear,
    Cubic,
}

/// <summary>
/// A resize resolved at compile time: shapes, per-axis scales and region of interest, and how output
/// coordinates map to input coordinates.
/// </summary>
internal sealed record ResizePlan(
    int[] Input, int[] Output, float[] Scales, float[] Roi, ResizeMode Mode, string Transformation, string NearestMode,
    float CubicA, bool ExcludeOutside, float ExtrapolationValue)
{
    /// <summary>Whether positions outside the region read the extrapolation value (tf_crop_and_resize).</summary>
    public bool Extrapolates => Transformation == "tf_crop_and_resize";

    public static ResizePlan Resolve(InferenceContext ctx)
    {
        bool upsample = ctx.OpType == "Upsample";
        if (upsample && ctx.Opset >= 10)
        {
            throw ctx.Error(DiagnosticCodes.UnsupportedOperator, "Upsample is deprecated from opset 10; use Resize.");
        }

        int[] input = ctx.InputShape(0);
        int rank = input.Length;
        if (rank == 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} needs an input of rank 1 or more.");
        }

        string modeName = ctx.String("mode", "nearest");
        ResizeMode mode = modeName switch
        {
            "nearest" => ResizeMode.Nearest,
            "linear" or "bilinear" when upsample => ResizeMode.Linear,
            "linear" => ResizeMode.Linear,
            "cubic" when !upsample && ctx.Opset >= 11 => ResizeMode.Cubic,
            _ => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"mode '{modeName}' of {ctx.OpType} must be nearest, linear{(upsample || ctx.Opset < 11 ? "" : " or cubic")}."),
        };

        if (mode != ResizeMode.Nearest && ctx.InputType(0) != ElementType.Float32)
        {
            throw ctx.Error(DiagnosticCodes.UnsupportedType, $"{ctx.OpType} in {modeName} mode supports float32 only, not {ctx.InputType(0).ToPlanName()}.", ctx.Input(0).Name);
        }

        // Before opset 11 the only transformation was asymmetric, with ONNX Runtime's original rounding.
        bool modern = !upsample && ctx.Opset >= 11;
        string transformation = modern ? ctx.String("coordinate_transformation_mode", "half_pixel") : "asymmetric";
        string[] transformations = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize",
            .. ctx.Opset < 13 ? ["tf_half_pixel_for_nn"] : Array.Empty<string>(), .. ctx.Opset >= 19 ? ["half_pixel_symmetric"] : Array.Empty<string>()];
        if (Array.IndexOf(transformations, transformation) < 0)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"coordinate_transformation_mode '{transformation}' of Resize at opset {ctx.Opset} must be one of {string.Join(", ", transformations)}.");
        }

        string nearest = modern ? ctx.String("nearest_mode", "round_prefer_floor") : "simple";
        if (modern && nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil"))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"nearest_mode '{nearest}' of Resize must be round_prefer_floor, round_prefer_ceil, floor or ceil.");
        }

        bool excludeOutside = modern && ctx.Int("exclude_outside", 0) != 0;
        if (ctx.Opset >= 18 && !upsample && ctx.Int("antialias", 0) != 0)
        {
            throw ctx.Unsupported("Resize with antialias is not supported.");
        }

        int[] axes = ctx.Opset >= 18 && !upsample && ctx.Ints("axes") is { } listed
            ? Axes.NormalizeAll(ctx, listed, rank, "axes")
            : Enumerable.Range(0, rank).ToArray();
        (float[] scales, int[] output) = upsample || ctx.Opset < 11 ? LegacyScales(ctx, input, upsample) : ScalesOrSizes(ctx, input, axes);
        float[] roi = transformation == "tf_crop_and_resize" ? RoiInput(ctx, rank, axes) : new float[2 * rank];

        return new ResizePlan(input, output, scales, roi, mode, transformation, nearest,
            ctx.Float("cubic_coeff_a", -0.75f), excludeOutside, ctx.Float("extrapolation_value", 0));
    }

    /// <summary>Upsample and Resize-10: scales only (an attribute for Upsample before opset 9), at least 1 for Upsample.</summary>
    private static (float[] Scales, int[] Output) LegacyScales(InferenceContext ctx, int[] input, bool upsample)
    {
        float[] scales = upsample && ctx.Opset < 9
            ? ctx.Floats("scales") ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute, "Upsample requires attribute 'scales'.")
            : FloatsInput(ctx, 1, "scales") ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} requires the scales input.");
        if (scales.Length != input.Length || scales.Any(s => !(upsample ? s >= 1 : s > 0) || float.IsInfinity(s)))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"scales [{string.Join(",", scales)}] of {ctx.OpType} must hold one {(upsample ? "value of at least 1" : "positive value")} for each of the {input.Length} axes.");
        }

        return (scales, ScaledShape(ctx, input, scales));
    }

    /// <summary>Resize-11 and later: scales or sizes (exactly one given), over <paramref name="axes"/> (opset 18), with keep_aspect_ratio_policy.</summary>
    private static (float[] Scales, int[] Output) ScalesOrSizes(InferenceContext ctx, int[] input, int[] axes)
    {
        int rank = input.Length;
        float[]? given = FloatsInput(ctx, 2, "scales");
        long[]? sizes = Axes.ConstantInts(ctx, 3, "sizes");
        given = given is { Length: > 0 } ? given : null;
        sizes = sizes is { Length: > 0 } ? sizes : null;
        if ((given is null) == (sizes is null))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Resize needs exactly one of scales and sizes.");
        }

        var scales = Enumerable.Repeat(1f, rank).ToArray();
        if (given is not null)
        {
            if (given.Length != axes.Length || given.Any(s => !(s > 0) || float.IsInfinity(s)))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"scales [{string.Join(",", given)}] of Resize must hold one positive value for each of the {axes.Length} resized axes.");
            }

            for (int i = 0; i < axes.Length; i++)
            {
                scales[axes[i]] = given[i];
            }

            return (scales, ScaledShape(ctx, input, scales));
        }

        if (sizes!.Length != axes.Length || sizes.Any(s => s < 0 || s > Shapes.MaxElements))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"sizes [{string.Join(",", sizes)}] of Resize must hold one length for each of the {axes.Length} resized axes.");
        }

        int[] output = (int[])input.Clone();
        for (int i = 0; i < axes.Length; i++)
        {
            int d = axes[i];
            output[d] = (int)sizes[i];
            if (input[d] == 0 && output[d] != 0)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Resize cannot give axis {d} of {Shapes.Format(input)}, which is empty, the size {output[d]}.");
            }

            scales[d] = input[d] == 0 ? 1 : (float)output[d] / input[d];
        }

        string policy = ctx.Opset >= 18 ? ctx.String("keep_aspect_ratio_policy", "stretch") : "stretch";
        if (policy is "not_larger" or "not_smaller")
        {
            float common = policy == "not_larger" ? axes.Min(d => scales[d]) : axes.Max(d => scales[d]);
            foreach (int d in axes)
            {
                scales[d] = common;
                output[d] = (int)Math.Min(MathF.Round(common * input[d], MidpointRounding.AwayFromZero), Shapes.MaxElements);
            }
        }
        else if (policy != "stretch")
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"keep_aspect_ratio_policy '{policy}' of Resize must be stretch, not_larger or not_smaller.");
        }

        return (scales, output);
    }

    private static int[] ScaledShape(InferenceContext ctx, int[] input, float[] scales)
    {
        var output = new int[input.Length];
        for (int d = 0; d < input.Length; d++)
        {
            // Truncated in float32, as ONNX Runtime computes it.
            float length = scales[d] * input[d];
            if (!(length < Shapes.MaxElements))
            {
                throw ctx.Error(DiagnosticCodes.LimitExceeded, $"{ctx.OpType} by {scales[d]} makes axis {d} of {Shapes.Format(input)} too long.");
            }

            output[d] = (int)length;
        }

        return output;
    }

    private static float[] RoiInput(InferenceContext ctx, int rank, int[] axes)
    {
        float[] given = FloatsInput(ctx, 1, "roi") ?? [];
        if (given.Length != 2 * axes.Length)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"tf_crop_and_resize needs a roi of {2 * axes.Length} values (starts, then ends, of the resized axes), but it has {given.Length}.");
        }

        var roi = new float[2 * rank];
        Array.Fill(roi, 1f, rank, rank);
        for (int i = 0; i < axes.Length; i++)
        {
            roi[axes[i]] = given[i];
            roi[rank + axes[i]] = given[axes.Length + i];
        }

        return roi;
    }

    private static float[]? FloatsInput(InferenceContext ctx, int index, string role)
    {
        Value? v = ctx.OptionalInput(index);
        if (v is null)
        {
            return null;
        }

        ctx.RequireType(index, ElementType.Float32, ElementType.Float16, ElementType.Float64);
        return !v.IsConstant && v.ElementCount == 0 ? [] : ctx.ConstantInput(index, role).ToFloats();
    }

    /// <summary>The input coordinate (in float32, unclamped) that output position <paramref name="o"/> of axis <paramref name="d"/> maps to.</summary>
    private float Original(int d, int o)
    {
        float scale = Scales[d];
        if (scale == 1)
        {
            // ONNX Runtime maps an axis that is not resized one-to-one, whatever the transformation.
            return o;
        }

        float x = o, outLength = Output[d], inLength = Input[d];
        float start = Roi[d], end = Roi[Input.Length + d];
        return Transformation switch
        {
            "asymmetric" => x / scale,
            "pytorch_half_pixel" => outLength > 1 ? ((x + 0.5f) / scale) - 0.5f : 0,
            "tf_half_pixel_for_nn" => (x + 0.5f) / scale,
            "align_corners" => outLength == 1 ? 0 : x * (inLength - 1) / (outLength - 1),
            "tf_crop_and_resize" => outLength > 1
                ? (start * (inLength - 1)) + (x * (end - start) * (inLength - 1) / (outLength - 1))
                : (float)(0.5 * (start + end) * (inLength - 1)),
            "half_pixel_symmetric" => HalfPixelSymmetric(x, scale, outLength, inLength),
            _ => ((x + 0.5f) / scale) - 0.5f,
        };
    }

    private static float HalfPixelSymmetric(float x, float scale, float outLength, float inLength)
    {
        float adjustment = outLength / (scale * inLength);
        float center = inLength / 2;
        float offset = center * (1 - adjustment);
        return (float)(offset + ((x + 0.5) / scale) - 0.5);
    }

    private bool OutsideRoi(int d, float x) => Extrapolates && Scales[d] != 1 && (x < 0 || x > Input[d] - 1);

    /// <summary>For each output position of axis <paramref name="d"/>: the input offset it reads (index × <paramref name="stride"/>), or -1 outside the roi.</summary>
    public int[] NearestTable(int d, int stride)
    {
        var table = new int[Output[d]];
        for (int o = 0; o < table.Length; o++)
        {
            float x = Original(d, o);
            if (OutsideRoi(d, x))
            {
                table[o] = -1;
                continue;
            }

            long i = NearestMode switch
            {
                "simple" => Scales[d] < 1 ? (long)MathF.Ceiling(x) : (long)x,
                "round_prefer_ceil" => (long)MathF.Round(x, MidpointRounding.AwayFromZero),
                "floor" => (long)MathF.Floor(x),
                "ceil" => (long)MathF.Ceiling(x),
                _ => x == (long)x + 0.5f ? (long)MathF.Floor(x) : (long)MathF.Round(x, MidpointRounding.AwayFromZero),
            };
            table[o] = (int)Math.Clamp(i, 0, Input[d] - 1) * stride;
        }

        return table;
    }

    /// <summary>
    /// For each output position of axis <paramref name="d"/>, its taps (input offset, weight), with taps of zero
    /// weight dropped where every position allows it. Linear and cubic weights sum to 1, so a pass along
    /// another axis keeps an extrapolated value as it is.
    /// </summary>
    public (int Taps, int[] Offsets, float[] Weights) InterpolationTable(int d, int stride)
    {
        int length = Output[d], n = Input[d];
        var all = new List<(int Index, float Weight)>[length];
        for (int o = 0; o < length; o++)
        {
            float x = Original(d, o);
            all[o] = OutsideRoi(d, x) ? [(-1, 0)] : (Mode == ResizeMode.Linear ? LinearTaps(x, n) : CubicTaps(x, n)).Where(t => t.Weight != 0).ToList();
            if (all[o].Count == 0)
            {
                all[o].Add((0, 0));
            }
        }

        int taps = all.Length == 0 ? 1 : all.Max(t => t.Count);
        var offsets = new int[length * taps];
        var weights = new float[length * taps];
        for (int o = 0; o < length; o++)
        {
            for (int t = 0; t < taps; t++)
            {
                (int index, float weight) = t < all[o].Count ? all[o][t] : (all[o][0].Index, 0f);
                offsets[(o * taps) + t] = index < 0 ? -1 : index * stride;
                weights[(o * taps) + t] = weight;
            }
        }

        return (taps, offsets, weights);
    }

    // ONNX Runtime's linear taps: the coordinate clamped into the input, its two neighbours, weights by distance.
    private static IEnumerable<(int Index, float Weight)> LinearTaps(float x, int n)
    {
        x = Math.Max(0f, Math.Min(x, n - 1));
        int i1 = Math.Min((int)x, n - 1), i2 = Math.Min(i1 + 1, n - 1);
        return i1 == i2 ? [(i1, 1f)] : [(i1, Math.Abs(x - i2)), (i2, Math.Abs(x - i1))];
    }

    // Keys' cubic convolution over the four neighbours (clamped to the edge), optionally without those outside the input.
    private IEnumerable<(int Index, float Weight)> CubicTaps(float x, int n)
    {
        float floor = MathF.Floor(x), s = x - floor, a = CubicA;
        float[] coefficients =
        [
            (((((a * (s + 1)) - (5 * a)) * (s + 1)) + (8 * a)) * (s + 1)) - (4 * a),
            ((((a + 2) * s) - (a + 3)) * s * s) + 1,
            ((((a + 2) * (1 - s)) - (a + 3)) * (1 - s) * (1 - s)) + 1,
            (((((a * (2 - s)) - (5 * a)) * (2 - s)) + (8 * a)) * (2 - s)) - (4 * a),
        ];
        long first = (long)floor - 1;
        float sum = 1;
        if (ExcludeOutside)
        {
            sum = 0;
            for (int t = 0; t < 4; t++)
            {
                coefficients[t] = first + t < 0 || first + t >= n ? 0 : coefficients[t];
                sum += coefficients[t];
            }
        }

        return Enumerable.Range(0, 4).Select(t => ((int)Math.Clamp(first + t, 0, n - 1), coefficients[t] / sum));
    }
}
