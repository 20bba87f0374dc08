using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

/// <summary>Kernels that interpret values: index tensors, reductions of scattered updates, progressions, interpolation.</summary>
internal static class IndexingBindings
{
    [KernelBinding(nameof(ElementOffsets))]
    private static void RunElementOffsets(StepContext s)
    {
        switch (s.TypeArg(0))
        {
            case ElementType.Int32:
                ElementOffsets.Run(s.In<int>("indices"), s.Out<int>("offsets"), s.Ints("shape"), s.Ints("dataStrides"), s.Int("axisLength"), s.Int("axisStride"));
                break;
            case ElementType.Int64:
                ElementOffsets.Run(s.In<long>("indices"), s.Out<int>("offsets"), s.Ints("shape"), s.Ints("dataStrides"), s.Int("axisLength"), s.Int("axisStride"));
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    [KernelBinding(nameof(NdOffsets))]
    private static void RunNdOffsets(StepContext s)
    {
        switch (s.TypeArg(0))
        {
            case ElementType.Int32:
                NdOffsets.Run(s.In<int>("indices"), s.Out<int>("offsets"), s.Ints("dims"), s.Ints("strides"), s.Int("batchStride"), s.Int("tuplesPerBatch"));
                break;
            case ElementType.Int64:
                NdOffsets.Run(s.In<long>("indices"), s.Out<int>("offsets"), s.Ints("dims"), s.Ints("strides"), s.Int("batchStride"), s.Int("tuplesPerBatch"));
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    [KernelBinding(nameof(ScatterReduce))]
    private static void RunScatterReduce(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(ScatterReduceStep));

    [KernelBinding(nameof(Progression))]
    private static void RunProgression(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(ProgressionStep));

    [KernelBinding(nameof(OneHot))]
    private static void RunOneHot(StepContext s) => TypeDispatch.Numeric(s.TypeArg(1), s, default(OneHotStep));

    [KernelBinding(nameof(ResizeAxis))]
    private static void RunResizeAxis(StepContext s)
        => ResizeAxis.Run(s.In<float>("x"), s.In<int>("indices"), s.In<float>("weights"), s.Out<float>("y"), s.Int("outer"), s.Int("inner"), s.Int("taps"), s.Float("extrapolation"));

    private readonly struct ScatterReduceStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, System.Numerics.INumber<T>
            => ScatterReduce.Run(s.In<int>("offsets"), s.In<T>("updates"), s.Out<T>("y"), s.Int("block"), s.Enum<ScatterReduction>("reduction"));
    }

    private readonly struct ProgressionStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, System.Numerics.INumber<T>
            => Progression.Run(s.In<T>("start"), s.In<T>("delta"), s.Out<T>("y"));
    }

    // The indices need their real numeric type; the values are only copied, so they go by size.
    private readonly struct OneHotStep : INumericStep
    {
        public void Run<TIndex>(StepContext s) where TIndex : unmanaged, System.Numerics.INumber<TIndex>
            => TypeDispatch.BySize(s.TypeArg(0), s, default(Values<TIndex>));

        private readonly struct Values<TIndex> : ISizedStep
            where TIndex : unmanaged, System.Numerics.INumber<TIndex>
        {
            public void Run<T>(StepContext s) where T : unmanaged
                => OneHot.Run(s.In<TIndex>("indices"), s.In<T>("values"), s.Out<T>("y"), s.Int("depth"), s.Int("inner"));
        }
    }
}
