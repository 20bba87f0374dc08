using System.Numerics;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

internal static class ReductionBindings
{
    [KernelBinding(nameof(Reduce))]
    private static void RunReduce(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(ReduceStep));

    [KernelBinding(nameof(LogSumExp))]
    private static void RunLogSumExp(StepContext s)
    {
        switch (s.TypeArg(0))
        {
            case ElementType.Float32:
                LogSumExp.Run(s.In<float>("x"), s.In<float>("max"), s.Out<float>("y"), s.Ints("shape"), s.Ints("yStrides"));
                break;
            case ElementType.Float64:
                LogSumExp.Run(s.In<double>("x"), s.In<double>("max"), s.Out<double>("y"), s.Ints("shape"), s.Ints("yStrides"));
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    [KernelBinding(nameof(ArgReduce))]
    private static void RunArgReduce(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(ArgReduceStep));

    [KernelBinding(nameof(Hardmax))]
    private static void RunHardmax(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(HardmaxStep));

    [KernelBinding(nameof(TopK))]
    private static void RunTopK(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(TopKStep));

    [KernelBinding(nameof(CumSum))]
    private static void RunCumSum(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(CumSumStep));

    [KernelBinding(nameof(Softmax))]
    private static void RunSoftmax(StepContext s)
        => Softmax.Run(s.In<float>("x"), s.Out<float>("y"), s.Int("axisLength"), s.Int("inner"), s.Bool("log"), s.KernelContext);

    private readonly struct ReduceStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => Reduce.Run(s.Enum<ReduceOp>("op"), s.In<T>("x"), s.Out<T>("y"), s.Ints("shape"), s.Ints("yStrides"));
    }

    private readonly struct ArgReduceStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => ArgReduce.Run(s.In<T>("x"), s.Out<long>("y"), s.Int("axisLength"), s.Int("inner"), s.Bool("min"), s.Bool("selectLast"));
    }

    private readonly struct HardmaxStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => Hardmax.Run(s.In<T>("x"), s.Out<T>("y"), s.Out<long>("scratch"), s.Int("axisLength"), s.Int("inner"));
    }

    private readonly struct TopKStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => TopK.Run(s.In<T>("x"), s.Out<T>("values"), s.Out<long>("indices"), s.Int("axisLength"), s.Int("inner"), s.Int("k"), s.Bool("largest"));
    }

    private readonly struct CumSumStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
        {
            switch (s.TypeArg(1))
            {
                case ElementType.Int32:
                    CumSum.Run(s.In<T>("x"), s.In<int>("axis"), s.Out<T>("y"), s.Ints("shape"), s.Bool("exclusive"), s.Bool("reverse"));
                    break;
                case ElementType.Int64:
                    CumSum.Run(s.In<T>("x"), s.In<long>("axis"), s.Out<T>("y"), s.Ints("shape"), s.Bool("exclusive"), s.Bool("reverse"));
                    break;
                default:
                    throw TypeDispatch.Unsupported(s);
            }
        }
    }
}
