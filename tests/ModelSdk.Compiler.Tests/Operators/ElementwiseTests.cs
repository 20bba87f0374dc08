using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class ElementwiseTests
{
    [Theory]
    [InlineData("Add", new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData("Sub", new[] { 2, 1, 4 }, new[] { 3, 1 })]
    [InlineData("Mul", new[] { 1 }, new[] { 2, 3 })]
    [InlineData("Div", new[] { 2, 3, 4, 5 }, new[] { 1, 3, 1, 5 })]
    [InlineData("Pow", new[] { 3, 4 }, new[] { 3, 4 })]
    public void Broadcast_binary_matches_onnxruntime(string op, int[] aShape, int[] bShape)
    {
        var b = new OnnxModelBuilder();
        string a = b.Input("a", ElementType.Float32, aShape.Select(d => (int?)d).ToArray());
        string c = b.Input("b", ElementType.Float32, bShape.Select(d => (int?)d).ToArray());
        b.Output(b.Node(op, [a, c]));
        byte[] model = b.Build();
        Tensor x = TensorAssert.Random(aShape, 1, 0.5f, 2), y = TensorAssert.Random(bShape, 2, 0.5f, 2);

        Tensor[] actual = ModelRunner.Run(model, [x, y]);
        Tensor[] expected = OrtReference.Run(model, [("a", x), ("b", y)]);

        TensorAssert.Close(expected[0], actual[0]);
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Exp")]
    [InlineData("Neg")]
    [InlineData("Abs")]
    [InlineData("Erf")]
    [InlineData("LeakyRelu")]
    public void Unary_matches_onnxruntime(string op)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 3, 37);
        b.Output(b.Node(op, [x]));
        byte[] model = b.Build();
        Tensor input = TensorAssert.Random([3, 37], 3, -3, 3);

        TensorAssert.Close(OrtReference.Run(model, [("x", input)])[0], ModelRunner.Run(model, [input])[0], 1e-6);
    }

    [Fact]
    public void Constant_subgraph_is_folded_away()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 4);
        string c1 = b.Initializer("c1", [4], [1, 2, 3, 4]);
        string c2 = b.Initializer("c2", [4], [10, 20, 30, 40]);
        string sum = b.Node("Add", [c1, c2]);
        b.Output(b.Node("Mul", [x, sum]));

        CompileResult compiled = ModelRunner.Compile(b.Build());

        PlanStep step = Assert.Single(compiled.Plan!.Steps);
        Assert.Equal("Mul", step.OpType);
        Tensor[] y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([4], 1, 1, 1, 1)]);
        Assert.Equal(new float[] { 11, 22, 33, 44 }, y[0].Span<float>().ToArray());
    }
}
