using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Tests.Kernels;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Passes;

/// <summary>The elementwise chain fusion pass and its kernel: what fuses, what stops a chain, and that nothing changes numerically.</summary>
public sealed class ElementwiseChainTests : IDisposable
{
    public void Dispose() => Simd.Forced = SimdWidth.Auto;

    private static string[] Kernels(byte[] model) => PassHarness.Kernels(model);

    [Theory]
    [InlineData(new[] { 1, 3, 17, 19 })]  // 969 elements: one partial block
    [InlineData(new[] { 2, 3, 37, 41 })]  // 9,102: several blocks and a vector tail
    [InlineData(new[] { 1, 8, 96, 96 })]  // 73,728: enough to split over workers
    public void A_normalize_then_swish_chain_is_one_step_and_agrees_with_onnxruntime(int[] shape)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        string centred = b.Node("Sub", [x, b.Initializer("mean", Tensor.FromFloats([], 0.25f))]);
        string scaled = b.Node("Mul", [b.Initializer("scale", Tensor.FromFloats([], 1.5f)), centred]);
        string shifted = b.Node("Add", [scaled, b.Initializer("shift", Tensor.FromFloats([], -0.125f))]);
        string gate = b.Node("Sigmoid", [shifted]);
        b.Output(b.Node("Mul", [gate, x]));
        byte[] model = b.Build();

