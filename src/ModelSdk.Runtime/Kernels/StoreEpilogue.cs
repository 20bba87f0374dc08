using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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

    /// <summary><c>y[i] = activation(y[i] + residual[i])</c>; <paramref name="residual"/> is empty when there is none.</summary>
    public static void Apply(Span<float> y, ReadOnlySpan<float> residual, Activation activation, float alpha, float beta)
    {
        if (!residual.IsEmpty && residual.Length != y.Length)
        {
            throw new ArgumentException("The residual must have the length of the output.");
        }

        if (residual.IsEmpty && activation == Activation.None)
        {
            return;
        }

        switch (Simd.Width)
        {
            case SimdWidth.W512:
                Apply<Vector512<float>, Simd512>(y, residual, activation, alpha, beta);
                break;
            case SimdWidth.W256:
                Apply<Vector256<float>, Simd256>(y, residual, activation, alpha, beta);
                break;
            default:
                Apply<Vector128<float>, Simd128>(y, residual, activation, alpha, beta);
                break;
        }
    }

    private static unsafe void Apply<TV, TS>(Span<float> y, ReadOnlySpan<float> residual, Activation activation, float alpha, float beta)
        where TS : ISimd<TV>
        where TV : struct
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rr = ref MemoryMarshal.GetReference(residual);
        bool hasResidual = !residual.IsEmpty;
        int n = y.Length, i = 0;
        for (; i <= n - TS.Count; i += TS.Count)
        {
            TV v = TS.Load(ref ry, (nuint)i);
            if (hasResidual)
            {
                v = TS.Add(v, TS.Load(ref rr, (nuint)i));
            }

            TS.Store(Activate<TV, TS>(v, activation, alpha, beta), ref ry, (nuint)i);
        }

        if (i < n)
        {
            // The tail goes through one vector too, so every element sees the same arithmetic wherever a split falls.
            fixed (float* py = y, pr = residual)
            {
                TV v = TS.LoadPartial(py + i, n - i);
                if (hasResidual)
                {
                    v = TS.Add(v, TS.LoadPartial(pr + i, n - i));
                }

                TS.StorePartial(Activate<TV, TS>(v, activation, alpha, beta), py + i, n - i);
            }
        }
    }
}
