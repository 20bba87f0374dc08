using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// GatherElements: <c>y[i] = data[i with the axis coordinate replaced by indices[i]]</c>. Lowered onto
/// <see cref="ElementOffsets"/> (index tensor → data offsets, checking ranges at run time) and <see cref="GatherBlocks"/>.
/// </summary>
[OnnxOperator("GatherElements", MinOpset = 11)]
internal sealed class GatherElementsOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ElementIndexing.Validate(ctx, indicesInput: 1);
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(1));
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        Value offsets = ElementIndexing.EmitOffsets(ctx);
        ctx.Emit(nameof(GatherBlocks), [y.Type], ctx.In("data", ctx.Input(0)), ctx.In("offsets", offsets), ctx.Out("y", y), PlanArg.Int("block", 1));
    }
}

/// <summary>
/// ScatterElements (reduction from opset 16, max and min from 18) and Scatter, its deprecated name:
/// the output is a copy of the data with <c>updates[i]</c> written to (or combined into) the position
/// GatherElements would read for <c>indices[i]</c>, in order.
/// </summary>
[OnnxOperator("ScatterElements", MinOpset = 11)]
[OnnxOperator("Scatter", MinOpset = 9)]
internal sealed class ScatterElementsOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        ElementIndexing.Validate(ctx, indicesInput: 1);
        Scatter.Infer(ctx, ctx.InputShape(1), "the shape of the indices");
    }

    public void Lower(LoweringContext ctx)
    {
        if (ctx.Output(0).IsConstant)
        {
            return;
        }

        Scatter.Emit(ctx, ctx.Input(1).ElementCount == 0 ? null : ElementIndexing.EmitOffsets(ctx), block: 1);
    }
}

/// <summary>
/// GatherND (batch_dims from opset 12): each tuple along the last index axis picks a slice of the data
/// within its batch. Lowered onto <see cref="NdOffsets"/> and <see cref="GatherBlocks"/>.
/// </summary>
[OnnxOperator("GatherND", MinOpset = 11)]
internal sealed class GatherNDOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        TupleIndexing layout = TupleIndexing.Resolve(ctx, ctx.Opset >= 12 ? ctx.Int("batch_dims", 0) : 0);
        ctx.SetOutput(0, ctx.InputType(0), layout.SliceShape);
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    public void Lower(LoweringContext ctx)
    {
        Value y = ctx.Output(0);
        if (y.IsConstant)
        {
            return;
        }

        InferenceContext attributes = ctx.Reread();
        TupleIndexing layout = TupleIndexing.Resolve(attributes, ctx.Opset >= 12 ? attributes.Int("batch_dims", 0) : 0);
        ctx.Emit(nameof(GatherBlocks), [y.Type],
            ctx.In("data", ctx.Input(0)), ctx.In("offsets", layout.EmitOffsets(ctx)), ctx.Out("y", y), PlanArg.Int("block", layout.Block));
    }
}

/// <summary>
/// ScatterND (reduction from opset 16, max and min from 18): a copy of the data with each slice of the
/// updates written to (or combined into) the slice its index tuple addresses, in order.
/// </summary>
[OnnxOperator("ScatterND", MinOpset = 11)]
internal sealed class ScatterNDOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        Scatter.Infer(ctx, TupleIndexing.Resolve(ctx, 0).SliceShape, "the index tuples' shape, then the addressed slices'");
    }

    public void Lower(LoweringContext ctx)
    {
        if (ctx.Output(0).IsConstant)
        {
            return;
        }

        TupleIndexing layout = TupleIndexing.Resolve(ctx.Reread(), 0);
        Scatter.Emit(ctx, layout.Tuples == 0 ? null : layout.EmitOffsets(ctx), layout.Block);
    }
}

/// <summary>The shared shape rule and lowering of GatherElements and ScatterElements.</summary>
internal static class ElementIndexing
{
    /// <summary>Checks data, indices and axis.</summary>
    public static void Validate(InferenceContext ctx, int indicesInput)
    {
        int[] data = ctx.InputShape(0), indices = ctx.InputShape(indicesInput);
        ctx.RequireType(indicesInput, ElementType.Int32, ElementType.Int64);
        if (data.Length == 0 || indices.Length != data.Length)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{ctx.OpType} needs data of rank 1 or more and indices of the same rank, but they are {Shapes.Format(data)} and {Shapes.Format(indices)}.");
        }

