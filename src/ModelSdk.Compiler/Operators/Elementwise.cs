using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>The element types the elementwise kernels instantiate, grouped as the ONNX type constraints use them.</summary>
internal static class ElementTypeSets
{
    /// <summary>float32, float16, float64.</summary>
    public static readonly ElementType[] Floats = [ElementType.Float32, ElementType.Float16, ElementType.Float64];

    /// <summary>int8 … int64.</summary>
    public static readonly ElementType[] SignedIntegers = [ElementType.Int8, ElementType.Int16, ElementType.Int32, ElementType.Int64];

    /// <summary>uint8 … uint64.</summary>
    public static readonly ElementType[] UnsignedIntegers = [ElementType.UInt8, ElementType.UInt16, ElementType.UInt32, ElementType.UInt64];

    /// <summary>Floats and signed integers.</summary>
    public static readonly ElementType[] Signed = [.. Floats, .. SignedIntegers];

    /// <summary>Every numeric type (not bool, not bfloat16).</summary>
    public static readonly ElementType[] Numeric = [.. Floats, .. SignedIntegers, .. UnsignedIntegers];

    /// <summary>Whether <paramref name="type"/> is float32, float16 or float64.</summary>
    public static bool IsFloat(ElementType type) => Array.IndexOf(Floats, type) >= 0;
}

/// <summary>
/// Unary elementwise operators: one input, same type and shape out, lowered onto <see cref="Unary"/>.
/// Float types take every function; integers only the exact ones (Abs, Neg, Relu, Sign).
/// </summary>
[OnnxOperator("Relu")]
[OnnxOperator("LeakyRelu")]
[OnnxOperator("Sigmoid")]
[OnnxOperator("Tanh")]
[OnnxOperator("Exp")]
[OnnxOperator("Log")]
[OnnxOperator("Sqrt")]
[OnnxOperator("Neg")]
[OnnxOperator("Abs")]
[OnnxOperator("Reciprocal")]
[OnnxOperator("Erf", MinOpset = 9)]
[OnnxOperator("HardSigmoid")]
[OnnxOperator("HardSwish", MinOpset = 14)]
[OnnxOperator("Elu")]
[OnnxOperator("Selu")]
[OnnxOperator("Celu", MinOpset = 12)]
[OnnxOperator("Softplus")]
[OnnxOperator("Softsign")]
[OnnxOperator("Mish", MinOpset = 18)]
[OnnxOperator("ThresholdedRelu", MinOpset = 10)]
[OnnxOperator("Shrink", MinOpset = 9)]
[OnnxOperator("Gelu", MinOpset = 20)]
[OnnxOperator("Sin", MinOpset = 7)]
[OnnxOperator("Cos", MinOpset = 7)]
[OnnxOperator("Tan", MinOpset = 7)]
[OnnxOperator("Asin", MinOpset = 7)]
[OnnxOperator("Acos", MinOpset = 7)]
[OnnxOperator("Atan", MinOpset = 7)]
[OnnxOperator("Sinh", MinOpset = 9)]
[OnnxOperator("Cosh", MinOpset = 9)]
[OnnxOperator("Asinh", MinOpset = 9)]
[OnnxOperator("Acosh", MinOpset = 9)]
[OnnxOperator("Atanh", MinOpset = 9)]
[OnnxOperator("Floor")]
[OnnxOperator("Ceil")]
[OnnxOperator("Round", MinOpset = 11)]
[OnnxOperator("Sign", MinOpset = 9)]
internal sealed class UnaryOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ctx.OpType switch
        {
            "Abs" or "Sign" => ElementTypeSets.Numeric,
            "Neg" or "Relu" => ElementTypeSets.Signed,
            _ => ElementTypeSets.Floats,
        });
        _ = Function(ctx);
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
    {
        (UnaryOp op, float alpha, float beta) = Function(ctx.Attributes());
        if (op is UnaryOp.Gelu or UnaryOp.GeluTanh && ctx.Input(0).Type == ElementType.Float32)
        {
            // The dedicated float32 kernel (also what the fusion pass uses) is vectorized end to end.
            ctx.Emit(nameof(Gelu), [], ctx.In("x", ctx.Input(0)), ctx.Out("y", ctx.Output(0)), PlanArg.Bool("approximate", op == UnaryOp.GeluTanh));
            return;
        }

        ctx.Emit(nameof(Unary), [ctx.Input(0).Type],
            PlanArg.Enum("op", nameof(UnaryOp), op.ToString()),
            ctx.In("x", ctx.Input(0)),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Float("alpha", alpha),
            PlanArg.Float("beta", beta),
            ctx.Context());
    }

    /// <summary>The kernel function and its two parameters, from the node's attributes and ONNX's defaults.</summary>
    internal static (UnaryOp Op, float Alpha, float Beta) Function(InferenceContext ctx) => ctx.OpType switch
    {
        "LeakyRelu" => (UnaryOp.LeakyRelu, ctx.Float("alpha", 0.01f), 0),
        "HardSigmoid" => (UnaryOp.HardSigmoid, ctx.Float("alpha", 0.2f), ctx.Float("beta", 0.5f)),
        "Elu" or "Celu" or "ThresholdedRelu" => (Enum.Parse<UnaryOp>(ctx.OpType), ctx.Float("alpha", 1f), 0),
        "Selu" => (UnaryOp.Selu, ctx.Float("alpha", 1.67326319217681884765625f), ctx.Float("gamma", 1.05070102214813232421875f)),
        "Shrink" => (UnaryOp.Shrink, ctx.Float("lambd", 0.5f), ctx.Float("bias", 0f)),
        "Gelu" => ctx.String("approximate", "none") switch
        {
            "none" => (UnaryOp.Gelu, 0, 0),
            "tanh" => (UnaryOp.GeluTanh, 0, 0),
            string other => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'approximate' of Gelu must be \"none\" or \"tanh\", not \"{other}\"."),
        },
        _ => (Enum.Parse<UnaryOp>(ctx.OpType), 0, 0),
    };
}

