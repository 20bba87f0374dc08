using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>Identity: the output is a view of the input (no kernel call).</summary>
[OnnxOperator("Identity")]
internal sealed class IdentityOperator : IOperator
{
    public void Infer(InferenceContext ctx) => ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));

    public void Lower(LoweringContext ctx) => ctx.Alias(ctx.Output(0), ctx.Input(0));
}

/// <summary>Dropout at inference: the output is a view of the input; the optional mask is all true.</summary>
[OnnxOperator("Dropout")]
internal sealed class DropoutOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        if (ctx.Opset >= 12 && ctx.OptionalInput(2) is { } training)
        {
            Tensor mode = ctx.ConstantInput(2, "training_mode");
            if (mode.ToInt64s().Any(v => v != 0))
            {
                throw ctx.Unsupported("Dropout in training mode is random and is not supported; export the model in inference mode.");
            }
        }

        int[] shape = ctx.InputShape(0);
        ctx.SetOutput(0, ctx.InputType(0), shape);
        if (ctx.OutputCount > 1 && ctx.Node.Outputs[1].Name.Length > 0)
        {
            // Opset 10+ types the mask as bool; before, as the input type. At inference it keeps everything.
            ElementType maskType = ctx.Opset >= 10 ? ElementType.Bool : ctx.InputType(0);
            int count = Shapes.ElementCount(shape);
            byte[] ones = new byte[(long)count * maskType.SizeInBytes()];
            for (int i = 0; i < count; i++)
            {
                WriteOne(ones, i, maskType);
            }

            ctx.SetOutputConstant(1, new Tensor(maskType, shape, ones));
        }
    }

    public void Lower(LoweringContext ctx) => ctx.Alias(ctx.Output(0), ctx.Input(0));

    private static void WriteOne(byte[] data, int index, ElementType type)
    {
        switch (type)
        {
            case ElementType.Float32:
                BitConverter.TryWriteBytes(data.AsSpan(index * 4), 1f);
                break;
            case ElementType.Float64:
                BitConverter.TryWriteBytes(data.AsSpan(index * 8), 1d);
                break;
            case ElementType.Float16:
                BitConverter.TryWriteBytes(data.AsSpan(index * 2), (Half)1);
                break;
            default:
                data[index * type.SizeInBytes()] = 1;
                break;
        }
    }
}

/// <summary>Constant: the value comes from one of its attributes.</summary>
[OnnxOperator("Constant")]
internal sealed class ConstantOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        Tensor value =
            ctx.TensorAttribute("value") ??
            (ctx.Has("value_float") ? Tensor.FromFloats([], ctx.Float("value_float", 0)) : null) ??
            (ctx.Floats("value_floats") is { } fs ? Tensor.FromFloats([fs.Length], fs) : null) ??
            (ctx.Has("value_int") ? Tensor.FromInt64s([], ctx.Int("value_int", 0)) : null) ??
            (ctx.Ints("value_ints") is { } ints ? Tensor.FromInt64s([ints.Length], ints) : null) ??
            throw (ctx.Has("sparse_value") || ctx.Has("value_string") || ctx.Has("value_strings")
                ? ctx.Error(DiagnosticCodes.UnsupportedAttribute, "Constant with a sparse or string value is not supported.")
                : ctx.Error(DiagnosticCodes.InvalidAttribute, "Constant needs one of the attributes value, value_float, value_floats, value_int, value_ints."));
        ctx.SetOutputConstant(0, value);
    }

    public void Lower(LoweringContext ctx)
    {
        // Always folded: Infer gives the output its value.
    }
}

/// <summary>Shape: with static shapes, always a compile-time constant (opset 15 adds start/end slicing).</summary>
[OnnxOperator("Shape")]
internal sealed class ShapeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        int rank = shape.Length;
        long start = ctx.Opset >= 15 ? ctx.Int("start", 0) : 0;
        long end = ctx.Opset >= 15 ? ctx.Int("end", rank) : rank;
        int s = (int)Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        int e = (int)Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        long[] dims = shape[s..Math.Max(s, e)].Select(d => (long)d).ToArray();
        ctx.SetOutputConstant(0, Tensor.FromInt64s([dims.Length], dims));
    }

    public void Lower(LoweringContext ctx)
    {
    }
}
