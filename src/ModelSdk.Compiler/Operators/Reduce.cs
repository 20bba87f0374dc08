using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// The Reduce* family. The axes are an attribute until ReduceSum-13 / the others' opset 18 and an
/// optional constant input from then, which also brings noop_with_empty_axes; no axes means every
/// axis. Lowered onto <see cref="Reduce"/> (ReduceLogSumExp: its maximum, then
/// <see cref="LogSumExp"/>), or to a view when no element is combined with another and the
/// reduction of one element is that element.
/// </summary>
[OnnxOperator("ReduceSum")]
[OnnxOperator("ReduceMean")]
[OnnxOperator("ReduceMax")]
[OnnxOperator("ReduceMin")]
[OnnxOperator("ReduceProd")]
[OnnxOperator("ReduceL1")]
[OnnxOperator("ReduceL2")]
[OnnxOperator("ReduceLogSum")]
[OnnxOperator("ReduceLogSumExp")]
[OnnxOperator("ReduceSumSquare")]
internal sealed class ReduceOperator : IOperator
{
    private static readonly ElementType[] Floats = [ElementType.Float32, ElementType.Float64];
    private static readonly ElementType[] Arithmetic = [.. Floats, ElementType.Int32, ElementType.Int64];
    private static readonly ElementType[] Ordered = [.. Arithmetic, ElementType.Int8, ElementType.UInt8];

    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ctx.OpType switch
        {
            "ReduceMax" or "ReduceMin" => Ordered,
            "ReduceSum" or "ReduceProd" or "ReduceL1" or "ReduceSumSquare" => Arithmetic,
            _ => Floats, // a mean, root or logarithm of integers would be truncated
        });

        int[] shape = ctx.InputShape(0);
        bool[] reduced = ReducedAxes(ctx, shape.Length);
        bool keepDims = ctx.Int("keepdims", 1) != 0;
        int[] output = keepDims
            ? shape.Select((d, a) => reduced[a] ? 1 : d).ToArray()
            : shape.Where((_, a) => !reduced[a]).ToArray();
        ctx.SetOutput(0, ctx.InputType(0), output);
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0), y = ctx.Output(0);
        int[] shape = x.KnownShape;
        bool[] reduced = ReducedAxes(ctx.Reread(), shape.Length);
        string op = ctx.Node.OpType;

        // Drop size-1 axes (they do not move through memory), then merge neighbours that are both reduced or both kept.
        var dims = new List<int>();
        var isReduced = new List<bool>();
        for (int a = 0; a < shape.Length; a++)
        {
            if (shape[a] == 1)
            {
                continue;
            }

            if (dims.Count > 0 && isReduced[^1] == reduced[a])
            {
                dims[^1] *= shape[a];
            }
            else
            {
                dims.Add(shape[a]);
                isReduced.Add(reduced[a]);
            }
        }

        if (!isReduced.Contains(true))
        {
            // Each output element reduces exactly one input element: itself, unless the reduction maps it (|x|, x², log x).
            if (op is not ("ReduceL1" or "ReduceL2" or "ReduceSumSquare" or "ReduceLogSum"))
            {
                ctx.Alias(y, x);
                return;
            }

            if (dims.Count == 0)
            {
                dims.Add(1);
                isReduced.Add(false);
            }
        }

        var yStrides = new int[dims.Count];
        for (int d = dims.Count - 1, stride = 1; d >= 0; d--)
        {
            yStrides[d] = isReduced[d] ? 0 : stride;
            stride *= isReduced[d] ? 1 : dims[d];
        }

        if (op == "ReduceLogSumExp")
        {
            Value max = ctx.Temporary(x.Type, y.KnownShape, "max");
            EmitReduce(ctx, nameof(ReduceOp.Max), x, max, dims, yStrides);
            ctx.Emit(nameof(LogSumExp), [x.Type],
                ctx.In("x", x),
                ctx.In("max", max),
                ctx.Out("y", y),
                PlanArg.IntList("shape", dims.ToArray()),
                PlanArg.IntList("yStrides", yStrides));
            return;
        }

        // The ReduceOp members are named after the operators: ReduceL1 is L1, ReduceSumSquare is SumSquare.
        EmitReduce(ctx, op["Reduce".Length..], x, y, dims, yStrides);
    }

    private static void EmitReduce(LoweringContext ctx, string op, Value x, Value y, List<int> dims, int[] yStrides)
        => ctx.Emit(nameof(Reduce), [x.Type],
            PlanArg.Enum("op", nameof(ReduceOp), op),
            ctx.In("x", x),
            ctx.Out("y", y),
            PlanArg.IntList("shape", dims.ToArray()),
            PlanArg.IntList("yStrides", yStrides));

    /// <summary>Which axes the node reduces; none when it is a no-op (empty axes with noop_with_empty_axes).</summary>
    private static bool[] ReducedAxes(InferenceContext ctx, int rank)
    {
        int axesInputSince = ctx.OpType == "ReduceSum" ? 13 : 18;
        long[]? axes = Axes.AttributeOrInput(ctx, "axes", axesInputSince, 1);
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            // The specification's no-op still maps each element: ReduceSumSquare squares, ReduceL1 takes magnitudes.
            bool noop = ctx.Opset >= axesInputSince && ctx.Int("noop_with_empty_axes", 0) != 0;
            Array.Fill(reduced, !noop);
            return reduced;
        }

        foreach (int a in Axes.NormalizeAll(ctx, axes, rank, "axes"))
        {
            reduced[a] = true;
        }

        return reduced;
    }
}