/// <summary>
/// Clip: bounds from attributes (opset &lt; 11) or optional inputs (opset ≥ 11), constant or computed.
/// float32 with constant bounds is one vectorized <see cref="Unary"/> step; otherwise the bounds are applied
/// as <see cref="BinaryOp.Max"/> and <see cref="BinaryOp.Min"/> steps in the element type, exact for integers.
/// </summary>
[OnnxOperator("Clip")]
internal sealed class ClipOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ctx.Opset < 11 ? ElementTypeSets.Floats : ElementTypeSets.Numeric);
        for (int i = 1; i < Math.Min(ctx.InputCount, 3); i++)
        {
            if (ctx.OptionalInput(i) is { } bound)
            {
                ctx.RequireSameType(0, i);
                if (bound.ElementCount != 1)
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the {(i == 1 ? "min" : "max")} input of Clip must be a scalar.", bound.Name);
                }
            }
        }

        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        (Value? Input, Tensor? Constant) min, max;
        if (ctx.Opset < 11)
        {
            // Clip-6 bounds are attributes and default to the float range, as in ONNX Runtime.
            InferenceContext a = ctx.Attributes();
            min = (null, CastOperator.Convert(Tensor.FromFloats([], a.Float("min", float.MinValue)), x.Type));
            max = (null, CastOperator.Convert(Tensor.FromFloats([], a.Float("max", float.MaxValue)), x.Type));
        }
        else
        {
            min = (ctx.OptionalInput(1), ctx.OptionalInput(1)?.Constant);
            max = (ctx.OptionalInput(2), ctx.OptionalInput(2)?.Constant);
        }

        bool constantBounds = min.Input?.IsConstant != false && max.Input?.IsConstant != false;
        if (x.Type == ElementType.Float32 && constantBounds)
        {
            ctx.Emit(nameof(Unary), [ElementType.Float32], PlanArg.Enum("op", nameof(UnaryOp), nameof(UnaryOp.Clip)),
                ctx.In("x", x), ctx.Out("y", y),
                PlanArg.Float("alpha", min.Constant?.ToFloats()[0] ?? float.NegativeInfinity),
                PlanArg.Float("beta", max.Constant?.ToFloats()[0] ?? float.PositiveInfinity),
                ctx.Context());
            return;
        }

        Value? lower = min.Input ?? (min.Constant is { } lo ? ctx.Constant(lo, "min") : null);
        Value? upper = max.Input ?? (max.Constant is { } hi ? ctx.Constant(hi, "max") : null);
        if (lower is null && upper is null)
        {
            ctx.Alias(y, x);
            return;
        }

        // max(x, min) into y, then min(·, max) in place.
        Value current = x;
        foreach ((BinaryOp op, Value? bound) in new[] { (BinaryOp.Max, lower), (BinaryOp.Min, upper) })
        {
            if (bound is not null)
            {
                BinaryOperator.EmitBroadcast(ctx, op, current, bound, y);
                current = y;
            }
        }
    }
}

