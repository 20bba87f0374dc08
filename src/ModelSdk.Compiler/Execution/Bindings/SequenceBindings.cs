using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

/// <summary>Kernels that reorder elements along a sequence; they only move elements, so they run per element size.</summary>
internal static class SequenceBindings
{
    [KernelBinding(nameof(ReverseSequence))]
    private static void RunReverseSequence(StepContext s) => TypeDispatch.BySize(s.TypeArg(0), s, default(ReverseSequenceStep));

    private readonly struct ReverseSequenceStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => ReverseSequence.Run(s.In<T>("x"), s.In<long>("sequenceLens"), s.Out<T>("y"), s.Int("batch"), s.Int("time"), s.Int("inner"), s.Bool("batchMajor"));
    }
}
