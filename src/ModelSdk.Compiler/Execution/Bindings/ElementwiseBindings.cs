using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

internal static class ElementwiseBindings
{
    [KernelBinding(nameof(Unary))]
    private static void RunUnary(StepContext s)
    {
        var op = s.Enum<UnaryOp>("op");
        float alpha = s.Float("alpha"), beta = s.Float("beta");
        switch (s.TypeArg(0))
        {
            case ElementType.Float32:
                Unary.Run(op, s.In<float>("x"), s.Out<float>("y"), alpha, beta);
                break;
            case ElementType.Int32:
                Unary.Run(op, s.In<int>("x"), s.Out<int>("y"), alpha, beta);
                break;
            case ElementType.Int64:
                Unary.Run(op, s.In<long>("x"), s.Out<long>("y"), alpha, beta);
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    [KernelBinding(nameof(Binary))]
    private static void RunBinary(StepContext s)
    {
        var op = s.Enum<BinaryOp>("op");
        switch (s.TypeArg(0))
        {
            case ElementType.Float32:
                Binary.Run(op, s.In<float>("a"), s.In<float>("b"), s.Out<float>("y"), s.Ints("shape"), s.Ints("aStrides"), s.Ints("bStrides"));
                break;
            case ElementType.Int32:
                Binary.Run(op, s.In<int>("a"), s.In<int>("b"), s.Out<int>("y"), s.Ints("shape"), s.Ints("aStrides"), s.Ints("bStrides"));
                break;
            case ElementType.Int64:
                Binary.Run(op, s.In<long>("a"), s.In<long>("b"), s.Out<long>("y"), s.Ints("shape"), s.Ints("aStrides"), s.Ints("bStrides"));
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    [KernelBinding(nameof(Copy))]
    private static void RunCopy(StepContext s) => Copy.Run(s.In<byte>("x"), s.Out<byte>("y"));
}
