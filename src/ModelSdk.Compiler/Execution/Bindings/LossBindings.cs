using System.Numerics;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

/// <summary>The loss kernels: floating-point values (float32, float64, float16) against int32 or int64 class indices.</summary>
internal static class LossBindings
{
    [KernelBinding(nameof(NegativeLogLikelihood))]
    private static void RunNegativeLogLikelihood(StepContext s) => ByTypes(s, default(NegativeLogLikelihoodStep));

    [KernelBinding(nameof(SoftmaxCrossEntropy))]
    private static void RunSoftmaxCrossEntropy(StepContext s) => ByTypes(s, default(SoftmaxCrossEntropyStep));

    private interface ILossStep
    {
        void Run<T, TIndex>(StepContext s)
            where T : unmanaged, IFloatingPointIeee754<T>
            where TIndex : unmanaged, IBinaryInteger<TIndex>;
    }

    private static void ByTypes<TStep>(StepContext s, TStep step)
        where TStep : struct, ILossStep
    {
        switch (s.TypeArg(0))
        {
            case ElementType.Float32:
                ByIndex<float, TStep>(s, step);
                break;
            case ElementType.Float64:
                ByIndex<double, TStep>(s, step);
                break;
            case ElementType.Float16:
                ByIndex<Half, TStep>(s, step);
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    private static void ByIndex<T, TStep>(StepContext s, TStep step)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TStep : struct, ILossStep
    {
        switch (s.TypeArg(1))
        {
            case ElementType.Int32:
                step.Run<T, int>(s);
                break;
            case ElementType.Int64:
                step.Run<T, long>(s);
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    private readonly struct NegativeLogLikelihoodStep : ILossStep
    {
        public void Run<T, TIndex>(StepContext s)
            where T : unmanaged, IFloatingPointIeee754<T>
            where TIndex : unmanaged, IBinaryInteger<TIndex>
            => NegativeLogLikelihood.Run(s.In<T>("x"), s.In<TIndex>("target"), s.In<T>("weight"), s.Out<T>("loss"),
                s.Int("classes"), s.Int("inner"), s.Enum<LossReduction>("reduction"), s.Bool("ignore"), s.Int("ignoreIndex"));
    }

    private readonly struct SoftmaxCrossEntropyStep : ILossStep
    {
        public void Run<T, TIndex>(StepContext s)
            where T : unmanaged, IFloatingPointIeee754<T>
            where TIndex : unmanaged, IBinaryInteger<TIndex>
            => SoftmaxCrossEntropy.Run(s.In<T>("scores"), s.In<TIndex>("labels"), s.In<T>("weights"), s.Out<T>("loss"), s.Out<T>("logProb"),
                s.Int("classes"), s.Int("inner"), s.Enum<LossReduction>("reduction"), s.Bool("ignore"), s.Int("ignoreIndex"));
    }
}
