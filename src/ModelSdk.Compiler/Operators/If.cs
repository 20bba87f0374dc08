using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// If: when the condition is known at compile time (often once input shapes are fixed), the chosen
/// branch replaces the node and folds like any other code. Otherwise both branches are compiled into
/// the plan as a conditional block, each writing the node's outputs; only one runs. The branches must
/// then agree on output types and shapes, since every shape is static.
/// </summary>
[OnnxOperator("If")]
internal sealed class IfOperator : IOperator, IInliningOperator
{
    public IReadOnlyList<Node>? Inline(InferenceContext ctx)
    {
        Value condition = ctx.Input(0);
        if (condition.Constant is not { } c)
        {
            return null;
        }

        if (c.ElementCount != 1)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the condition of If must have one element, but it has {c.ElementCount}.", condition.Name);
        }

        Graph branch = Branch(ctx, c.ToInt64s()[0] != 0 ? "then_branch" : "else_branch");
        CheckOutputCount(ctx, branch);
        var nodes = new List<Node>(branch.Nodes);
        for (int i = 0; i < branch.Outputs.Count; i++)
        {
            // The If's outputs keep their names (and consumers): each becomes a view of the branch result.
            Value output = ctx.Node.Outputs[i];
            var identity = new Node($"{ctx.Node.Name}/output_{i}", "Identity", string.Empty, [branch.Outputs[i]], [output], new Dictionary<string, Attribute>());
            output.Producer = identity;
            nodes.Add(identity);
        }

        return nodes;
    }

    public void Infer(InferenceContext ctx)
    {
        ctx.RequireType(0, ElementType.Bool);
        if (ctx.Input(0).ElementCount != 1)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, "the condition of If must have one element.", ctx.Input(0).Name);
        }

        Graph then = Branch(ctx, "then_branch"), otherwise = Branch(ctx, "else_branch");
        CheckOutputCount(ctx, then);
        CheckOutputCount(ctx, otherwise);
        ctx.InferSubgraph(then);
        ctx.InferSubgraph(otherwise);
        for (int i = 0; i < ctx.OutputCount; i++)
        {
            Value a = then.Outputs[i], b = otherwise.Outputs[i];
            if (a.Type != b.Type || !Shapes.Equal(a.KnownShape, b.KnownShape))
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"output {i} of If is {a.Type.ToPlanName()}{Shapes.Format(a.KnownShape)} in then_branch but {b.Type.ToPlanName()}{Shapes.Format(b.KnownShape)} in else_branch; " +
                    "ModelSdk compiles static shapes, so both branches must agree (or the condition must be known at compile time).", ctx.Node.Outputs[i].Name);
            }

            ctx.SetOutput(i, a.Type, a.KnownShape);
        }
    }

    public void Lower(LoweringContext ctx)
    {
        ctx.EmitControl(PlanStep.If(ctx.IdOf(ctx.Input(0)), ctx.Node.Name, ctx.Node.OpType));
        LowerBranch(ctx, Branch(ctx.Node, "then_branch"));
        ctx.EmitControl(PlanStep.Else(ctx.Node.Name, ctx.Node.OpType));
        LowerBranch(ctx, Branch(ctx.Node, "else_branch"));
        ctx.EmitControl(PlanStep.EndIf(ctx.Node.Name, ctx.Node.OpType));
    }

    public long CountMacs(Node node)
        => Math.Max(BranchMacs(Branch(node, "then_branch")), BranchMacs(Branch(node, "else_branch")));

    private static long BranchMacs(Graph g) => Reports.GraphStatistics.Totals(g, OperatorRegistry.Default).Macs;

    /// <summary>Computes the branch, then copies its results into the If's outputs (which both branches share).</summary>
    private static void LowerBranch(LoweringContext ctx, Graph branch)
    {
        ctx.LowerSubgraph(branch);
        for (int i = 0; i < branch.Outputs.Count; i++)
        {
            Value result = branch.Outputs[i], output = ctx.Output(i);
            ctx.Emit(nameof(Copy), [result.Type], ctx.In("x", result), ctx.Out("y", output));
        }
    }

    private static Graph Branch(InferenceContext ctx, string name)
        => Branch(ctx.Node, name) ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"If requires the graph attribute '{name}'.");

    private static Graph Branch(Node node, string name)
        => node.Attributes.TryGetValue(name, out Attribute? a) && a.Graph is { } g ? g : null!;

    private static void CheckOutputCount(InferenceContext ctx, Graph branch)
    {
        if (branch.Outputs.Count != ctx.OutputCount)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"If has {ctx.OutputCount} outputs but its branch '{branch.Name}' has {branch.Outputs.Count}.");
        }
    }
}
