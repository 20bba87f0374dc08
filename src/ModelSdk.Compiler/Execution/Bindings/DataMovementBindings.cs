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

    [KernelBinding(nameof(StridedCopy))]
    private static void RunStridedCopy(StepContext s) => BySize(s, default(StridedCopyStep));

    [KernelBinding(nameof(Pad))]
    private static void RunPad(StepContext s) => BySize(s, default(PadStep));

    [KernelBinding(nameof(Trilu))]
    private static void RunTrilu(StepContext s) => BySize(s, default(TriluStep));

    [KernelBinding(nameof(EyeLike))]
    private static void RunEyeLike(StepContext s) => BySize(s, default(EyeLikeStep));

    [KernelBinding(nameof(Fill))]
    private static void RunFill(StepContext s) => BySize(s, default(FillStep));

    [KernelBinding(nameof(ResizeNearest))]
    private static void RunResizeNearest(StepContext s) => BySize(s, default(ResizeNearestStep));

    [KernelBinding(nameof(GatherBlocks))]
    private static void RunGatherBlocks(StepContext s) => BySize(s, default(GatherBlocksStep));

    [KernelBinding(nameof(ScatterBlocks))]
    private static void RunScatterBlocks(StepContext s) => BySize(s, default(ScatterBlocksStep));

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

    private readonly struct StridedCopyStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => StridedCopy.Run(s.In<T>("x"), s.Out<T>("y"), s.Ints("shape"), s.Ints("xStrides"), s.Int("xOffset"));
    }

    private readonly struct PadStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => Pad.Run(s.In<T>("x"), s.In<T>("value"), s.Out<T>("y"), s.Ints("shape"), s.Ints("padsBefore"), s.Ints("outputShape"), s.Enum<PadMode>("mode"));
    }

    private readonly struct TriluStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => Trilu.Run(s.In<T>("x"), s.In<long>("k"), s.Out<T>("y"), s.Int("rows"), s.Int("columns"), s.Bool("upper"));
    }

    private readonly struct EyeLikeStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => EyeLike.Run(s.In<T>("one"), s.Out<T>("y"), s.Int("columns"), s.Int("k"));
    }

    private readonly struct FillStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => Fill.Run(s.In<T>("value"), s.Out<T>("y"));
    }

    private readonly struct ResizeNearestStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => ResizeNearest.Run(s.In<T>("x"), s.In<int>("offsets"), s.In<T>("extrapolation"), s.Out<T>("y"), s.Ints("outputShape"));
    }

    private readonly struct GatherBlocksStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => GatherBlocks.Run(s.In<T>("data"), s.In<int>("offsets"), s.Out<T>("y"), s.Int("block"));
    }

    private readonly struct ScatterBlocksStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => ScatterBlocks.Run(s.In<int>("offsets"), s.In<T>("updates"), s.Out<T>("y"), s.Int("block"));
    }
}
