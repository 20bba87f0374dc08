using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Transpose (perm defaults to reversing the axes), lowered onto <see cref="Runtime.Kernels.Transpose"/>
/// over the fewest dimensions the permutation allows, or to a view when it only moves size-1 axes.
/// </summary>
[OnnxOperator("Transpose")]
internal sealed class TransposeOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] shape = ctx.InputShape(0);
        int[] perm = Permutation(ctx, shape.Length);
        ctx.SetOutput(0, ctx.InputType(0), perm.Select(a => shape[a]).ToArray());
    }

    public void Lower(LoweringContext ctx)
    {
        Value x = ctx.Input(0);
        EmitPermutation(ctx, x, ctx.Output(0), x.KnownShape, Permutation(ctx.Reread(), x.KnownShape.Length));
    }

    /// <summary>
    /// Emits <paramref name="y"/> = <paramref name="x"/>, viewed in <paramref name="inputShape"/> (any factoring of its
    /// elements), with axes permuted by <paramref name="permutation"/>; a view when the order of elements does not change.
    /// </summary>
    internal static void EmitPermutation(LoweringContext ctx, Value x, Value y, int[] inputShape, int[] permutation)
    {
        (int[] shape, int[] perm) = Collapse(inputShape, permutation);
        bool identity = perm.Select((a, k) => a == k).All(same => same);
        if (identity || y.ElementCount == 0)
        {
            ctx.Alias(y, x);
            return;
        }

        int[] strides = Shapes.Strides(shape);
        ctx.Emit(nameof(Runtime.Kernels.Transpose), [x.Type],
            ctx.In("x", x),
            ctx.Out("y", y),
            PlanArg.IntList("shape", perm.Select(a => shape[a]).ToArray()),
            PlanArg.IntList("xStrides", perm.Select(a => strides[a]).ToArray()));
    }

    private static int[] Permutation(InferenceContext ctx, int rank)
    {
        long[]? perm = ctx.Ints("perm");
        if (perm is null)
        {
            return Enumerable.Range(0, rank).Reverse().ToArray();
        }

        bool valid = perm.Length == rank && perm.All(a => a >= 0 && a < rank) && perm.Distinct().Count() == rank;
        if (!valid)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"perm [{string.Join(",", perm)}] of Transpose is not a permutation of the {rank} axes of {Shapes.Format(ctx.InputShape(0))}.");
        }

        return perm.Select(a => (int)a).ToArray();
    }

    /// <summary>
    /// Drops size-1 axes and merges input axes that stay adjacent and in order in the output; returns the
    /// collapsed input shape and the permutation over it.
    /// </summary>
    internal static (int[] Shape, int[] Perm) Collapse(int[] shape, int[] perm)
    {
        var kept = new int[shape.Length];
        int count = 0;
        for (int a = 0; a < shape.Length; a++)
        {
            kept[a] = shape[a] == 1 ? -1 : count++;
        }

        // Runs of consecutive (kept) input axes, in output order.
        var runs = new List<(int First, int Last)>();
        foreach (int a in perm)
        {
            if (kept[a] < 0)
            {
                continue;
            }

            if (runs.Count > 0 && runs[^1].Last + 1 == kept[a])
            {
                runs[^1] = (runs[^1].First, kept[a]);
            }
            else
            {
                runs.Add((kept[a], kept[a]));
            }
        }

        int[] keptShape = shape.Where(d => d != 1).ToArray();
        var inInputOrder = runs.OrderBy(r => r.First).ToList();
        int[] collapsed = inInputOrder.Select(r => Shapes.Product(keptShape, r.First, r.Last + 1)).ToArray();
        int[] collapsedPerm = runs.Select(r => inInputOrder.IndexOf(r)).ToArray();
        return (collapsed, collapsedPerm);
    }
}
