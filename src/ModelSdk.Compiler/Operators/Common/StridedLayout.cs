using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators.Common;

/// <summary>
/// Lowering of operators whose output is a strided view of their input (Slice, Split, Expand, Tile):
/// one <see cref="Runtime.Kernels.StridedCopy"/> step over the fewest dimensions, or a view when the
/// output is the input unchanged.
/// </summary>
internal static class StridedLayout
{
    /// <summary>
    /// Drops size-1 dimensions and merges a dimension into the one before it where the input walks both
    /// as one run (<c>strides[d-1] == strides[d] · shape[d]</c>, which also merges two broadcast dimensions).
    /// </summary>
    public static (int[] Shape, int[] Strides) Collapse(int[] shape, int[] strides)
    {
        var dims = new List<int>();
        var steps = new List<int>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1)
            {
                continue;
            }

            if (dims.Count > 0 && (long)steps[^1] == (long)strides[d] * shape[d])
            {
                dims[^1] *= shape[d];
                steps[^1] = strides[d];
                continue;
            }

            dims.Add(shape[d]);
            steps.Add(strides[d]);
        }

        return dims.Count == 0 ? ([1], [0]) : (dims.ToArray(), steps.ToArray());
    }

    /// <summary>
    /// Emits <c>y = x[offset + Σ i_d · strides[d]]</c> over <paramref name="shape"/> (the output's shape in
    /// any equivalent factoring). Nothing for an output already known (empty); a view when it is <paramref name="x"/> itself.
    /// </summary>
    public static void EmitCopy(LoweringContext ctx, Value x, Value y, int[] shape, int[] strides, int offset)
    {
        if (y.IsConstant)
        {
            return;
        }

        (int[] dims, int[] steps) = Collapse(shape, strides);
        bool whole = offset == 0 && y.ElementCount == x.ElementCount && (x.ElementCount == 1 || (dims.Length == 1 && steps[0] == 1));
        if (whole)
        {
            ctx.Alias(y, x);
            return;
        }

        ctx.Emit(nameof(Runtime.Kernels.StridedCopy), [x.Type],
            ctx.In("x", x),
            ctx.Out("y", y),
            PlanArg.IntList("shape", dims),
            PlanArg.IntList("xStrides", steps),
            PlanArg.Int("xOffset", offset));
    }

    /// <summary>Marks an empty output as known: it needs no step, and nothing would ever write it.</summary>
    public static void SetEmptyConstant(InferenceContext ctx, int output)
    {
        Value v = ctx.Node.Outputs[output];
        if (v.Name.Length > 0 && Shapes.ElementCount(v.KnownShape) == 0)
        {
            ctx.SetOutputConstant(output, new Tensor(v.Type, v.KnownShape, []));
        }
    }
}
