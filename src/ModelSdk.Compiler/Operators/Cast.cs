using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Import;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Cast (to the type in attribute <c>to</c>) and CastLike (to the type of input 1), lowered onto the
/// <see cref="Runtime.Kernels.Cast"/> kernel between any two supported element types; a cast to the
/// same type is a view. Strings and the 8-bit and 4-bit float and integer formats are not supported.
/// </summary>
[OnnxOperator("Cast")]
[OnnxOperator("CastLike", MinOpset = 15)]
internal sealed class CastOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ElementType target;
        if (ctx.OpType == "CastLike")
        {
            target = ctx.InputType(1);
        }
        else
        {
            long to = ctx.RequiredInt("to");
            string name = to is >= 0 and <= int.MaxValue ? TensorDecoder.OnnxTypeName((int)to) : $"type {to}";
            target = (to is >= 0 and <= int.MaxValue ? TensorDecoder.MapType((int)to) : null)
                ?? throw ctx.Error(DiagnosticCodes.UnsupportedType,
                    $"Cast to {name} is not supported (supported: {string.Join(", ", Enum.GetValues<ElementType>().Select(t => t.ToPlanName()))}).");
        }

        ctx.SetOutput(0, target, ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        if (x.Type == y.Type)
        {
            ctx.Alias(y, x);
        }
        else
        {
            Emit(ctx, x, y);
        }
    }

    /// <summary>Emits <c>y = (typeof y)x</c>; the shapes are the same, the types differ.</summary>
    public static void Emit(LoweringContext ctx, Value x, Value y)
        => ctx.Emit(nameof(Runtime.Kernels.Cast), [x.Type, y.Type], ctx.In("x", x), ctx.Out("y", y));

    /// <summary>
    /// <paramref name="value"/> in element type <paramref name="type"/>: itself, a converted constant, or a
    /// temporary written by a Cast step (for operators that compute in another type than they are given).
    /// </summary>
    public static Value ConvertValue(LoweringContext ctx, Value value, ElementType type)
    {
        if (value.Type == type)
        {
            return value;
        }

        if (value.Constant is { } c)
        {
            return ctx.Constant(Convert(c, type), "converted");
        }

        Value converted = ctx.Temporary(type, value.KnownShape, "cast");
        Emit(ctx, value, converted);
        return converted;
    }

    /// <summary>A constant converted at compile time by the same kernel that converts at run time.</summary>
    public static Tensor Convert(Tensor tensor, ElementType type)
    {
        if (tensor.Type == type)
        {
            return tensor;
        }

        byte[] source = tensor.Bytes.ToArray();
        byte[] result = new byte[(long)tensor.ElementCount * type.SizeInBytes()];
        var step = new PlanStep(nameof(Runtime.Kernels.Cast), [tensor.Type, type], [PlanArg.In("x", 0), PlanArg.Out("y", 1)], string.Empty, "Cast");
        Executor.Run([step], id => id == 0 ? source : result);
        return new Tensor(type, tensor.Shape, result);
    }
}
