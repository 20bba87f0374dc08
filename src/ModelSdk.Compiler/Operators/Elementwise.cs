using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>Unary elementwise operators: one input, same type and shape out, lowered onto <see cref="Unary"/>.</summary>
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
[OnnxOperator("Erf")]
internal sealed class UnaryOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        bool integerOk = ctx.OpType is "Neg" or "Abs" or "Relu";
        if (integerOk)
        {
            ctx.RequireType(0, ElementType.Float32, ElementType.Int32, ElementType.Int64);
        }
        else
        {
            ctx.RequireType(0, ElementType.Float32);
        }

        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        float alpha = ctx.Node.OpType == "LeakyRelu" ? LeakyReluAlpha(ctx.Node) : 0;
        ctx.Emit(nameof(Unary), [x.Type],
            PlanArg.Enum("op", nameof(UnaryOp), ctx.Node.OpType),
            ctx.In("x", x),
            ctx.Out("y", ctx.Output(0)),
            PlanArg.Float("alpha", alpha),
            PlanArg.Float("beta", 0));
    }

    private static float LeakyReluAlpha(Node node)
        => node.Attributes.TryGetValue("alpha", out Ir.Attribute? a) && a.Kind == AttributeKind.Float ? a.Float : 0.01f;
}

/// <summary>Clip: bounds from attributes (opset &lt; 11) or optional inputs (opset ≥ 11), constant or computed.</summary>
[OnnxOperator("Clip")]
internal sealed class ClipOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32);
        for (int i = 1; i < Math.Min(ctx.InputCount, 3); i++)
        {
            if (ctx.OptionalInput(i) is { } bound)
            {
                ctx.RequireType(i, ElementType.Float32);
                if (bound.ElementCount != 1)
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the {(i == 1 ? "min" : "max")} input of Clip must be a scalar.", bound.Name);
                }
            }
        }

        ctx.SetOutput(0, ElementType.Float32, ctx.InputShape(0));
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        Value? minTensor = null, maxTensor = null;
        if (ctx.Opset < 11)
        {
            min = Attr(ctx.Node, "min", float.MinValue);
            max = Attr(ctx.Node, "max", float.MaxValue);
        }
        else
        {
            (min, minTensor) = Bound(ctx.OptionalInput(1), min);
            (max, maxTensor) = Bound(ctx.OptionalInput(2), max);
        }

        if (minTensor is null && maxTensor is null)
        {
            ctx.Emit(nameof(Unary), [ElementType.Float32], PlanArg.Enum("op", nameof(UnaryOp), nameof(UnaryOp.Clip)),
                ctx.In("x", x), ctx.Out("y", y), PlanArg.Float("alpha", min), PlanArg.Float("beta", max));
            return;
        }

        // Bounds computed at run time: max(x, min), then min(·, max), as two broadcast steps.
        Value current = x;
        foreach ((BinaryOp op, Value? bound, float constant) in new[] { (BinaryOp.Max, minTensor, min), (BinaryOp.Min, maxTensor, max) })
        {
            Value operand = bound ?? ctx.Constant(Tensor.FromFloats([], constant), op == BinaryOp.Max ? "min" : "max");
            Value target = op == BinaryOp.Min ? y : ctx.Temporary(ElementType.Float32, x.KnownShape, "clipped");
            BinaryOperator.EmitBroadcast(ctx, op, current, operand, target);
            current = target;
        }
    }

    private static float Attr(Node node, string name, float fallback)
        => node.Attributes.TryGetValue(name, out Ir.Attribute? a) && a.Kind == AttributeKind.Float ? a.Float : fallback;

    private static (float, Value?) Bound(Value? input, float fallback)
        => input switch
        {
            null => (fallback, null),
            { Constant: { } c } => (c.ToFloats()[0], null),
            _ => (fallback, input),
        };
}

/// <summary>
/// Broadcasting arithmetic: Add, Sub, Mul, Div, Pow, lowered onto <see cref="Binary"/>. From opset 7
/// NumPy broadcasting; before, B broadcasts onto A only with <c>broadcast=1</c>, aligned at <c>axis</c>
/// (default: trailing), which <see cref="LegacyShapeOfB"/> turns into the equivalent NumPy shape.
/// </summary>
[OnnxOperator("Add")]
[OnnxOperator("Sub")]
[OnnxOperator("Mul")]
[OnnxOperator("Div")]
[OnnxOperator("Pow")]
internal sealed class BinaryOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Float32, ElementType.Int32, ElementType.Int64);
        if (ctx.OpType == "Pow" && ctx.InputType(1) != ctx.InputType(0))
        {
            // Pow allows another exponent type; a constant exponent is converted at compile time.
            if (!ctx.Input(1).IsConstant || ctx.InputType(0) != ElementType.Float32)
            {
                throw ctx.Error(DiagnosticCodes.UnsupportedType,
                    $"Pow with a {ctx.InputType(0).ToPlanName()} base and a {ctx.InputType(1).ToPlanName()} exponent is not supported; the exponent must have the base's type, or be a constant with a float32 base.");
            }
        }
        else
        {
            ctx.RequireSameType(0, 1);
        }

        int[] a = ctx.InputShape(0), b = LegacyShapeOfB(ctx.Node, ctx.Opset) ?? ctx.InputShape(1);
        int[] shape = Shapes.Broadcast(a, b) is { } s && (ctx.Opset >= 7 || Shapes.Equal(s, a))
            ? s
            : throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"shapes {Shapes.Format(ctx.InputShape(0))} and {Shapes.Format(ctx.InputShape(1))} of {ctx.OpType} cannot be broadcast together.");
        ctx.SetOutput(0, ctx.InputType(0), shape);
    }

    /// <summary>For opset &lt; 7 with <c>broadcast=1</c> and an <c>axis</c>: B's shape padded with 1s so that NumPy broadcasting aligns it at the axis.</summary>
    private static int[]? LegacyShapeOfB(Node node, int opset)
    {
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

    public void Lower(LoweringContext ctx)
    {
        Value a = ctx.Input(0), b = ctx.Input(1);
        if (b.Type != a.Type)
        {
            b = ctx.Constant(Tensor.FromFloats(b.KnownShape, b.Constant!.ToFloats()), "exponent");
        }

        if (LegacyShapeOfB(ctx.Node, ctx.Opset) is { } legacy)
        {
            Value view = ctx.Temporary(b.Type, legacy, "broadcast");
            ctx.Alias(view, b);
            b = view;
        }

        EmitBroadcast(ctx, Enum.Parse<BinaryOp>(ctx.Node.OpType), a, b, ctx.Output(0));
    }

    /// <summary>Emits <c>y = op(a, b)</c> with NumPy broadcasting.</summary>
    public static void EmitBroadcast(LoweringContext ctx, BinaryOp op, Value a, Value b, Value y)
    {
        BroadcastLayout layout = BroadcastLayout.Create(y.KnownShape, a.KnownShape, b.KnownShape);
        ctx.Emit(nameof(Binary), [y.Type],
            PlanArg.Enum("op", nameof(BinaryOp), op.ToString()),
            ctx.In("a", a),
            ctx.In("b", b),
            ctx.Out("y", y),
            PlanArg.IntList("shape", layout.Shape),
            PlanArg.IntList("aStrides", layout.Strides[0]),
            PlanArg.IntList("bStrides", layout.Strides[1]));
    }
}
