using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// ReduceSum (float32, int32, int64) and ReduceMean (float32). The axes are an attribute until
/// ReduceSum-13 / ReduceMean-18 and an optional constant input from then, which also brings
/// noop_with_empty_axes; no axes means every axis. Lowered onto <see cref="Reduce"/>, or to a view
/// when every reduced axis has size 1.
/// </summary>
[OnnxOperator("ReduceSum")]
[OnnxOperator("ReduceMean")]
internal sealed class ReduceOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        if (ctx.OpType == "ReduceSum")
        {
            ctx.RequireType(0, ElementType.Float32, ElementType.Int32, ElementType.Int64);
        }
        else
        {
            ctx.RequireType(0, ElementType.Float32);
        }

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
            // Each output element is the sum (or mean) of exactly one input element.
            ctx.Alias(y, x);
            return;
        }

        var yStrides = new int[dims.Count];
        for (int d = dims.Count - 1, stride = 1; d >= 0; d--)
        {
            yStrides[d] = isReduced[d] ? 0 : stride;
            stride *= isReduced[d] ? 1 : dims[d];
        }

        ctx.Emit(nameof(Reduce), [x.Type],
            PlanArg.Enum("op", nameof(ReduceOp), ctx.Node.OpType == "ReduceSum" ? nameof(ReduceOp.Sum) : nameof(ReduceOp.Mean)),
            ctx.In("x", x),
            ctx.Out("y", y),
            PlanArg.IntList("shape", dims.ToArray()),
            PlanArg.IntList("yStrides", yStrides));
    }

    /// <summary>Which axes the node reduces; none when it is a no-op (empty axes with noop_with_empty_axes).</summary>
    private static bool[] ReducedAxes(InferenceContext ctx, int rank)
    {
        int axesInputSince = ctx.OpType == "ReduceSum" ? 13 : 18;
        long[]? axes = Axes.AttributeOrInput(ctx, "axes", axesInputSince, 1);
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
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
