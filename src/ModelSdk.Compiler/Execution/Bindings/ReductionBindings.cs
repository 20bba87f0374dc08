using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

internal static class ReductionBindings
{
    [KernelBinding(nameof(Reduce))]
    private static void RunReduce(StepContext s)
    {
        var op = s.Enum<ReduceOp>("op");
        switch (s.TypeArg(0))
        {
            case ElementType.Float32:
                Reduce.Run(op, s.In<float>("x"), s.Out<float>("y"), s.Ints("shape"), s.Ints("yStrides"));
                break;
            case ElementType.Int32:
                Reduce.Run(op, s.In<int>("x"), s.Out<int>("y"), s.Ints("shape"), s.Ints("yStrides"));
                break;
            case ElementType.Int64:
                Reduce.Run(op, s.In<long>("x"), s.Out<long>("y"), s.Ints("shape"), s.Ints("yStrides"));
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    [KernelBinding(nameof(Softmax))]
    private static void RunSoftmax(StepContext s)
        => Softmax.Run(s.In<float>("x"), s.Out<float>("y"), s.Int("axisLength"), s.Int("inner"), s.Bool("log"));
}