/// <summary>
/// Broadcasting arithmetic lowered onto <see cref="Binary"/>: Add, Sub, Mul, Div, Pow, Mod, PRelu, BitShift.
/// From opset 7 NumPy broadcasting; before, B broadcasts onto A only with <c>broadcast=1</c>, aligned at
/// <c>axis</c> (default: trailing), which <see cref="LegacyShapeOfB"/> turns into the equivalent NumPy shape.
/// </summary>
[OnnxOperator("Add")]
[OnnxOperator("Sub")]
[OnnxOperator("Mul")]
[OnnxOperator("Div")]
[OnnxOperator("Pow")]
[OnnxOperator("Mod", MinOpset = 10)]
[OnnxOperator("PRelu")]
[OnnxOperator("BitShift", MinOpset = 11)]
internal sealed class BinaryOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ctx.OpType == "BitShift" ? ElementTypeSets.UnsignedIntegers : ElementTypeSets.Numeric);
        if (ctx.OpType == "Pow")
        {
            // Pow-12 and later let the exponent have its own type.
            ctx.RequireType(1, ElementTypeSets.Numeric);
        }
        else
        {
            ctx.RequireSameType(0, 1);
        }

        _ = Operation(ctx);
        int[] shape = BroadcastShape(ctx);
        if (ctx.OpType == "PRelu" && !Shapes.Equal(shape, ctx.InputShape(0)))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"the slope of PRelu (shape {Shapes.Format(ctx.InputShape(1))}) must broadcast to the input's shape {Shapes.Format(ctx.InputShape(0))}.");
        }

        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    public void Lower(LoweringContext ctx)
    {
        Value a = ctx.Input(0), b = LegacyViewOfB(ctx, ctx.Input(1)), y = ctx.Output(0);
        BinaryOp op = Operation(ctx.Attributes());
        if (b.Type == a.Type)
        {
            EmitBroadcast(ctx, op, a, b, y);
        }
        else if (a.Type is ElementType.Float32 or ElementType.Float64 || !ElementTypeSets.IsFloat(b.Type))
        {
            // The exponent in the base's type: exact for every integer exponent a float32 result can take.
            EmitBroadcast(ctx, op, a, CastOperator.ConvertValue(ctx, b, a.Type), y);
        }
        else
        {
            // An integer or float16 base with a float exponent: in double, then back (ONNX Runtime rounds toward zero too).
            Value wide = ctx.Temporary(ElementType.Float64, y.KnownShape, "pow");
            EmitBroadcast(ctx, op, CastOperator.ConvertValue(ctx, a, ElementType.Float64), CastOperator.ConvertValue(ctx, b, ElementType.Float64), wide);
            CastOperator.Emit(ctx, wide, y);
        }
    }

    private static BinaryOp Operation(InferenceContext ctx)
    {
        switch (ctx.OpType)
        {
            case "Mod":
                long fmod = ctx.Int("fmod", 0);
                if (fmod is not (0 or 1))
                {
                    throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'fmod' of Mod must be 0 or 1, not {fmod}.");
                }

                if (fmod == 0 && ElementTypeSets.IsFloat(ctx.InputType(0)))
                {
                    throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"Mod of {ctx.InputType(0).ToPlanName()} tensors needs fmod=1 (the ONNX specification defines fmod=0 for integers only).");
                }

                return fmod == 0 ? BinaryOp.Mod : BinaryOp.Fmod;
            case "BitShift":
                return ctx.String("direction", string.Empty) switch
                {
                    "LEFT" => BinaryOp.BitShiftLeft,
                    "RIGHT" => BinaryOp.BitShiftRight,
                    string other => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'direction' of BitShift must be \"LEFT\" or \"RIGHT\", not \"{other}\"."),
                };
            default:
                return Enum.Parse<BinaryOp>(ctx.OpType);
        }
    }

    /// <summary>
    /// The output shape of a two-input broadcasting operator (this family, comparisons, logic): NumPy
    /// broadcasting from opset 7, the legacy <c>broadcast</c>/<c>axis</c> rule before (B onto A only).
    /// </summary>
    public static int[] BroadcastShape(InferenceContext ctx)
    {
        int[] a = ctx.InputShape(0), b = LegacyShapeOfB(ctx.Node, ctx.Opset) ?? ctx.InputShape(1);
        return Shapes.Broadcast(a, b) is { } s && (ctx.Opset >= 7 || Shapes.Equal(s, a))
            ? s
            : throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"shapes {Shapes.Format(ctx.InputShape(0))} and {Shapes.Format(ctx.InputShape(1))} of {ctx.OpType} cannot be broadcast together.");
    }

    /// <summary>Input B as NumPy broadcasting must see it: a view with the legacy axis alignment before opset 7, else B itself.</summary>
    public static Value LegacyViewOfB(LoweringContext ctx, Value b)
    {
        if (LegacyShapeOfB(ctx.Node, ctx.Opset) is not { } legacy)
        {
            return b;
        }

        Value view = ctx.Temporary(b.Type, legacy, "broadcast");
        ctx.Alias(view, b);
        return view;
    }

    /// <summary>
    /// Before opset 7, B's shape padded with 1s so that NumPy broadcasting aligns it as the old rules did:
    /// at <c>axis</c> with <c>broadcast=1</c>, and for PRelu-6 a 1-D slope along the channels (axis 1).
    /// </summary>
    private static int[]? LegacyShapeOfB(Node node, int opset)
    {
        if (opset < 7 && node.OpType == "PRelu")
        {
            int[] x = node.Inputs[0]!.KnownShape, slope = node.Inputs[1]!.KnownShape;
            return slope.Length == 1 && slope[0] > 1 && x.Length >= 2 && x[1] == slope[0] ? [slope[0], .. Enumerable.Repeat(1, x.Length - 2)] : null;
        }

        if (opset >= 7 || !node.Attributes.TryGetValue("broadcast", out Ir.Attribute? broadcast) || broadcast.Int == 0
            || !node.Attributes.TryGetValue("axis", out Ir.Attribute? axisAttribute))
        {
            return null;
        }

        int rankA = node.Inputs[0]!.KnownShape.Length;
        int[] b = node.Inputs[1]!.KnownShape;
        long axis = axisAttribute.Int < 0 ? axisAttribute.Int + rankA : axisAttribute.Int;
        if (axis < 0 || axis + b.Length > rankA)
        {
            return null; // reported as a shape mismatch by the caller
        }

        return [.. b, .. Enumerable.Repeat(1, rankA - (int)axis - b.Length)];
    }

    /// <summary>Emits <c>y = op(a, b)</c> with NumPy broadcasting of both operands to <paramref name="y"/>'s shape.</summary>
    public static void EmitBroadcast(LoweringContext ctx, BinaryOp op, Value a, Value b, Value y)
        => EmitBroadcast(ctx, nameof(Binary), [y.Type], PlanArg.Enum("op", nameof(BinaryOp), op.ToString()), a, b, y);

    /// <summary>
    /// Emits a step of a broadcasting two-operand kernel (<see cref="Binary"/>, <see cref="Compare"/>,
    /// <see cref="Logical"/>: parameters op, a, b, y, shape, aStrides, bStrides).
    /// </summary>
    public static void EmitBroadcast(LoweringContext ctx, string kernel, ElementType[] typeArgs, PlanArg op, Value a, Value b, Value y)
    {
        BroadcastLayout layout = BroadcastLayout.Create(y.KnownShape, a.KnownShape, b.KnownShape);
        ctx.Emit(kernel, typeArgs,
            op,
            ctx.In("a", a),
            ctx.In("b", b),
            ctx.Out("y", y),
            PlanArg.IntList("shape", layout.Shape),
            PlanArg.IntList("aStrides", layout.Strides[0]),
            PlanArg.IntList("bStrides", layout.Strides[1]));
    }
}
