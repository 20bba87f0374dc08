using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

/// <summary>Bindings of the layer kernels: transposed convolution, normalizations, and the fused GELU and attention.</summary>
internal static class NeuralNetworkBindings
{
    [KernelBinding(nameof(ConvTranspose))]
    private static void RunConvTranspose(StepContext s)
        => ConvTranspose.Run(
            s.In<float>("x"), s.In<float>("w"), s.In<float>("b"), s.Out<float>("y"), s.Out<float>("col"),
            s.Int("batch"), s.Int("channels"), s.Int("outChannels"), s.Int("group"),
            s.Ints("inputShape"), s.Ints("outputShape"), s.Ints("kernelShape"), s.Ints("strides"), s.Ints("dilations"), s.Ints("padsBegin"));

    [KernelBinding(nameof(Normalization))]
    private static void RunNormalization(StepContext s)
        => Normalization.Run(
            s.In<float>("x"), s.In<float>("scale"), s.In<float>("bias"), s.Out<float>("y"), s.Out<float>("mean"), s.Out<float>("invStdDev"),
            s.Int("size"), s.Int("groups"), s.Int("channels"), s.Float("epsilon"), s.KernelContext);

    [KernelBinding(nameof(Lrn))]
    private static void RunLrn(StepContext s)
        => Lrn.Run(s.In<float>("x"), s.Out<float>("y"), s.Int("channels"), s.Int("spatial"), s.Int("size"), s.Float("alpha"), s.Float("beta"), s.Float("bias"));

    [KernelBinding(nameof(Gelu))]
    private static void RunGelu(StepContext s) => Gelu.Run(s.In<float>("x"), s.Out<float>("y"), s.Bool("approximate"), s.KernelContext);

    [KernelBinding(nameof(Attention))]
    private static void RunAttention(StepContext s)
        => Attention.Run(
            s.In<float>("q"), s.In<float>("k"), s.In<float>("v"), s.In<float>("mask"), s.Out<float>("y"), s.Out<float>("scores"),
            s.Int("queries"), s.Int("keys"), s.Int("depth"), s.Int("valueDepth"), s.Bool("keyTransposed"), s.Float("scale"),
            s.Ints("batchShape"), s.Ints("qBatchStrides"), s.Ints("kBatchStrides"), s.Ints("vBatchStrides"),
            s.Ints("maskBatchStrides"), s.Int("maskRowStride"), s.Int("maskColStride"),
            s.Ints("yBatchStrides"), s.Int("qRowStride"), s.Int("kRowStride"), s.Int("vRowStride"), s.Int("yRowStride"), s.KernelContext);
}
