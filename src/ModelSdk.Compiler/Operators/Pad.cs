using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Pad in constant, reflect, edge and (opset 19) wrap modes. Before opset 11 the pads and value are
/// attributes; from 11 the pads are a constant input (they fix the shape) and the constant value an
/// optional input that may be computed at run time; opset 18 adds the axes input. Negative pads crop.
/// </summary>
[OnnxOperator("Pad", MinOpset = 2)]
internal sealed class PadOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        (int[] before, int[] after, PadMode mode) = Resolve(ctx, shape);
        var output = new int[shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            long length = (long)shape[d] + before[d] + after[d];
            if (length < 0 || length > Shapes.MaxElements)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Pad gives axis {d} of {Shapes.Format(shape)} the length {length}.");
            }

            output[d] = (int)length;
            bool repeats = before[d] > 0 || after[d] > 0;
            if (repeats && mode != PadMode.Constant && shape[d] == 0)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Pad in {mode.ToString().ToLowerInvariant()} mode cannot pad axis {d} of {Shapes.Format(shape)}: it has no elements to repeat.");
            }
        }

        if (ctx.Opset >= 11 && ctx.OptionalInput(2) is { } value)
        {
            ctx.RequireSameType(0, 2);
            if (value.ElementCount != 1)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the constant_value of Pad must be one element, but its shape is {Shapes.Format(value.KnownShape)}.", value.Name);
            }
        }

        ctx.SetOutput(0, ctx.InputType(0), output);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        InferenceContext attributes = ctx.Reread();
        int[] shape = x.KnownShape;
        (int[] before, int[] after, PadMode mode) = Resolve(attributes, shape);
        if (before.All(p => p == 0) && after.All(p => p == 0))
        {
            ctx.Alias(y, x);
            return;
        }

        // Neighbouring axes without padding read the input as one axis.
        var dims = new List<int>();
        var pads = new List<int>();
        var outputs = new List<int>();
        for (int d = 0; d < shape.Length; d++)
        {
            bool padded = before[d] != 0 || after[d] != 0;
            if (!padded && dims.Count > 0 && pads[^1] == 0 && outputs[^1] == dims[^1])
            {
                dims[^1] *= shape[d];
                outputs[^1] *= shape[d];
                continue;
            }

            dims.Add(shape[d]);
            pads.Add(before[d]);
            outputs.Add(y.KnownShape[d]);
        }

        Value? value = ctx.Opset >= 11
            ? ctx.OptionalInput(2)
            : ctx.Constant(ScalarTensors.Of(x.Type, attributes.Float("value", 0)), "value");
        ctx.Emit(nameof(Runtime.Kernels.Pad), [x.Type],
            ctx.In("x", x),
            ctx.InOrNone("value", value),
            ctx.Out("y", y),
            PlanArg.IntList("shape", dims.ToArray()),
            PlanArg.IntList("padsBefore", pads.ToArray()),
            PlanArg.IntList("outputShape", outputs.ToArray()),
            PlanArg.Enum("mode", nameof(PadMode), mode.ToString()));
    }

    private static (int[] Before, int[] After, PadMode Mode) Resolve(InferenceContext ctx, int[] shape)
    {
        int rank = shape.Length;
        string name = ctx.String("mode", "constant");
        PadMode mode = name switch
        {
            "constant" => PadMode.Constant,
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Edge,
            "wrap" when ctx.Opset >= 19 => PadMode.Wrap,
            _ => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"mode '{name}' of Pad must be constant, reflect, edge{(ctx.Opset >= 19 ? " or wrap" : " (or wrap from opset 19)")}."),
        };

        long[] pads;
        int[] axes;
        if (ctx.Opset < 11)
        {
            pads = ctx.Ints("pads") ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute, "Pad requires attribute 'pads'.");
            axes = Enumerable.Range(0, rank).ToArray();
        }
        else
        {
            pads = Axes.ConstantInts(ctx, 1, "pads") ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, "Pad requires the pads input.");
            long[]? listed = ctx.Opset >= 18 ? Axes.ConstantInts(ctx, 3, "axes", int32Allowed: true) : null;
            axes = listed is null ? Enumerable.Range(0, rank).ToArray() : Axes.NormalizeAll(ctx, listed, rank, "axes");
        }

        if (pads.Length != 2 * axes.Length || pads.Any(p => Math.Abs(p) > Shapes.MaxElements))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"pads [{string.Join(",", pads)}] of Pad must hold a begin and an end for each of the {axes.Length} padded axes of {Shapes.Format(shape)}.");
        }

        var before = new int[rank];
        var after = new int[rank];
        for (int i = 0; i < axes.Length; i++)
        {
            before[axes[i]] = (int)pads[i];
            after[axes[i]] = (int)pads[i + axes.Length];
        }

        return (before, after, mode);
    }
}
