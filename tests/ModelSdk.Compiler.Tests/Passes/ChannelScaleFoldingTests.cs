using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using ModelSdk.Runtime;

namespace ModelSdk.Compiler.Tests.Passes;

/// <summary>
/// A per-channel scale of a pointwise Conv's input (squeeze-excite) folds into the Conv, which scales its input
/// rows as it packs them: no Mul step remains, and the result is ONNX Runtime's.
/// </summary>
public class ChannelScaleFoldingTests
{
    private static readonly Tensor X = TensorAssert.Random([2, 24, 7, 9], 1, -2, 2);

    /// <summary>
    /// x → depthwise 3×3 → squeeze-excite (mean over the plane, 1×1 down, Relu, 1×1 up, HardSigmoid) → x · s → 1×1 Conv to
    /// <paramref name="outChannels"/> channels; with <paramref name="scaleFirst"/> the Mul reads s first.
    /// </summary>
    private static byte[] SqueezeExcite(bool scaleFirst, bool bias = true, int outChannels = 20, bool extraReader = false)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 24, 7, 9);
        string dw = b.Node("Conv", [x, b.Initializer("wd", TensorAssert.Random([24, 1, 3, 3], 2)), b.Initializer("bd", TensorAssert.Random([24], 3))],
            ("group", 24L), ("pads", new[] { 1, 1, 1, 1 }));
        string pooled = b.Node("GlobalAveragePool", [dw]);
        string down = b.Node("Relu", [b.Node("Conv", [pooled, b.Initializer("w1", TensorAssert.Random([6, 24, 1, 1], 4)), b.Initializer("b1", TensorAssert.Random([6], 5))])]);
        string s = b.Node("HardSigmoid", [b.Node("Conv", [down, b.Initializer("w2", TensorAssert.Random([24, 6, 1, 1], 6)), b.Initializer("b2", TensorAssert.Random([24], 7))])]);
        string scaled = b.Node("Mul", scaleFirst ? [s, dw] : [dw, s]);
        string?[] inputs = bias
            ? [scaled, b.Initializer("wp", TensorAssert.Random([outChannels, 24, 1, 1], 8)), b.Initializer("bp", TensorAssert.Random([outChannels], 9))]
            : [scaled, b.Initializer("wp", TensorAssert.Random([outChannels, 24, 1, 1], 8))];
        b.Output(b.Node("Conv", inputs));
        if (extraReader)
        {
            b.Output(b.Node("Relu", [scaled]));
        }

        return b.Build();
    }

    private static PlanStep[] Steps(byte[] model) => ModelRunner.Compile(model).Plan!.Steps.ToArray();

    [Theory]
    [InlineData(false, true, 20)]
    [InlineData(true, true, 20)]
    [InlineData(false, false, 70)] // no bias; more output channels than one row block of the GEMM
    public void The_scale_folds_into_the_pointwise_conv_and_the_result_is_ORTs(bool scaleFirst, bool bias, int outChannels)
    {
        byte[] model = SqueezeExcite(scaleFirst, bias, outChannels);

        PlanStep[] steps = Steps(model);
        Assert.DoesNotContain(steps, s => s.OpType == "Mul");
        PlanStep projection = steps.Last(s => s.Kernel == "Conv");
        Assert.Equal(PlanArgKind.TensorIn, projection["inputScale"].Kind);
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void A_scaled_tensor_that_something_else_reads_is_still_computed()
    {
        byte[] model = SqueezeExcite(scaleFirst: false, extraReader: true);

        Assert.Contains(Steps(model), s => s.OpType == "Mul");
        OrtAgreement.AssertMatches(model, [("x", X)]);
    }

    [Fact]
    public void Only_a_per_channel_scale_before_a_pointwise_conv_folds()
    {
        // A scale per position (shape [2, 1, 7, 9]) before a 1×1 Conv, and a per-channel one before a 3×3 Conv: both stay Muls.
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 24, 7, 9);
        string perPosition = b.Input("p", ElementType.Float32, 2, 1, 7, 9);
        string perChannel = b.Input("c", ElementType.Float32, 2, 24, 1, 1);
        b.Output(b.Node("Conv", [b.Node("Mul", [x, perPosition]), b.Initializer("w1", TensorAssert.Random([8, 24, 1, 1], 2))]));
        b.Output(b.Node("Conv", [b.Node("Mul", [x, perChannel]), b.Initializer("w3", TensorAssert.Random([8, 24, 3, 3], 3))], ("pads", new[] { 1, 1, 1, 1 })));
        byte[] model = b.Build();

        Assert.Equal(2, Steps(model).Count(s => s.OpType == "Mul"));
        OrtAgreement.AssertMatches(model, [("x", X), ("p", TensorAssert.Random([2, 1, 7, 9], 4)), ("c", TensorAssert.Random([2, 24, 1, 1], 5))]);
    }

    [Fact]
    public void At_two_threads_the_folded_conv_gives_the_single_thread_result()
    {
        // 300 output channels over 24: split by rows over the threads, the scaled input packed once for all of them.
        byte[] model = SqueezeExcite(scaleFirst: false, outChannels: 300);
        CompileResult compiled = ModelRunner.Compile(model);
        byte[][] single = Executor.Run(compiled.Plan!, compiled.Weights, [X.Bytes.ToArray()]);
        using var context = new KernelContext(2);
        foreach (bool splitAll in new[] { false, true })
        {
            context.Workers.Policy.Forced = splitAll;
            context.Workers.BeginRun();
            byte[][] parallel = Executor.Run(compiled.Plan!, compiled.Weights, [X.Bytes.ToArray()], context);
            context.Workers.EndRun();
            Assert.Equal(single[0], parallel[0]);
        }

        OrtAgreement.AssertMatches(model, [("x", X)]);
    }
}
