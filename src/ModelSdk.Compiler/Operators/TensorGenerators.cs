using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Import;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>Size: the input's element count, always known at compile time.</summary>
[OnnxOperator("Size")]
internal sealed class SizeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
        => ctx.SetOutputConstant(0, Tensor.FromInt64s([], Shapes.ElementCount(ctx.InputShape(0))));

    public void Lower(LoweringContext ctx)
    {
        // Always folded: Infer gives the output its value.
    }
}

/// <summary>
/// ConstantOfShape: a tensor of the constant shape input, filled with the one-element <c>value</c>
/// attribute (float32 zero by default). Folded like any constant node when small enough; otherwise filled at run time.
/// </summary>
[OnnxOperator("ConstantOfShape", MinOpset = 9)]
internal sealed class ConstantOfShapeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        long[] dims = Axes.ConstantInts(ctx, 0, "shape") ?? throw ctx.Error(DiagnosticCodes.ShapeMismatch, "ConstantOfShape requires its shape input.");
        if (dims.Any(d => d < 0 || d > Shapes.MaxElements))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"ConstantOfShape shape [{string.Join(",", dims)}] has a negative or too large dimension.");
        }

        ctx.SetOutput(0, Value(ctx).Type, dims.Select(d => (int)d).ToArray());
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        if (!y.IsConstant)
        {
            ctx.Emit(nameof(Runtime.Kernels.Fill), [y.Type], ctx.In("value", ctx.Constant(Value(ctx.Reread()), "value")), ctx.Out("y", y));
        }
    }

    private static Tensor Value(InferenceContext ctx)
    {
        Tensor? value = ctx.TensorAttribute("value");
        if (value is null)
        {
            return ScalarTensors.Of(ElementType.Float32, 0);
        }

        if (value.ElementCount != 1)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"the value of ConstantOfShape must be one element, but its shape is {Shapes.Format(value.Shape)}.");
        }

        return value.Reshape([1]);
    }
}

/// <summary>EyeLike: a matrix of the input's shape with ones on diagonal <c>k</c>, of type <c>dtype</c> or the input's.</summary>
[OnnxOperator("EyeLike", MinOpset = 9)]
internal sealed class EyeLikeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        if (shape.Length != 2)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"EyeLike needs a 2-D input, but it is {Shapes.Format(shape)}.");
        }

        ctx.SetOutput(0, OutputType(ctx), shape);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        long k = ctx.Reread().Int("k", 0);
        int columns = y.KnownShape[1];
        ctx.Emit(nameof(Runtime.Kernels.EyeLike), [y.Type],
            ctx.In("one", ctx.Constant(ScalarTensors.Of(y.Type, 1), "one")),
            ctx.Out("y", y),
            PlanArg.Int("columns", columns),
            PlanArg.Int("k", (int)Math.Clamp(k, -(long)y.KnownShape[0], columns)));
    }

    private static ElementType OutputType(InferenceContext ctx)
    {
        if (!ctx.Has("dtype"))
        {
            return ctx.InputType(0);
        }

        long dtype = ctx.Int("dtype", 0);
        return TensorDecoder.MapType((int)Math.Clamp(dtype, int.MinValue, int.MaxValue))
            ?? throw ctx.Error(DiagnosticCodes.UnsupportedType, $"EyeLike dtype {TensorDecoder.OnnxTypeName((int)Math.Clamp(dtype, int.MinValue, int.MaxValue))} is not supported.");
    }
}

/// <summary>
/// Range: <c>ceil((limit - start) / delta)</c> values from <c>start</c> by <c>delta</c>. The count is the
/// output's shape, so every input must be a compile-time constant; the node then folds.
/// </summary>
[OnnxOperator("Range", MinOpset = 11)]
internal sealed class RangeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ElementType type = ctx.InputType(0);
        ctx.RequireType(0, ElementType.Float32, ElementType.Float64, ElementType.Int16, ElementType.Int32, ElementType.Int64);
        for (int i = 0; i < 3; i++)
        {
            ctx.RequireSameType(0, i);
            if (ctx.Input(i).ElementCount != 1)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"input {i} of Range must be a scalar, but its shape is {Shapes.Format(ctx.InputShape(i))}.", ctx.Input(i).Name);
            }
        }

        Tensor start = ctx.ConstantInput(0, "start"), limit = ctx.ConstantInput(1, "limit"), delta = ctx.ConstantInput(2, "delta");
        double count;
        if (type is ElementType.Float32 or ElementType.Float64)
        {
            // In the input's precision, as ONNX Runtime computes it, so the count agrees at the edges.
            double d = Scalar(delta);
            double span = type == ElementType.Float32 ? (float)Scalar(limit) - (float)Scalar(start) : Scalar(limit) - Scalar(start);
            count = d == 0 || double.IsNaN(span / d) ? double.NaN : Math.Ceiling(span / d);
        }
        else
        {
            long s = start.ToInt64s()[0], l = limit.ToInt64s()[0], d = delta.ToInt64s()[0];
            count = d == 0 ? double.NaN : Math.Ceiling(((double)l - s) / d);
            if (d != 0 && Math.Abs((double)l - s) < 1L << 52)
            {
                long span = l - s;
                count = span / d + (span % d != 0 && (span < 0) == (d < 0) ? 1 : 0);
            }
        }

        if (double.IsNaN(count) || count > Shapes.MaxElements)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"Range from {Scalar(start)} to {Scalar(limit)} by {Scalar(delta)} has no valid element count.");
        }

        ctx.SetOutput(0, type, [(int)Math.Max(count, 0)]);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        if (!y.IsConstant)
        {
            ctx.Emit(nameof(Runtime.Kernels.Progression), [y.Type], ctx.In("start", ctx.Input(0)), ctx.In("delta", ctx.Input(2)), ctx.Out("y", y));
        }
    }

    private static double Scalar(Tensor t) => t.Type == ElementType.Float64 ? t.Span<double>()[0] : t.ToFloats()[0];
}