        Assert.Equal(["ElementwiseChain"], Kernels(model));
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random(shape, 3, -4, 4))]);
    }

    [Fact]
    public void Reversed_operands_tensor_operands_and_unary_parameters_keep_their_meaning()
    {
        int[] shape = [3, 5, 7];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        string p = b.Input("p", ElementType.Float32, OrtAgreement.Dims(shape));
        string q = b.Input("q", ElementType.Float32, OrtAgreement.Dims(shape));
        string v = b.Node("Sub", [b.Initializer("two", Tensor.FromFloats([], 2f)), x]);        // 2 − x
        v = b.Node("Div", [b.Initializer("one", Tensor.FromFloats([], 1f)), b.Node("Abs", [v])]); // 1 / |·|
        v = b.Node("Add", [p, v]);
        v = b.Node("Sub", [q, v]);                                                                // q − ·
        v = b.Node("LeakyRelu", [v], ("alpha", 0.3f));
        v = b.Node("Div", [v, p]);
        v = b.Node("HardSigmoid", [v], ("alpha", 0.3f), ("beta", 0.4f));
        v = b.Node("Clip", [v, b.Initializer("lo", Tensor.FromFloats([], 0.1f)), b.Initializer("hi", Tensor.FromFloats([], 0.6f))]);
        b.Output(b.Node("Mul", [v, x]));
        byte[] model = b.Build();

        Assert.Equal(["ElementwiseChain"], Kernels(model));
        Tensor positive = Tensor.FromFloats(shape, TensorAssert.Random(shape, 9, 0.5f, 2).ToFloats());
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random(shape, 7, -3, 3)), ("p", positive), ("q", TensorAssert.Random(shape, 8))]);
    }

    [Fact]
    public void A_third_tensor_operand_a_shared_value_and_a_graph_output_end_the_chain()
    {
        int[] shape = [4, 33];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, OrtAgreement.Dims(shape));
        string p = b.Input("p", ElementType.Float32, OrtAgreement.Dims(shape));
        string q = b.Input("q", ElementType.Float32, OrtAgreement.Dims(shape));
        string r = b.Input("r", ElementType.Float32, OrtAgreement.Dims(shape));
        string v = b.Node("Mul", [b.Node("Add", [b.Node("Tanh", [x]), p]), q]);
        string shared = b.Node("Add", [v, r]);            // a third tensor: starts a new chain
        string exp = b.Node("Exp", [shared]);
        string neg = b.Node("Neg", [shared]);               // `shared` is read twice
        string visible = b.Node("Sqrt", [b.Node("Abs", [exp])]);
        b.Output(visible);                                  // a graph output stays a tensor of its own
        b.Output(b.Node("Relu", [b.Node("Mul", [visible, neg])]));
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new ElementwiseChainFusionPass());

        // Tanh·Add p·Mul q fuse, and stop at the third tensor r; Add r stays alone (its output is read twice);
        // Exp·Abs·Sqrt fuse up to the graph output; Neg·Mul·Relu fuse, reading the graph output as a tensor.
        Assert.Equal(3, after.Split('\n').Count(l => l.Contains("ElementwiseChain(", StringComparison.Ordinal)));
        Assert.Contains($"{visible}: float32[4,33] = modelsdk.fused.ElementwiseChain(", after);
        Assert.Equal(["ElementwiseChain", "Binary", "ElementwiseChain", "ElementwiseChain"], Kernels(model));
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random(shape, 1)), ("p", TensorAssert.Random(shape, 2)), ("q", TensorAssert.Random(shape, 3)), ("r", TensorAssert.Random(shape, 4))]);
    }

    [Fact]
    public void An_activation_after_a_conv_goes_into_its_store_and_the_rest_becomes_a_chain()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3, 9, 11);
        string conv = b.Node("Conv", [x, b.Initializer("w", TensorAssert.Random([4, 3, 3, 3], 2))], ("pads", new[] { 1, 1, 1, 1 }));
        string v = b.Node("Relu", [conv]);
        v = b.Node("Mul", [v, b.Initializer("s", Tensor.FromFloats([], 0.5f))]);
        b.Output(b.Node("Add", [v, b.Initializer("t", Tensor.FromFloats([], 1f))]));
        byte[] model = b.Build();

        Assert.Equal(["Conv+Relu", "ElementwiseChain"], PassHarness.KernelsWithActivations(model));
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random([1, 3, 9, 11], 1, -2, 2))]);
    }

    [Fact]
    public void Clip_of_opset_6_with_attribute_bounds_is_a_step_too()
    {
        var b = new OnnxModelBuilder(6);
        string x = b.Input("x", ElementType.Float32, 2, 50);
        string v = b.Node("Clip", [b.Node("Exp", [x])], ("min", 0.5f), ("max", 3f));
        b.Output(b.Node("Log", [v]));
        byte[] model = b.Build();

        Assert.Equal(["ElementwiseChain"], Kernels(model));
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random([2, 50], 5, -2, 2))]);
    }

    /// <summary>The kernel gives bit for bit what the unfused Unary and Binary kernels give, in place or not, split or not.</summary>
    [Theory]
    [MemberData(nameof(VectorWidthTests.WidthsAndThreads), MemberType = typeof(VectorWidthTests))]
    public void The_kernel_equals_the_unfused_kernels_bit_for_bit(int width, int threads)
    {
        Simd.Forced = width switch { 128 => SimdWidth.W128, 256 => SimdWidth.W256, _ => SimdWidth.W512 };
        using var context = new KernelContext(threads);
        const int N = 150_001;
        var random = new Random(width + threads);
        float[] x = Values(random, N), p = Values(random, N), q = Values(random, N);
        int[] steps =
        [
            (int)ChainStepKind.Unary, (int)UnaryOp.Tanh, 0,
            (int)ChainStepKind.Binary, (int)BinaryOp.Mul, (int)ChainOperand.B,
            (int)ChainStepKind.ReversedBinary, (int)BinaryOp.Sub, (int)ChainOperand.Scalar,
            (int)ChainStepKind.Binary, (int)BinaryOp.Add, (int)ChainOperand.Input,
            (int)ChainStepKind.Unary, (int)UnaryOp.HardSigmoid, 0,
            (int)ChainStepKind.ReversedBinary, (int)BinaryOp.Div, (int)ChainOperand.C,
            (int)ChainStepKind.Unary, (int)UnaryOp.Cos, 0, // no vector form: the scalar definition
        ];
        float[] parameters = [0, 0, 0, 0, 0.75f, 0, 0, 0, 0.3f, 0.45f, 0, 0, 0, 0];

        float[] fused = new float[N];
        ElementwiseChain.Run(x, p, q, fused, steps, parameters, context);

        float[] expected = new float[N], t = new float[N];
        int[] all = [N];
        int[] unit = [1];
        Unary.Run<float>(UnaryOp.Tanh, x, t, 0, 0, KernelContext.SingleThreaded);
        Binary.Run<float>(BinaryOp.Mul, t, p, t, all, unit, unit);
        Binary.Run<float>(BinaryOp.Sub, [0.75f], t, t, all, [0], unit);
        Binary.Run<float>(BinaryOp.Add, t, x, t, all, unit, unit);
        Unary.Run<float>(UnaryOp.HardSigmoid, t, t, 0.3f, 0.45f, KernelContext.SingleThreaded);
        Binary.Run<float>(BinaryOp.Div, q, t, t, all, unit, unit);
        Unary.Run<float>(UnaryOp.Cos, t, expected, 0, 0, KernelContext.SingleThreaded);
        Assert.Equal(expected, fused);

        // In place over x (the Input operand then reads x's block before it is overwritten), and over b.
        float[] overX = [.. x], overP = [.. p];
        ElementwiseChain.Run(overX, p, q, overX, steps, parameters, context);
        ElementwiseChain.Run(x, overP, q, overP, steps, parameters, context);
        Assert.Equal(expected, overX);
        Assert.Equal(expected, overP);
    }

    [Fact]
    public void Malformed_steps_are_rejected_on_the_calling_thread()
    {
        float[] x = new float[10], y = new float[10];
        Assert.Throws<ArgumentException>(() => ElementwiseChain.Run(x, [], [], y, [(int)ChainStepKind.Binary, (int)BinaryOp.Pow, 0], [0, 0], KernelContext.SingleThreaded));
        Assert.Throws<ArgumentException>(() => ElementwiseChain.Run(x, new float[9], [], y, [(int)ChainStepKind.Binary, (int)BinaryOp.Add, (int)ChainOperand.B], [0, 0], KernelContext.SingleThreaded));
        Assert.Throws<ArgumentException>(() => ElementwiseChain.Run(x, [], [], y, [0, 1], [0, 0], KernelContext.SingleThreaded));
    }

    private static float[] Values(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
}