        int axis = Axes.Normalize(ctx, ctx.Int("axis", 0), data.Length, "axis");
        for (int d = 0; d < data.Length; d++)
        {
            if (d != axis && indices[d] > data[d])
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"the indices of {ctx.OpType}, {Shapes.Format(indices)}, are longer than the data, {Shapes.Format(data)}, along axis {d}.");
            }
        }

        IndexRanges.Check(ctx, indicesInput, _ => data[axis]);
    }

    /// <summary>Emits the data offset of every index into a new int32 temporary and returns it.</summary>
    public static Value EmitOffsets(LoweringContext ctx)
    {
        Value data = ctx.Input(0), indices = ctx.Input(1);
        int[] shape = data.KnownShape;
        int axis = Axes.Normalize(ctx.Reread(), ctx.Reread().Int("axis", 0), shape.Length, "axis");
        int[] strides = Shapes.Strides(shape);
        int axisStride = strides[axis];
        strides[axis] = 0;
        Value offsets = ctx.Temporary(ElementType.Int32, [indices.ElementCount], "offsets");
        ctx.Emit(nameof(ElementOffsets), [indices.Type],
            ctx.In("indices", indices),
            ctx.Out("offsets", offsets),
            PlanArg.IntList("shape", indices.KnownShape),
            PlanArg.IntList("dataStrides", strides),
            PlanArg.Int("axisLength", shape[axis]),
            PlanArg.Int("axisStride", axisStride));
        return offsets;
    }
}

/// <summary>
/// The shape rule of GatherND and ScatterND: indices <c>[batch…, tuples…, k]</c> address slices of the data
/// <c>[batch…, k addressed dims…, slice dims…]</c>.
/// </summary>
internal sealed record TupleIndexing(int BatchDims, int TupleLength, int[] Data, int[] Indices, int[] SliceShape)
{
    /// <summary>Number of index tuples.</summary>
    public int Tuples => Shapes.Product(Indices, 0, Indices.Length - 1);

    /// <summary>Elements of each addressed slice.</summary>
    public int Block => Shapes.Product(Data, BatchDims + TupleLength, Data.Length);

    /// <summary>Checks the shapes (indices are int64 only, as ONNX defines); <see cref="SliceShape"/> is GatherND's output and ScatterND's updates shape.</summary>
    public static TupleIndexing Resolve(InferenceContext ctx, long batchDims)
    {
        int[] data = ctx.InputShape(0), indices = ctx.InputShape(1);
        ctx.RequireType(1, ElementType.Int64);
        if (data.Length == 0 || indices.Length == 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} needs data and indices of rank 1 or more, but they are {Shapes.Format(data)} and {Shapes.Format(indices)}.");
        }

        if (batchDims < 0 || batchDims >= Math.Min(data.Length, indices.Length))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"batch_dims {batchDims} of {ctx.OpType} must be less than the ranks of the data and the indices.");
        }

        int b = (int)batchDims, k = indices[^1];
        if (k < 1 || k > data.Length - b || !Shapes.Equal(data.AsSpan(0, b), indices.AsSpan(0, b)))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{ctx.OpType} cannot index data {Shapes.Format(data)} with indices {Shapes.Format(indices)} and {b} batch dimensions: the last index axis must be 1 to {data.Length - b} long and the batch dimensions must agree.");
        }

        IndexRanges.Check(ctx, 1, position => data[b + (position % k)]);
        return new TupleIndexing(b, k, data, indices, [.. indices[..^1], .. data[(b + k)..]]);
    }

    /// <summary>Emits the data offset of every tuple into a new int32 temporary and returns it.</summary>
    public Value EmitOffsets(LoweringContext ctx)
    {
        Value indices = ctx.Input(1);
        int[] strides = Shapes.Strides(Data);
        Value offsets = ctx.Temporary(ElementType.Int32, [Tuples], "offsets");
        ctx.Emit(nameof(NdOffsets), [indices.Type],
            ctx.In("indices", indices),
            ctx.Out("offsets", offsets),
            PlanArg.IntList("dims", Data[BatchDims..(BatchDims + TupleLength)]),
            PlanArg.IntList("strides", strides[BatchDims..(BatchDims + TupleLength)]),
            PlanArg.Int("batchStride", Shapes.Product(Data, BatchDims, Data.Length)),
            PlanArg.Int("tuplesPerBatch", Shapes.Product(Indices, BatchDims, Indices.Length - 1)));
        return offsets;
    }
}

