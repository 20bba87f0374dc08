using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// OneHot: inserts an axis of length <c>depth</c> (a compile-time constant, as it fixes the shape) holding
/// the on value where the position equals the index and the off value elsewhere. Indices of any numeric
/// type and the [off, on] values may be computed at run time.
/// </summary>
[OnnxOperator("OneHot", MinOpset = 9)]
internal sealed class OneHotOperator : IOperator
{
    private static readonly ElementType[] IndexTypes =
    [
        ElementType.Float32, ElementType.Float64, ElementType.Float16, ElementType.Int8, ElementType.UInt8, ElementType.Int16,
        ElementType.UInt16, ElementType.Int32, ElementType.UInt32, ElementType.Int64, ElementType.UInt64,
    ];

    public void Infer(InferenceContext ctx)
    {
        int[] indices = ctx.InputShape(0);
        ctx.RequireType(0, IndexTypes);
        (int axis, int depth) = Resolve(ctx, indices.Length);
        if (ctx.Input(2).ElementCount != 2)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the values of OneHot must be two elements (off, on), but their shape is {Shapes.Format(ctx.InputShape(2))}.", ctx.Input(2).Name);
        }

        ctx.SetOutput(0, ctx.InputType(2), [.. indices[..axis], depth, .. indices[axis..]]);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value indices = ctx.Input(0), y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        (int axis, int depth) = Resolve(ctx.Reread(), indices.KnownShape.Length);
        ctx.Emit(nameof(Runtime.Kernels.OneHot), [y.Type, indices.Type],
            ctx.In("indices", indices),
            ctx.In("values", ctx.Input(2)),
            ctx.Out("y", y),
            PlanArg.Int("depth", depth),
            PlanArg.Int("inner", Shapes.Product(indices.KnownShape, axis, indices.KnownShape.Length)));
    }

    private static (int Axis, int Depth) Resolve(InferenceContext ctx, int rank)
    {
        int axis = Axes.Normalize(ctx, ctx.Int("axis", -1), rank + 1, "axis");
        ctx.RequireType(1, IndexTypes);
        Tensor value = ctx.ConstantInput(1, "depth");
        if (value.ElementCount != 1)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the depth of OneHot must be one element, but its shape is {Shapes.Format(value.Shape)}.", ctx.Input(1).Name);
        }

        double depth = value.Type == ElementType.Float64 ? value.Span<double>()[0] : value.ToFloats()[0];
        if (value.Type is not (ElementType.Float32 or ElementType.Float64 or ElementType.Float16))
        {
            depth = value.ToInt64s()[0];
        }

        if (!(depth >= 1 && depth <= Shapes.MaxElements))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the depth of OneHot must be positive, but it is {depth}.", ctx.Input(1).Name);
        }

        return (axis, (int)depth);
    }
}
