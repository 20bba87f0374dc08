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
            // The clamps use the instruction's min/max (one vmaxps where the IEEE forms take three) with v, or
            // what came from it, as the second operand: the instruction returns the second operand when one is
            // NaN, so NaN still comes through, as ONNX Runtime's Relu lets it. (A -0 stays -0.)
            case Activation.Relu:
                return TS.MaxNative(TS.Zero, v);
            case Activation.LeakyRelu:
                return TS.Select(TS.GreaterThanOrEqual(v, TS.Zero), v, TS.Multiply(v, TS.Create(alpha)));
            case Activation.Clip:
                return TS.MinNative(TS.Create(beta), TS.MaxNative(TS.Create(alpha), v));
            case Activation.HardSigmoid:
                return TS.MaxNative(TS.Zero, TS.MinNative(TS.Create(1), TS.MultiplyAdd(v, TS.Create(alpha), TS.Create(beta))));
            case Activation.HardSwish:
                TV gate = TS.MaxNative(TS.Zero, TS.MinNative(TS.Create(1), TS.MultiplyAdd(v, TS.Create(1f / 6), TS.Create(0.5f))));
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

    /// <summary>
    /// <c>y = activation(rows.Combine(y))</c> over <paramref name="count"/> rows of <paramref name="width"/> floats,
    /// <paramref name="ldy"/> apart: the activation is chosen once for the block,
    /// so the common ones are inlined into the loop (a per-vector switch costs more than a small tile's arithmetic).
    /// </summary>
    /// <typeparam name="TV">Vector type.</typeparam>
    /// <typeparam name="TS">Its operations.</typeparam>
    /// <typeparam name="TRows">What each vector gets before the activation.</typeparam>
    public static unsafe void ActivateRows<TV, TS, TRows>(ref TRows rows, float* y, nint ldy, int count, int width, Activation activation, float alpha, float beta)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TRows : struct, IEpilogueRows<TV>
    {
        var user = new RowsUser<TV, TS, TRows>(rows, y, ldy, count, width);
        Dispatch(ref user, activation, alpha, beta);
    }

    /// <summary>
    /// Calls <paramref name="user"/> with <paramref name="activation"/> as a function the JIT inlines: a struct of
    /// its own for None, Relu, HardSwish and Clip (the activations of the layers whose stores are hot), the
    /// switch of <see cref="AnyActivation"/> for the others. The one place that decides which activations get
    /// code of their own in the kernels that store through one.
    /// </summary>
    public static void Dispatch<TUser>(ref TUser user, Activation activation, float alpha, float beta)
        where TUser : struct, IActivationUser
    {
        switch (activation)
        {
            case Activation.None:
                user.Use(default(NoActivation));
                return;
            case Activation.Relu:
                user.Use(default(ReluActivation));
                return;
            case Activation.HardSwish:
                user.Use(default(HardSwishActivation));
                return;
            case Activation.Clip:
                user.Use(new ClipActivation(alpha, beta));
                return;
            default:
                user.UseAny(new AnyActivation(activation, alpha, beta));
                return;
        }
    }

    /// <summary>What a kernel does with the activation <see cref="Dispatch"/> chose.</summary>
    internal interface IActivationUser
    {
        /// <summary>With an activation of its own struct.</summary>
        void Use<TA>(TA function)
            where TA : struct, IActivationFunction<TA>;

        /// <summary>With any other activation (a switch per vector).</summary>
        void UseAny(AnyActivation function);
    }

    private readonly unsafe struct RowsUser<TV, TS, TRows>(TRows rows, float* y, nint ldy, int count, int width) : IActivationUser
        where TS : struct, ISimd<TV>
        where TV : struct
        where TRows : struct, IEpilogueRows<TV>
    {
        public void Use<TA>(TA function)
            where TA : struct, IActivationFunction<TA>
        {
            TRows copy = rows;
            ActivateRows<TV, TS, TRows, TA>(ref copy, y, ldy, count, width, function);
        }

        public void UseAny(AnyActivation function) => Use(function);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ActivateRows<TV, TS, TRows, TA>(ref TRows rows, float* y, nint ldy, int count, int width, TA function)
        where TS : struct, ISimd<TV>
        where TV : struct
        where TRows : struct, IEpilogueRows<TV>
        where TA : struct, IActivationFunction<TA>
    {
        for (int r = 0; r < count; r++)
        {
            float* row = y + (r * ldy);
            int j = 0;
            for (; j + TS.Count <= width; j += TS.Count)
            {
                TV v = rows.Combine(TS.Load(ref *row, (nuint)j), r, j, TS.Count);
                TS.Store(function.Apply<TV, TS>(v), ref *row, (nuint)j);
            }

            if (j < width)
            {
                // The ragged end as one partial vector: its lanes past the end are zero and never stored.
                TV v = rows.Combine(TS.LoadPartial(row + j, width - j), r, j, width - j);
                TS.StorePartial(function.Apply<TV, TS>(v), row + j, width - j);
            }
        }
    }

    /// <summary>
    /// What a store adds to each vector of sums before the activation (bias, residual), by its row and first
    /// column; <c>count</c> lanes are real (the vector width except at a ragged end, which must not read past it).
    /// </summary>
    internal interface IEpilogueRows<TV>
        where TV : struct
    {
        TV Combine(TV v, int row, int column, int count);
    }

    /// <summary>Nothing before the activation.</summary>
    internal readonly struct Unchanged<TV> : IEpilogueRows<TV>
        where TV : struct
    {
        public TV Combine(TV v, int row, int column, int count) => v;
    }

    /// <summary>An activation known to the JIT, inlined into the loop that applies it.</summary>
    /// <typeparam name="TSelf">The implementing struct.</typeparam>
    internal interface IActivationFunction<TSelf>
        where TSelf : struct, IActivationFunction<TSelf>
    {
        /// <summary>The function for <paramref name="activation"/> with its parameters.</summary>
        static abstract TSelf Of(Activation activation, float alpha, float beta);

        TV Apply<TV, TS>(TV v)
            where TS : ISimd<TV>
            where TV : struct;
    }

    internal readonly struct NoActivation : IActivationFunction<NoActivation>
    {
        public static NoActivation Of(Activation activation, float alpha, float beta) => default;

        public TV Apply<TV, TS>(TV v)
            where TS : ISimd<TV>
            where TV : struct => v;
    }

    internal readonly struct ReluActivation : IActivationFunction<ReluActivation>
    {
        public static ReluActivation Of(Activation activation, float alpha, float beta) => default;

        public TV Apply<TV, TS>(TV v)
            where TS : ISimd<TV>
            where TV : struct => Activate<TV, TS>(v, Activation.Relu, 0, 0);
    }

    internal readonly struct HardSwishActivation : IActivationFunction<HardSwishActivation>
    {
        public static HardSwishActivation Of(Activation activation, float alpha, float beta) => default;

        public TV Apply<TV, TS>(TV v)
            where TS : ISimd<TV>
            where TV : struct => Activate<TV, TS>(v, Activation.HardSwish, 0, 0);
    }

    /// <summary>Clip (Relu6 among others) between its two parameters.</summary>
    internal readonly struct ClipActivation(float minimum, float maximum) : IActivationFunction<ClipActivation>
    {
        public static ClipActivation Of(Activation activation, float alpha, float beta) => new(alpha, beta);

        public TV Apply<TV, TS>(TV v)
            where TS : ISimd<TV>
            where TV : struct => Activate<TV, TS>(v, Activation.Clip, minimum, maximum);
    }

    internal readonly struct AnyActivation(Activation activation, float alpha, float beta) : IActivationFunction<AnyActivation>
    {
        public static AnyActivation Of(Activation activation, float alpha, float beta) => new(activation, alpha, beta);

        public TV Apply<TV, TS>(TV v)
            where TS : ISimd<TV>
            where TV : struct => Activate<TV, TS>(v, activation, alpha, beta);
    }
}
