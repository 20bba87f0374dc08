using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

internal static class RecurrentBindings
{
    [KernelBinding(nameof(Lstm))]
    private static void RunLstm(StepContext s)
        => Lstm.Run(
            s.In<float>("x"), s.In<float>("w"), s.In<float>("r"), s.In<float>("b"), s.In<int>("sequenceLens"),
            s.In<float>("initialH"), s.In<float>("initialC"), s.In<float>("p"),
            s.Out<float>("y"), s.Out<float>("yH"), s.Out<float>("yC"), s.Out<float>("scratch"),
            s.Enum<RnnDirection>("direction"), s.Bool("batchMajor"), s.Int("seqLength"), s.Int("batch"), s.Int("inputSize"), s.Int("hiddenSize"),
            s.Ints("activations"), s.Floats("activationAlpha"), s.Floats("activationBeta"), s.Float("clip"), s.Bool("inputForget"));

    [KernelBinding(nameof(Gru))]
    private static void RunGru(StepContext s)
        => Gru.Run(
            s.In<float>("x"), s.In<float>("w"), s.In<float>("r"), s.In<float>("b"), s.In<int>("sequenceLens"), s.In<float>("initialH"),
            s.Out<float>("y"), s.Out<float>("yH"), s.Out<float>("scratch"),
            s.Enum<RnnDirection>("direction"), s.Bool("batchMajor"), s.Int("seqLength"), s.Int("batch"), s.Int("inputSize"), s.Int("hiddenSize"),
            s.Ints("activations"), s.Floats("activationAlpha"), s.Floats("activationBeta"), s.Float("clip"), s.Bool("linearBeforeReset"));

    [KernelBinding(nameof(Rnn))]
    private static void RunRnn(StepContext s)
        => Rnn.Run(
            s.In<float>("x"), s.In<float>("w"), s.In<float>("r"), s.In<float>("b"), s.In<int>("sequenceLens"), s.In<float>("initialH"),
            s.Out<float>("y"), s.Out<float>("yH"), s.Out<float>("scratch"),
            s.Enum<RnnDirection>("direction"), s.Bool("batchMajor"), s.Int("seqLength"), s.Int("batch"), s.Int("inputSize"), s.Int("hiddenSize"),
            s.Ints("activations"), s.Floats("activationAlpha"), s.Floats("activationBeta"), s.Float("clip"));
}
