using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

/// <summary>
/// Kernels that only move elements. They never interpret a value, so the executor instantiates them
/// once per element size (byte, ushort, uint, ulong) and serves every element type with those;
/// generated code calls them with the real type.
/// </summary>
internal static class DataMovementBindings
{
    [KernelBinding(nameof(Transpose))]
    private static void RunTranspose(StepContext s) => BySize(s, default(TransposeStep));

    [KernelBinding(nameof(Concat))]
    private static void RunConcat(StepContext s) => BySize(s, default(ConcatStep));

    [KernelBinding(nameof(Gather))]
    private static void RunGather(StepContext s) => BySize(s, default(GatherStep));

    private static void BySize<TStep>(StepContext s, TStep step)
        where TStep : struct, ISizedStep
        => TypeDispatch.BySize(s.TypeArg(0), s, step);

    private readonly struct TransposeStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => Transpose.Run(s.In<T>("x"), s.Out<T>("y"), s.Ints("shape"), s.Ints("xStrides"));
    }

    private readonly struct ConcatStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => Concat.Run(s.In<T>("x"), s.Out<T>("y"), s.Int("outer"), s.Int("offset"));
    }

    private readonly struct GatherStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
        {
            int outer = s.Int("outer"), axisLength = s.Int("axisLength"), inner = s.Int("inner");
            switch (s.TypeArg(1))
            {
                case ElementType.Int32:
                    Gather.Run(s.In<T>("data"), s.In<int>("indices"), s.Out<T>("y"), outer, axisLength, inner);
                    break;
                case ElementType.Int64:
                    Gather.Run(s.In<T>("data"), s.In<long>("indices"), s.Out<T>("y"), outer, axisLength, inner);
                    break;
                default:
                    throw TypeDispatch.Unsupported(s);
            }
        }
    }
}
