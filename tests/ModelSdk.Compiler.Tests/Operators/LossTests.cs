using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class LossTests
{
    // ignore_index: null leaves the attribute out; otherwise about a quarter of the targets take that value.
    [Theory]
    [InlineData(12, new[] { 3, 5 }, "mean", false, null, ElementType.Int64)]
    [InlineData(13, new[] { 3, 5 }, "none", true, null, ElementType.Int32)]
    [InlineData(13, new[] { 7, 3 }, "sum", false, 1L, ElementType.Int64)]
    [InlineData(12, new[] { 2, 4, 7 }, "mean", true, 2L, ElementType.Int32)]
    [InlineData(13, new[] { 2, 4, 7 }, "none", false, -1L, ElementType.Int64)]
    [InlineData(13, new[] { 2, 3, 4, 5 }, "mean", true, -100L, ElementType.Int64)]
    [InlineData(12, new[] { 2, 3, 4, 5 }, "sum", true, 0L, ElementType.Int32)]
    [InlineData(13, new[] { 1, 6, 2, 3, 1, 2 }, "mean", false, 5L, ElementType.Int64)]
    [InlineData(13, new[] { 5, 11, 1, 9 }, "none", true, -7L, ElementType.Int32)]
    public void NegativeLogLikelihoodLoss_matches_onnxruntime(int opset, int[] shape, string reduction, bool weighted, long? ignoreIndex, ElementType targetType)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string t = b.Input("target", targetType, Dims(TargetShape(shape)));
        string? w = weighted ? b.Input("weight", ElementType.Float32, shape[1]) : null;
        b.Output(b.Node("NegativeLogLikelihoodLoss", [x, t, w], Attributes(reduction, ignoreIndex)));

        AssertMatches(b.Build(), [
            ("x", TensorAssert.Random(shape, seed: 3, lo: -4, hi: 0)),
            ("target", Targets(shape, targetType, ignoreIndex)),
            .. weighted ? [("weight", TensorAssert.Random([shape[1]], seed: 5, lo: 0.1f, hi: 2))] : Array.Empty<(string, Tensor)>(),
        ]);
    }

    [Theory]
    [InlineData(12, new[] { 3, 5 }, "mean", true, null, true)]
    [InlineData(13, new[] { 3, 5 }, "none", false, null, false)]
    [InlineData(13, new[] { 4, 9 }, "sum", true, 3L, true)]
    [InlineData(12, new[] { 2, 4, 7 }, "none", true, -1L, true)]
    [InlineData(13, new[] { 2, 4, 37 }, "mean", false, 0L, false)]
    [InlineData(13, new[] { 2, 3, 10, 9 }, "mean", true, -5L, true)] // labels ignored with a negative index and a weight
    [InlineData(12, new[] { 3, 70 }, "sum", false, null, true)] // a long row through the vectorized log-softmax
    [InlineData(13, new[] { 1, 4, 2, 3, 2 }, "none", false, 2L, false)]
    public void SoftmaxCrossEntropyLoss_matches_onnxruntime(int opset, int[] shape, string reduction, bool weighted, long? ignoreIndex, bool logProb)
    {
        foreach (ElementType targetType in new[] { ElementType.Int32, ElementType.Int64 })
        {
            var b = new OnnxModelBuilder(opset);
            string x = b.Input("scores", ElementType.Float32, Dims(shape));
            string t = b.Input("labels", targetType, Dims(TargetShape(shape)));
            string? w = weighted ? b.Input("weights", ElementType.Float32, shape[1]) : null;
            string[] outputs = b.NodeMulti("SoftmaxCrossEntropyLoss", [x, t, w], logProb ? 2 : 1, Attributes(reduction, ignoreIndex));
            foreach (string output in outputs)
            {
                b.Output(output);
            }

            AssertMatches(b.Build(), [
                ("scores", TensorAssert.Random(shape, seed: 7, lo: -3, hi: 3)),
                ("labels", Targets(shape, targetType, ignoreIndex)),
                .. weighted ? [("weights", TensorAssert.Random([shape[1]], seed: 9, lo: 0.1f, hi: 2))] : Array.Empty<(string, Tensor)>(),
            ]);
        }
    }

    [Theory]
    [InlineData("NegativeLogLikelihoodLoss", new[] { 3, 5 }, "mean")]
    [InlineData("NegativeLogLikelihoodLoss", new[] { 2, 3, 4, 5 }, "none")]
    [InlineData("SoftmaxCrossEntropyLoss", new[] { 3, 5 }, "sum")]
    [InlineData("SoftmaxCrossEntropyLoss", new[] { 2, 3, 70 }, "mean")] // 70 inner positions: a full chunk and a partial one
    [InlineData("SoftmaxCrossEntropyLoss", new[] { 2, 6, 3 }, "none")]
    public void Double_losses_match_onnxruntime(string op, int[] shape, string reduction)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float64, Dims(shape));
        string t = b.Input("target", ElementType.Int64, Dims(TargetShape(shape)));
        string w = b.Input("weight", ElementType.Float64, shape[1]);
        string[] outputs = b.NodeMulti(op, [x, t, w], op == "SoftmaxCrossEntropyLoss" ? 2 : 1, Attributes(reduction, 1));
        foreach (string output in outputs)
        {
            b.Output(output, ElementType.Float64);
        }

        AssertMatches(b.Build(), [
            ("x", Random(ElementType.Float64, shape, seed: 11)),
            ("target", Targets(shape, ElementType.Int64, 1)),
            ("weight", Random(ElementType.Float64, [shape[1]], seed: 13)),
        ], tolerance: 1e-12);
    }

    [Theory]
    [InlineData("NegativeLogLikelihoodLoss", "mean")]
    [InlineData("SoftmaxCrossEntropyLoss", "none")]
    public void Float16_losses_match_onnxruntime(string op, string reduction)
    {
        int[] shape = [3, 4, 5];
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float16, Dims(shape));
        string t = b.Input("target", ElementType.Int64, Dims(TargetShape(shape)));
        b.Output(b.Node(op, [x, t], Attributes(reduction, 0)), ElementType.Float16);

        AssertMatches(b.Build(), [("x", Random(ElementType.Float16, shape, seed: 4)), ("target", Targets(shape, ElementType.Int64, 0))], tolerance: 1e-3);
    }

    [Fact]
    public void Mean_over_only_ignored_targets_is_nan_like_onnxruntime()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string t = b.Input("target", ElementType.Int64, 2);
        b.Output(b.Node("NegativeLogLikelihoodLoss", [x, t], ("ignore_index", -1L)));
        byte[] model = b.Build();
        (string, Tensor)[] inputs = [("x", TensorAssert.Random([2, 3])), ("target", Tensor.FromInt64s([2], -1, -1))];

        float expected = OrtReference.Run(model, inputs)[0].Span<float>()[0];
        float actual = ModelRunner.Run(model, inputs.Select(i => i.Item2).ToList())[0].Span<float>()[0];

        Assert.True(float.IsNaN(expected));
        Assert.True(float.IsNaN(actual));
    }

    [Fact]
    public void Constant_inputs_fold_and_a_target_out_of_range_fails_at_run_time()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Initializer("x", [2, 3], [-1, -2, -3, -4, -5, -6]);
        string t = b.Initializer("target", Tensor.FromInt64s([2], 2, 0));
        b.Output(b.Node("NegativeLogLikelihoodLoss", [x, t], ("reduction", "sum")));
        byte[] constant = b.Build();
        Assert.DoesNotContain(ModelRunner.Compile(constant).Plan!.Steps, s => s.Kernel == "NegativeLogLikelihood");
        Assert.Equal(7f, ModelRunner.Run(constant, [])[0].Span<float>()[0]); // -x[0,2] - x[1,0] = 3 + 4

        var r = new OnnxModelBuilder(13);
        string scores = r.Input("scores", ElementType.Float32, 2, 3);
        string labels = r.Input("labels", ElementType.Int32, 2);
        r.Output(r.Node("SoftmaxCrossEntropyLoss", [scores, labels], ("ignore_index", 3L)));
        byte[] model = r.Build();
        Tensor ok = Tensor.From<int>(ElementType.Int32, [2], [3, 1]); // 3 is out of range, but ignored
        AssertMatches(model, [("scores", TensorAssert.Random([2, 3])), ("labels", ok)]);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ModelRunner.Run(model, [TensorAssert.Random([2, 3]), Tensor.From<int>(ElementType.Int32, [2], [4, 1])]));
    }

    [Fact]
    public void Bad_loss_nodes_get_msdk_diagnostics()
    {
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error("NegativeLogLikelihoodLoss", [2, 3, 4], [2, 3], null, ElementType.Float32));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error("SoftmaxCrossEntropyLoss", [2, 3], [2], [4], ElementType.Float32));
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error("NegativeLogLikelihoodLoss", [6], [6], null, ElementType.Float32));
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error("SoftmaxCrossEntropyLoss", [2, 3], [2], null, ElementType.Float32, ("reduction", "average")));
        Assert.Equal(DiagnosticCodes.UnsupportedType, Error("NegativeLogLikelihoodLoss", [2, 3], [2], null, ElementType.Int32));
        Assert.Equal(DiagnosticCodes.UnsupportedAttribute, Error("SoftmaxCrossEntropyLoss", [2, 3], [2], null, ElementType.Float32, ("ignore_index", 1L << 40)));

        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node("NegativeLogLikelihoodLoss", [x, b.Input("t", ElementType.Int64, 2)]));
        Assert.Equal(DiagnosticCodes.UnsupportedOperator, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Steps_of_the_family_name_their_kernel_parameters_in_order()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string t = b.Input("t", ElementType.Int64, 2, 4);
        b.Output(b.Node("NegativeLogLikelihoodLoss", [x, t, b.Input("w", ElementType.Float32, 3)]));
        b.Output(b.Node("SoftmaxCrossEntropyLoss", [x, t], ("reduction", "none")));

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(b.Build()).Plan!.Steps;

        Assert.Equal(["NegativeLogLikelihood", "SoftmaxCrossEntropy"], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    private static Diagnostic ErrorOf(byte[] model) => ModelRunner.CompileError(model);

    private static string Error(string op, int[] shape, int[] target, int[]? weight, ElementType type, params (string, object)[] attributes)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", type, Dims(shape));
        string t = b.Input("t", ElementType.Int64, Dims(target));
        string? w = weight is null ? null : b.Input("w", type, Dims(weight));
        b.Output(b.Node(op, [x, t, w], attributes), type);
        return ErrorOf(b.Build()).Code;
    }

    private static (string, object)[] Attributes(string reduction, long? ignoreIndex)
        => ignoreIndex is { } ii ? [("reduction", reduction), ("ignore_index", ii)] : [("reduction", reduction)];

    private static int[] TargetShape(int[] shape) => [shape[0], .. shape[2..]];

    /// <summary>Classes in [0, C), about a quarter replaced by <paramref name="ignoreIndex"/> when it is set.</summary>
    private static Tensor Targets(int[] shape, ElementType type, long? ignoreIndex, int seed = 2)
    {
        var rng = new Random(seed);
        long[] values = Enumerable.Range(0, Shapes.ElementCount(TargetShape(shape)))
            .Select(_ => ignoreIndex is { } ii && rng.Next(4) == 0 ? ii : rng.Next(shape[1]))
            .ToArray();
        return type == ElementType.Int64
            ? Tensor.FromInt64s(TargetShape(shape), values)
            : Tensor.From<int>(ElementType.Int32, TargetShape(shape), values.Select(v => (int)v).ToArray());
    }
}
