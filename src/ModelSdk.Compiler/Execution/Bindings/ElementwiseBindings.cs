using System.Numerics;
using ModelSdk.Plan;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

internal static class ElementwiseBindings
{
    [KernelBinding(nameof(Unary))]
    private static void RunUnary(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(UnaryStep));

    [KernelBinding(nameof(Binary))]
    private static void RunBinary(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(BinaryStep));

    [KernelBinding(nameof(ElementwiseChain))]
    private static void RunElementwiseChain(StepContext s)
        => ElementwiseChain.Run(s.In<float>("x"), s.In<float>("b"), s.In<float>("c"), s.Out<float>("y"), s.Ints("steps"), s.Floats("parameters"), s.KernelContext);

    [KernelBinding(nameof(Compare))]
    private static void RunCompare(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(CompareStep));

    [KernelBinding(nameof(Classify))]
    private static void RunClassify(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, default(ClassifyStep));

    [KernelBinding(nameof(Logical))]
    private static void RunLogical(StepContext s)
        => Logical.Run(s.Enum<LogicalOp>("op"), s.In<bool>("a"), s.In<bool>("b"), s.Out<bool>("y"), s.Ints("shape"), s.Ints("aStrides"), s.Ints("bStrides"));

    [KernelBinding(nameof(Where))]
    private static void RunWhere(StepContext s) => TypeDispatch.BySize(s.TypeArg(0), s, default(WhereStep));

    [KernelBinding(nameof(Cast))]
    private static void RunCast(StepContext s) => Exact(s.TypeArg(0), s, default(CastFrom));

    [KernelBinding(nameof(Copy))]
    private static void RunCopy(StepContext s) => Copy.Run(s.In<byte>("x"), s.Out<byte>("y"));

    /// <summary>
    /// Instantiates <paramref name="step"/> with the exact C# type of <paramref name="type"/>, <c>bool</c> and
    /// <see cref="BFloat16"/> included: for kernels that interpret values of every type (Cast).
    /// </summary>
    private static void Exact<TStep>(ElementType type, StepContext s, TStep step)
        where TStep : struct, ISizedStep
    {
        switch (type)
        {
            case ElementType.Bool:
                step.Run<bool>(s);
                break;
            case ElementType.BFloat16:
                step.Run<BFloat16>(s);
                break;
            default:
                TypeDispatch.Numeric(type, s, new AsNumeric<TStep>(step));
                break;
        }
    }

    private readonly struct AsNumeric<TStep>(TStep step) : INumericStep
        where TStep : struct, ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T> => step.Run<T>(s);
    }

    private readonly struct UnaryStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => Unary.Run(s.Enum<UnaryOp>("op"), s.In<T>("x"), s.Out<T>("y"), s.Float("alpha"), s.Float("beta"), s.KernelContext);
    }

    private readonly struct BinaryStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => Binary.Run(s.Enum<BinaryOp>("op"), s.In<T>("a"), s.In<T>("b"), s.Out<T>("y"), s.Ints("shape"), s.Ints("aStrides"), s.Ints("bStrides"));
    }

    private readonly struct CompareStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => Compare.Run(s.Enum<CompareOp>("op"), s.In<T>("a"), s.In<T>("b"), s.Out<bool>("y"), s.Ints("shape"), s.Ints("aStrides"), s.Ints("bStrides"));
    }

    private readonly struct ClassifyStep : INumericStep
    {
        public void Run<T>(StepContext s) where T : unmanaged, INumber<T>
            => Classify.Run(s.Enum<ClassifyOp>("op"), s.In<T>("x"), s.Out<bool>("y"));
    }

    private readonly struct WhereStep : ISizedStep
    {
        public void Run<T>(StepContext s) where T : unmanaged
            => Where.Run(s.In<bool>("condition"), s.In<T>("x"), s.In<T>("y"), s.Out<T>("result"),
                s.Ints("shape"), s.Ints("conditionStrides"), s.Ints("xStrides"), s.Ints("yStrides"));
    }

    private readonly struct CastFrom : ISizedStep
    {
        public void Run<TFrom>(StepContext s) where TFrom : unmanaged => Exact(s.TypeArg(1), s, default(CastTo<TFrom>));
    }

    private readonly struct CastTo<TFrom> : ISizedStep
        where TFrom : unmanaged
    {
        public void Run<TTo>(StepContext s) where TTo : unmanaged => Cast.Run(s.In<TFrom>("x"), s.Out<TTo>("y"));
    }
}
