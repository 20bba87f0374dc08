using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Small models shared by the compiler and generator tests.</summary>
public static class TestModels
{
    /// <summary>
    /// If c1 then (If c2 then −x else |x|) else relu(x), over x float32 [5] and scalar bool conditions:
    /// nested conditionals whose branches read the enclosing graph's x.
    /// </summary>
    public static byte[] NestedIf()
    {
        var innerThen = new OnnxModelBuilder();
        innerThen.Output(innerThen.Node("Neg", ["x"]));
        var innerElse = new OnnxModelBuilder();
        innerElse.Output(innerElse.Node("Abs", ["x"]));
        var outerThen = new OnnxModelBuilder();
        outerThen.Output(outerThen.Node("If", ["c2"], ("then_branch", innerThen.Subgraph("it")), ("else_branch", innerElse.Subgraph("ie"))));
        var outerElse = new OnnxModelBuilder();
        outerElse.Output(outerElse.Node("Relu", ["x"]));
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 5);
        b.Input("c1", ElementType.Bool);
        b.Input("c2", ElementType.Bool);
        b.Output(b.Node("If", ["c1"], ("then_branch", outerThen.Subgraph("ot")), ("else_branch", outerElse.Subgraph("oe"))));
        return b.Build();
    }
}
