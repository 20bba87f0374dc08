using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class ControlFlowTests
{
    /// <summary>then: relu(x) + w;  else: x * 2 — both read the enclosing graph's x and w.</summary>
    private static (GraphProto Then, GraphProto Else) Branches(int[]? elseShape = null)
    {
        var then = new OnnxModelBuilder();
        then.Output(then.Node("Add", [then.Node("Relu", ["x"]), "w"]));
        var otherwise = new OnnxModelBuilder();
        string two = otherwise.Initializer("two", elseShape ?? [1], elseShape is null ? [2f] : Enumerable.Repeat(2f, Shapes.ElementCount(elseShape)).ToArray());
        otherwise.Output(otherwise.Node(elseShape is null ? "Mul" : "Add", elseShape is null ? ["x", two] : [two, two]));
        return (then.Subgraph("then"), otherwise.Subgraph("else"));
    }

    [Fact]
    public void If_with_a_run_time_condition_runs_the_chosen_branch()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string cond = b.Input("cond", ElementType.Bool);
        b.Initializer("w", TensorAssert.Random([3], 4));
        (GraphProto then, GraphProto otherwise) = Branches();
        b.Output(b.Node("If", [cond], ("then_branch", then), ("else_branch", otherwise)));
        byte[] model = b.Build();
        Tensor input = TensorAssert.Random([2, 3], 9);

        foreach (byte flag in new byte[] { 1, 0 })
        {
            Tensor c = Tensor.From<byte>(ElementType.Bool, [], [flag]);
            OrtAgreement.AssertMatches(model, [("x", input), ("cond", c)]);
        }

        Assert.Contains(ModelRunner.Compile(model).Plan!.Steps, s => s.Kind == StepKind.If);
    }

    [Fact]
    public void If_with_a_constant_condition_is_replaced_by_its_branch()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Initializer("w", TensorAssert.Random([3], 4));
        // A condition computed from constants folds before the If is reached.
        string cond = b.Node("Identity", [b.Initializer("flag", Tensor.From<byte>(ElementType.Bool, [], [1]))]);
        (GraphProto then, GraphProto otherwise) = Branches();
        b.Output(b.Node("If", [cond], ("then_branch", then), ("else_branch", otherwise)));
        byte[] model = b.Build();

        CompileResult compiled = ModelRunner.Compile(model);

        Assert.DoesNotContain(compiled.Plan!.Steps, s => s.Kind != StepKind.Call);
        Assert.Equal(["Relu", "Add"], compiled.Plan.Steps.Select(s => s.OpType));
        Tensor input = TensorAssert.Random([2, 3], 9);
        OrtAgreement.AssertMatches(model, [("x", input)]);
    }

    [Fact]
    public void Branches_with_different_shapes_need_a_constant_condition()
    {
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 2, 3);
        string cond = b.Input("cond", ElementType.Bool);
        b.Initializer("w", TensorAssert.Random([3], 4));
        (GraphProto then, GraphProto otherwise) = Branches(elseShape: [4]);
        b.Output(b.Node("If", [cond], ("then_branch", then), ("else_branch", otherwise)));

        Diagnostic d = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.ShapeMismatch, d.Code);
        Assert.Contains("both branches must agree", d.Message);
    }

    [Fact]
    public void A_branch_reading_an_undefined_name_is_reported()
    {
        var then = new OnnxModelBuilder();
        then.Output(then.Node("Relu", ["nowhere"]));
        var otherwise = new OnnxModelBuilder();
        otherwise.Output(otherwise.Node("Relu", ["x"]));
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 2);
        string cond = b.Input("cond", ElementType.Bool);
        b.Output(b.Node("If", [cond], ("then_branch", then.Subgraph("t")), ("else_branch", otherwise.Subgraph("e"))));

        Diagnostic d = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.UndefinedTensor, d.Code);
        Assert.Equal("nowhere", d.Tensor);
    }

    [Fact]
    public void Nested_If_runs_through_the_executor()
    {
        byte[] model = TestModels.NestedIf();
        Tensor x = Tensor.FromFloats([5], -2, -1, 0, 1, 2);

        foreach ((byte c1, byte c2) in new[] { ((byte)1, (byte)1), ((byte)1, (byte)0), ((byte)0, (byte)1) })
        {
            OrtAgreement.AssertMatches(model, [("x", x), ("c1", Tensor.From<byte>(ElementType.Bool, [], [c1])), ("c2", Tensor.From<byte>(ElementType.Bool, [], [c2]))]);
        }
    }
}
