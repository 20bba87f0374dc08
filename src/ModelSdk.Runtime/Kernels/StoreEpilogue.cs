using System.Runtime.CompilerServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The work a kernel folds into its store (see <c>Node.Epilogue</c> in the compiler): per element, the
/// bias, then a residual, then an <see cref="Activation"/>, applied to vectors as they leave the registers.
/// The transcendental activations use <see cref="FastMath"/>.
/// </summary>
internal static class StoreEpilogue
{
    /// <summary><paramref name="activation"/> on one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Activate<TV, TS>(TV v, Activation activation, float alpha, float beta)
        where TS : ISimd<TV>
        where TV : struct
    {
        switch (activation)
        {
            case Activation.None:
                return v;
            case Activation.Relu:
                // Max keeps NaN, as ONNX Runtime's Relu does.
                return TS.Max(v, TS.Zero);
            case Activation.LeakyRelu:
                return TS.Select(TS.GreaterThanOrEqual(v, TS.Zero), v, TS.Multiply(v, TS.Create(alpha)));
            case Activation.Clip:
                return TS.Min(TS.Max(v, TS.Create(alpha)), TS.Create(beta));
            case Activation.HardSigmoid:
                return TS.Max(TS.Zero, TS.Min(TS.Create(1), TS.MultiplyAdd(v, TS.Create(alpha), TS.Create(beta))));
            case Activation.HardSwish:
                TV gate = TS.Max(TS.Zero, TS.Min(TS.Create(1), TS.MultiplyAdd(v, TS.Create(1f / 6), TS.Create(0.5f))));
                return TS.Multiply(v, gate);
            case Activation.Sigmoid:
                return FastMath.Sigmoid<TV, TS>(v);
            case Activation.Tanh:
                return FastMath.Tanh<TV, TS>(v);
            case Activation.Gelu:
                return FastMath.Gelu<TV, TS>(v);
            case Activation.GeluTanh:
                return FastMath.GeluTanh<TV, TS>(v);
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }
}
