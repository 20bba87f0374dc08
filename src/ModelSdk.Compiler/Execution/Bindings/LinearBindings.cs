using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

internal static class LinearBindings
{
    [KernelBinding(nameof(Gemm))]
    private static void RunGemm(StepContext s)
        => Gemm.Run(
            s.In<float>("a"), s.In<float>("b"), s.In<float>("c"), s.In<float>("residual"), s.Out<float>("y"),
            s.Int("m"), s.Int("n"), s.Int("k"), s.Bool("transA"), s.Bool("transB"), s.Bool("packedB"), s.Float("alpha"), s.Float("beta"),
            s.Int("cRowStride"), s.Int("cColStride"), s.Ints("batchShape"), s.Ints("aBatchStrides"), s.Ints("bBatchStrides"),
            s.Enum<Activation>("activation"), s.Float("activationAlpha"), s.Float("activationBeta"), s.KernelContext);

    [KernelBinding(nameof(Conv))]
    private static void RunConv(StepContext s)
        => Conv.Run(
            s.Enum<ConvAlgorithm>("algorithm"), s.In<float>("x"), s.In<float>("w"), s.In<float>("b"), s.In<float>("residual"), s.Out<float>("y"), s.Out<float>("col"), s.Bool("packedW"),
            s.Int("batch"), s.Int("channels"), s.Int("outChannels"), s.Int("group"),
            s.Ints("inputShape"), s.Ints("outputShape"), s.Ints("kernelShape"), s.Ints("strides"), s.Ints("dilations"), s.Ints("padsBegin"),
            s.Enum<Activation>("activation"), s.Float("alpha"), s.Float("beta"), s.KernelContext, s.OptionalIn<float>("inputScale"));

    [KernelBinding(nameof(Pool))]
    private static void RunPool(StepContext s)
        => Pool.Run(
            s.Enum<PoolKind>("kind"), s.In<float>("x"), s.Out<float>("y"), s.Out<long>("indices"), s.Int("planes"),
            s.Ints("inputShape"), s.Ints("outputShape"), s.Ints("kernelShape"), s.Ints("strides"), s.Ints("dilations"),
            s.Ints("padsBegin"), s.Ints("padsEnd"), s.Bool("countIncludePad"), s.Bool("columnMajorIndices"));

    [KernelBinding(nameof(ChannelAffine))]
    private static void RunChannelAffine(StepContext s)
        => ChannelAffine.Run(s.In<float>("x"), s.In<float>("scale"), s.In<float>("bias"), s.Out<float>("y"), s.Int("channels"), s.Int("spatial"));
}