/// <summary>The updates, reduction and lowering shared by ScatterElements and ScatterND.</summary>
internal static class Scatter
{
    /// <summary>Checks the updates (<paramref name="updates"/> is their required shape, described by <paramref name="what"/>) and the reduction; the output is the data's type and shape.</summary>
    public static void Infer(InferenceContext ctx, int[] updates, string what)
    {
        ctx.RequireSameType(0, 2);
        if (!Shapes.Equal(ctx.InputShape(2), updates))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"the updates of {ctx.OpType} must have {what}, {Shapes.Format(updates)}, but they are {Shapes.Format(ctx.InputShape(2))}.");
        }

        Reduction(ctx);
        ctx.SetOutput(0, ctx.InputType(0), ctx.InputShape(0));
        StridedLayout.SetEmptyConstant(ctx, 0);
    }

    /// <summary>The reduction (null: plain assignment); MSDK2005 when the element type cannot be reduced.</summary>
    public static ScatterReduction? Reduction(InferenceContext ctx)
    {
        string name = ctx.Opset >= 16 ? ctx.String("reduction", "none") : "none";
        ScatterReduction? reduction = name switch
        {
            "none" => null,
            "add" => ScatterReduction.Add,
            "mul" => ScatterReduction.Mul,
            "max" when ctx.Opset >= 18 => ScatterReduction.Max,
            "min" when ctx.Opset >= 18 => ScatterReduction.Min,
            _ => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"reduction '{name}' of {ctx.OpType} must be none, add or mul{(ctx.Opset >= 18 ? ", max or min" : "")}."),
        };

        if (reduction is not null && ctx.InputType(0) is ElementType.Bool or ElementType.BFloat16)
        {
            throw ctx.Error(DiagnosticCodes.UnsupportedType, $"{ctx.OpType} with reduction '{name}' does not support element type {ctx.InputType(0).ToPlanName()}.");
        }

        return reduction;
    }

    /// <summary>Emits the copy of the data into the output, then the scatter of the updates at <paramref name="offsets"/> (none when there are no updates).</summary>
    public static void Emit(LoweringContext ctx, Value? offsets, int block)
    {
        Value data = ctx.Input(0), updates = ctx.Input(2), y = ctx.Output(0);
        ctx.Emit(nameof(Copy), [y.Type], ctx.In("x", data), ctx.Out("y", y));
        if (offsets is null)
        {
            return;
        }

        if (Reduction(ctx.Reread()) is { } reduction)
        {
            ctx.Emit(nameof(ScatterReduce), [y.Type],
                ctx.In("offsets", offsets), ctx.In("updates", updates), ctx.Out("y", y), PlanArg.Int("block", block),
                PlanArg.Enum("reduction", nameof(ScatterReduction), reduction.ToString()));
        }
        else
        {
            ctx.Emit(nameof(ScatterBlocks), [y.Type], ctx.In("offsets", offsets), ctx.In("updates", updates), ctx.Out("y", y), PlanArg.Int("block", block));
        }
    }
}

/// <summary>Compile-time range checks of constant index tensors, reported with the node's name instead of failing while folding or at run time.</summary>
internal static class IndexRanges
{
    /// <summary>Requires every element <c>i</c> of constant input <paramref name="input"/> to lie in <c>[-length(i), length(i))</c>.</summary>
    public static void Check(InferenceContext ctx, int input, Func<int, int> length)
    {
        if (ctx.Input(input).Constant is not { } constant)
        {
            return;
        }

        long[] values = constant.ToInt64s();
        for (int i = 0; i < values.Length; i++)
        {
            int n = length(i);
            if (values[i] < -n || values[i] >= n)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"{ctx.OpType} index {values[i]} (position {i}) is outside [{-n}, {n - 1}].", ctx.Input(input).Name);
            }
        }
    }
}
