using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Einsum (opset 12) with explicit (<c>-&gt;</c>) or implicit output, ellipses, and any number of
/// operands, contracted left to right. Lowered onto existing kernels: labels that only one operand
/// carries and the output drops are summed first (<see cref="Reduce"/>); each pair of operands is
/// arranged by <see cref="Transpose"/> (skipped when the layout already fits) into a batched
/// <see cref="Gemm"/>, or a broadcast <see cref="Binary"/> product when nothing is contracted; the
/// result is permuted into the output order. Size-1 axes are dropped first, as views. A label repeated
/// within one operand (a diagonal) is not supported (MSDK2006). Operands are float32, except that a
/// single operand may be any type when the equation only permutes it, and int32 or int64 when it sums.
/// </summary>
[OnnxOperator("Einsum", MinOpset = 12)]
internal sealed class EinsumOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        Equation e = Equation.Parse(ctx);
        if (ctx.InputCount > 1 || e.Sums(0))
        {
            ElementType[] allowed = ctx.InputCount > 1 ? [ElementType.Float32] : [ElementType.Float32, ElementType.Int32, ElementType.Int64];
            for (int i = 0; i < ctx.InputCount; i++)
            {
                ctx.RequireType(i, allowed);
            }
        }

        ctx.SetOutput(0, ctx.InputType(0), e.Output.Select(l => e.Sizes[l]).ToArray());
    }

    public void Lower(LoweringContext ctx)
    {
        Equation e = Equation.Parse(ctx.Attributes());
        Operand[] squeezed = ctx.Node.Inputs.Select((input, i) => Squeezed(ctx, new Operand(input!, e.Inputs[i]))).ToArray();
        var operands = new List<Operand>();
        for (int i = 0; i < squeezed.Length; i++)
        {
            int[] summed = squeezed[i].Labels
                .Where(l => !e.Output.Contains(l) && !squeezed.Where((_, j) => j != i).Any(other => other.Labels.Contains(l)))
                .ToArray();
            operands.Add(summed.Length == 0 ? squeezed[i] : Sum(ctx, squeezed[i], summed));
        }

        Operand result = operands[0];
        for (int i = 1; i < operands.Count; i++)
        {
            var keep = new HashSet<int>(e.Output);
            foreach (Operand later in operands.Skip(i + 1))
            {
                keep.UnionWith(later.Labels);
            }

            result = Contract(ctx, result, operands[i], keep);
        }

        int[] order = e.Output.Where(result.Labels.Contains).ToArray();
        Value final = ctx.Temporary(result.Value.Type, order.Select(l => e.Sizes[l]).ToArray(), "result");
        TransposeOperator.EmitPermutation(ctx, result.Value, final, result.Value.KnownShape, order.Select(l => Array.IndexOf(result.Labels, l)).ToArray());
        ctx.Alias(ctx.Output(0), final);
    }

    public long CountMacs(Node node)
    {
        if (node.Inputs.Count < 2)
        {
            return 0;
        }

        // Every combination of label values is one multiply (an upper bound beyond two operands).
        Equation e = Equation.Parse(new InferenceContext(node, 12, null));
        return e.Sizes.Values.Aggregate(1L, (p, d) => p * d);
    }

    /// <summary>An intermediate tensor and the label of each of its axes.</summary>
    private sealed record Operand(Value Value, int[] Labels);

    /// <summary>The operand without its size-1 axes (a view): they carry no data, and the output gets them back by its shape.</summary>
    private static Operand Squeezed(LoweringContext ctx, Operand o)
    {
        int[] shape = o.Value.KnownShape;
        if (!shape.Contains(1))
        {
            return o;
        }

        int[] kept = Enumerable.Range(0, shape.Length).Where(a => shape[a] != 1).ToArray();
        return new Operand(View(ctx, o.Value, kept.Select(a => shape[a]).ToArray(), "squeezed"), kept.Select(a => o.Labels[a]).ToArray());
    }

    /// <summary>Sums the axes labelled <paramref name="summed"/>: moves them last, then one reduction over them.</summary>
    private static Operand Sum(LoweringContext ctx, Operand o, int[] summed)
    {
        int[] kept = o.Labels.Where(l => !summed.Contains(l)).ToArray();
        Operand arranged = Arrange(ctx, o, [.. kept, .. summed]);
        int[] shape = o.Value.KnownShape;
        int[] keptShape = kept.Select(l => shape[Array.IndexOf(o.Labels, l)]).ToArray();
        int keptSize = Shapes.ElementCount(keptShape);
        Value y = ctx.Temporary(o.Value.Type, keptShape, "sum");
        ctx.Emit(nameof(Reduce), [o.Value.Type],
            PlanArg.Enum("op", nameof(ReduceOp), nameof(ReduceOp.Sum)),
            ctx.In("x", arranged.Value),
            ctx.Out("y", y),
            PlanArg.IntList("shape", [keptSize, o.Value.ElementCount / Math.Max(1, keptSize)]),
            PlanArg.IntList("yStrides", [1, 0]));
        return new Operand(y, kept);
    }

    /// <summary>
    /// The product of two operands, summed over the labels they share that <paramref name="keep"/>
    /// lacks; the result's labels are the shared kept ones (batch), then A's own, then B's own.
    /// </summary>
    private static Operand Contract(LoweringContext ctx, Operand a, Operand b, HashSet<int> keep)
    {
        int[] batch = a.Labels.Where(l => b.Labels.Contains(l) && keep.Contains(l)).ToArray();
        int[] inner = a.Labels.Where(l => b.Labels.Contains(l) && !keep.Contains(l)).ToArray();
        int[] m = a.Labels.Where(l => !b.Labels.Contains(l)).ToArray();
        int[] n = b.Labels.Where(l => !a.Labels.Contains(l)).ToArray();
        int Size(int[] labels) => labels.Aggregate(1, (p, l) => p * SizeOf(a, b, l));
        int[] resultLabels = [.. batch, .. m, .. n];
        int[] resultShape = resultLabels.Select(l => SizeOf(a, b, l)).ToArray();
        Value y = ctx.Temporary(ElementType.Float32, resultShape, "product");
        if (inner.Length == 0)
        {
            // Nothing to sum: an outer product per batch, y[b, m, n] = a[b, m] · b[b, n], broadcast.
            Operand left = Arrange(ctx, a, [.. batch, .. m]), right = Arrange(ctx, b, [.. batch, .. n]);
            Value leftView = View(ctx, left.Value, [.. left.Value.KnownShape, .. n.Select(_ => 1)], "left");
            Value rightView = View(ctx, right.Value, [.. batch.Select(l => SizeOf(a, b, l)), .. m.Select(_ => 1), .. n.Select(l => SizeOf(a, b, l))], "right");
            BinaryOperator.EmitBroadcast(ctx, BinaryOp.Mul, leftView, rightView, y);
            return new Operand(y, resultLabels);
        }

        // A as [batch, m, k] or [batch, k, m] (transA), B as [batch, k, n] or [batch, n, k] (transB).
        Operand lhs = Arrange(ctx, a, [.. batch, .. m, .. inner], [.. batch, .. inner, .. m]);
        Operand rhs = Arrange(ctx, b, [.. batch, .. inner, .. n], [.. batch, .. n, .. inner]);
        bool transA = !lhs.Labels.SequenceEqual([.. batch, .. m, .. inner]);
        bool transB = !rhs.Labels.SequenceEqual([.. batch, .. inner, .. n]);
        int rows = Size(m), columns = Size(n), depth = Size(inner), heads = Size(batch);
        GemmOperator.Emit(ctx, lhs.Value, rhs.Value, null, y, rows, columns, depth, transA, transB,
            batchShape: [heads], aBatchStrides: [rows * depth], bBatchStrides: [depth * columns]);
        return new Operand(y, resultLabels);
    }

    private static int SizeOf(Operand a, Operand b, int label)
    {
        int i = Array.IndexOf(a.Labels, label);
        return i >= 0 ? a.Value.KnownShape[i] : b.Value.KnownShape[Array.IndexOf(b.Labels, label)];
    }

    /// <summary>The operand in the first of <paramref name="layouts"/> it already has, or transposed into the first.</summary>
    private static Operand Arrange(LoweringContext ctx, Operand o, params int[][] layouts)
    {
        if (layouts.Any(l => l.SequenceEqual(o.Labels)))
        {
            return o;
        }

        int[] target = layouts[0];
        int[] perm = target.Select(l => Array.IndexOf(o.Labels, l)).ToArray();
        Value y = ctx.Temporary(o.Value.Type, perm.Select(a => o.Value.KnownShape[a]).ToArray(), "arranged");
        TransposeOperator.EmitPermutation(ctx, o.Value, y, o.Value.KnownShape, perm);
        return new Operand(y, target);
    }

    private static Value View(LoweringContext ctx, Value value, int[] shape, string role)
    {
        Value view = ctx.Temporary(value.Type, shape, role);
        ctx.Alias(view, value);
        return view;
    }

    /// <summary>
    /// A parsed equation. Labels are ints: the dimensions an ellipsis stands for are 0 … E−1
    /// (right-aligned across operands, as NumPy broadcasts them), letters are 256 + their code.
    /// </summary>
    private sealed record Equation(int[][] Inputs, int[] Output, Dictionary<int, int> Sizes)
    {
        private const int LetterBase = 256;

        /// <summary>Whether operand <paramref name="index"/> has labels that the output drops.</summary>
        public bool Sums(int index) => Inputs[index].Any(l => !Output.Contains(l));

        public static Equation Parse(InferenceContext ctx)
        {
            string text = ctx.Has("equation") ? ctx.String("equation", "") : throw ctx.Error(DiagnosticCodes.InvalidAttribute, "Einsum requires attribute 'equation'.");
            string equation = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
            int arrow = equation.IndexOf("->", StringComparison.Ordinal);
            if (arrow >= 0 && equation.IndexOf("->", arrow + 2, StringComparison.Ordinal) >= 0)
            {
                throw Invalid(ctx, text, "it has more than one '->'");
            }

            string[] terms = (arrow >= 0 ? equation[..arrow] : equation).Split(',');
            if (terms.Length != ctx.InputCount)
            {
                throw Invalid(ctx, text, $"it names {terms.Length} operand(s), but the node has {ctx.InputCount} input(s)");
            }

            var parsed = terms.Select(t => Term(ctx, text, t)).ToArray();
            int ellipsis = 0;
            for (int i = 0; i < terms.Length; i++)
            {
                int rank = ctx.InputShape(i).Length;
                int letters = parsed[i].Letters.Count(c => c != '.');
                if (parsed[i].HasEllipsis ? letters > rank : letters != rank)
                {
                    throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"term '{terms[i]}' of Einsum equation '{text}' does not fit input {i} of shape {Shapes.Format(ctx.InputShape(i))}.", ctx.Input(i).Name);
                }

                ellipsis = Math.Max(ellipsis, rank - letters);
            }

            var inputs = new int[terms.Length][];
            var sizes = new Dictionary<int, int>();
            for (int i = 0; i < terms.Length; i++)
            {
                int[] shape = ctx.InputShape(i);
                int covered = shape.Length - parsed[i].Letters.Count(c => c != '.');
                var labels = new List<int>();
                foreach (char c in parsed[i].Letters)
                {
                    if (c == '.')
                    {
                        labels.AddRange(Enumerable.Range(ellipsis - covered, covered));
                    }
                    else if (labels.Contains(LetterBase + c))
                    {
                        throw ctx.Unsupported($"Einsum equation '{text}' repeats label '{c}' within operand {i} (a diagonal), which is not supported.");
                    }
                    else
                    {
                        labels.Add(LetterBase + c);
                    }
                }

                for (int a = 0; a < labels.Count; a++)
                {
                    int size = shape[a];
                    if (sizes.TryGetValue(labels[a], out int known) && known != size && known != 1 && size != 1)
                    {
                        throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                            $"Einsum equation '{text}' gives {Describe(labels[a])} sizes {known} and {size}, which differ.", ctx.Input(i).Name);
                    }

                    sizes[labels[a]] = Math.Max(known, size);
                }

                inputs[i] = labels.ToArray();
            }

            int[] output = arrow >= 0
                ? OutputLabels(ctx, text, equation[(arrow + 2)..], ellipsis, sizes)
                : [.. Enumerable.Range(0, ellipsis), .. inputs.SelectMany(l => l).Where(l => l >= LetterBase).GroupBy(l => l).Where(g => g.Count() == 1).Select(g => g.Key).Order()];
            return new Equation(inputs, output, sizes);
        }

        private static int[] OutputLabels(InferenceContext ctx, string text, string term, int ellipsis, Dictionary<int, int> sizes)
        {
            var labels = new List<int>();
            foreach (char c in Term(ctx, text, term).Letters)
            {
                if (c == '.')
                {
                    labels.AddRange(Enumerable.Range(0, ellipsis));
                    continue;
                }

                if (!sizes.ContainsKey(LetterBase + c) || labels.Contains(LetterBase + c))
                {
                    throw Invalid(ctx, text, $"output label '{c}' {(labels.Contains(LetterBase + c) ? "is repeated" : "appears in no input")}");
                }

                labels.Add(LetterBase + c);
            }

            return labels.ToArray();
        }

        /// <summary>The letters of a term, with '.' standing for its ellipsis.</summary>
        private static (string Letters, bool HasEllipsis) Term(InferenceContext ctx, string text, string term)
        {
            int at = term.IndexOf("...", StringComparison.Ordinal);
            string letters = at < 0 ? term : term[..at] + "." + term[(at + 3)..];
            if (letters.Count(c => c == '.') > (at < 0 ? 0 : 1) || letters.Any(c => c != '.' && !char.IsAsciiLetter(c)))
            {
                throw Invalid(ctx, text, $"term '{term}' may only hold the letters a-z and A-Z and one '...'");
            }

            return (letters, at >= 0);
        }

        private static string Describe(int label) => label >= LetterBase ? $"label '{(char)(label - LetterBase)}'" : "an ellipsis dimension";

        private static CompileException Invalid(InferenceContext ctx, string text, string reason)
            => ctx.Error(DiagnosticCodes.InvalidAttribute, $"Einsum equation '{text}' is invalid: {reason}.");
    }
}
