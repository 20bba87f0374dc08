using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Execution.Bindings;

/// <summary>Bindings of the quantization kernels; each generic parameter is dispatched in turn from the step's type arguments.</summary>
internal static class QuantizationBindings
{
    [KernelBinding(nameof(QuantizeLinear))]
    private static void RunQuantizeLinear(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, new Quantize());

    [KernelBinding(nameof(DequantizeLinear))]
    private static void RunDequantizeLinear(StepContext s) => TypeDispatch.Numeric(s.TypeArg(0), s, new Dequantize());

    [KernelBinding(nameof(DynamicQuantizeLinear))]
    private static void RunDynamicQuantizeLinear(StepContext s)
        => DynamicQuantizeLinear.Run(s.In<float>("x"), s.Out<byte>("y"), s.Out<float>("yScale"), s.Out<byte>("yZeroPoint"));

    [KernelBinding(nameof(Requantize))]
    private static void RunRequantize(StepContext s)
    {
        switch (s.TypeArg(0))
        {
            case ElementType.UInt8:
                Requantize.Run(s.In<int>("x"), s.In<int>("bias"), s.In<float>("xScale"), s.In<float>("wScale"), s.In<float>("yScale"), s.In<byte>("yZeroPoint"), s.Out<byte>("y"), s.Int("channels"), s.Int("inner"));
                break;
            case ElementType.Int8:
                Requantize.Run(s.In<int>("x"), s.In<int>("bias"), s.In<float>("xScale"), s.In<float>("wScale"), s.In<float>("yScale"), s.In<sbyte>("yZeroPoint"), s.Out<sbyte>("y"), s.Int("channels"), s.Int("inner"));
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    [KernelBinding(nameof(MatMulInteger))]
    private static void RunMatMulInteger(StepContext s) => ByBytes(s, new MatMul());

    [KernelBinding(nameof(ConvInteger))]
    private static void RunConvInteger(StepContext s) => ByBytes(s, new Convolution());

    [KernelBinding(nameof(QuantizedMatMul))]
    private static void RunQuantizedMatMul(StepContext s)
    {
        switch (s.TypeArg(0))
        {
            case ElementType.UInt8:
                ByResult<byte>(s);
                break;
            case ElementType.Int8:
                ByResult<sbyte>(s);
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }

        static void ByResult<TA>(StepContext s)
            where TA : unmanaged
        {
            switch (s.TypeArg(1))
            {
                case ElementType.Int32:
                    Packed<TA, int>(s);
                    break;
                case ElementType.Float32:
                    Packed<TA, float>(s);
                    break;
                case ElementType.UInt8:
                    Packed<TA, byte>(s);
                    break;
                case ElementType.Int8:
                    Packed<TA, sbyte>(s);
                    break;
                default:
                    throw TypeDispatch.Unsupported(s);
            }
        }

        static void Packed<TA, TY>(StepContext s)
            where TA : unmanaged
            where TY : unmanaged
            => QuantizedMatMul.Run(
                s.In<TA>("a"), s.In<sbyte>("b"), s.In<int>("terms"), s.In<float>("scale"), s.In<TY>("yZeroPoint"), s.Out<TY>("y"), s.Out<byte>("scratch"),
                s.Int("m"), s.Int("n"), s.Int("k"), s.KernelContext);
    }

    [KernelBinding(nameof(QuantizedMaxPool))]
    private static void RunQuantizedMaxPool(StepContext s)
    {
        switch (s.TypeArg(0))
        {
            case ElementType.UInt8:
                Pool<byte>(s);
                break;
            case ElementType.Int8:
                Pool<sbyte>(s);
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }

        static void Pool<T>(StepContext s)
            where T : unmanaged, System.Numerics.INumber<T>, System.Numerics.IMinMaxValue<T>
            => QuantizedMaxPool.Run(
                s.In<T>("x"), s.Out<T>("y"), s.Int("planes"),
                s.Ints("inputShape"), s.Ints("outputShape"), s.Ints("kernelShape"), s.Ints("strides"), s.Ints("dilations"), s.Ints("padsBegin"));
    }

    [KernelBinding(nameof(QuantizedConv))]
    private static void RunQuantizedConv(StepContext s)
    {
        switch ((s.TypeArg(0), s.TypeArg(1)))
        {
            case (ElementType.UInt8, ElementType.UInt8):
                Conv<byte, byte>(s);
                break;
            case (ElementType.UInt8, ElementType.Int8):
                Conv<byte, sbyte>(s);
                break;
            case (ElementType.Int8, ElementType.UInt8):
                Conv<sbyte, byte>(s);
                break;
            case (ElementType.Int8, ElementType.Int8):
                Conv<sbyte, sbyte>(s);
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }

        static void Conv<TX, TY>(StepContext s)
            where TX : unmanaged
            where TY : unmanaged
            => QuantizedConv.Run(
                s.In<TX>("x"), s.In<sbyte>("w"), s.In<int>("terms"), s.In<float>("scale"), s.In<TX>("xZeroPoint"), s.In<TY>("yZeroPoint"), s.Out<TY>("y"),
                s.Out<TX>("padded"), s.Int("batch"), s.Int("channels"), s.Int("outChannels"),
                s.Ints("inputShape"), s.Ints("outputShape"), s.Ints("kernelShape"), s.Ints("strides"), s.Ints("dilations"), s.Ints("padsBegin"), s.KernelContext);
    }

    /// <summary>Instantiates a step over the two 8-bit operand types of its first two type arguments.</summary>
    private static void ByBytes<TStep>(StepContext s, TStep step)
        where TStep : struct, IBytePairStep
    {
        switch ((s.TypeArg(0), s.TypeArg(1)))
        {
            case (ElementType.UInt8, ElementType.UInt8):
                step.Run<byte, byte>(s);
                break;
            case (ElementType.UInt8, ElementType.Int8):
                step.Run<byte, sbyte>(s);
                break;
            case (ElementType.Int8, ElementType.UInt8):
                step.Run<sbyte, byte>(s);
                break;
            case (ElementType.Int8, ElementType.Int8):
                step.Run<sbyte, sbyte>(s);
                break;
            default:
                throw TypeDispatch.Unsupported(s);
        }
    }

    private interface IBytePairStep
    {
        void Run<TA, TB>(StepContext s) where TA : unmanaged where TB : unmanaged;
    }

    private readonly struct MatMul : IBytePairStep
    {
        public void Run<TA, TB>(StepContext s) where TA : unmanaged where TB : unmanaged
            => MatMulInteger.Run(
                s.In<TA>("a"), s.In<TB>("b"), s.In<TA>("aZeroPoint"), s.In<TB>("bZeroPoint"), s.Out<int>("y"), s.Out<int>("rowSums"),
                s.Int("m"), s.Int("n"), s.Int("k"), s.Ints("batchShape"), s.Ints("aBatchStrides"), s.Ints("bBatchStrides"));
    }

    private readonly struct Convolution : IBytePairStep
    {
        public void Run<TA, TB>(StepContext s) where TA : unmanaged where TB : unmanaged
            => ConvInteger.Run(
                s.In<TA>("x"), s.In<TB>("w"), s.In<TA>("xZeroPoint"), s.In<TB>("wZeroPoint"), s.Out<int>("y"), s.Out<TA>("col"), s.Out<int>("rowSums"),
                s.Int("batch"), s.Int("channels"), s.Int("outChannels"), s.Int("group"),
                s.Ints("inputShape"), s.Ints("outputShape"), s.Ints("kernelShape"), s.Ints("strides"), s.Ints("dilations"), s.Ints("padsBegin"));
    }

    private readonly struct Quantize : INumericStep
    {
        public void Run<TX>(StepContext s) where TX : unmanaged, System.Numerics.INumber<TX> => TypeDispatch.Numeric(s.TypeArg(1), s, new QuantizeScale<TX>());
    }

    private readonly struct QuantizeScale<TX> : INumericStep where TX : unmanaged, System.Numerics.INumber<TX>
    {
        public void Run<TS>(StepContext s) where TS : unmanaged, System.Numerics.INumber<TS> => TypeDispatch.Numeric(s.TypeArg(2), s, new QuantizeOutput<TX, TS>());
    }

    private readonly struct QuantizeOutput<TX, TS> : INumericStep
        where TX : unmanaged, System.Numerics.INumber<TX>
        where TS : unmanaged, System.Numerics.INumber<TS>
    {
        public void Run<TQ>(StepContext s) where TQ : unmanaged, System.Numerics.INumber<TQ>
            => QuantizeLinear.Run(s.In<TX>("x"), s.In<TS>("scale"), s.In<TQ>("zeroPoint"), s.Out<TQ>("y"), s.Int("channels"), s.Int("inner"), s.Int("blockSize"));
    }

    private readonly struct Dequantize : INumericStep
    {
        public void Run<TQ>(StepContext s) where TQ : unmanaged, System.Numerics.INumber<TQ> => TypeDispatch.Numeric(s.TypeArg(1), s, new DequantizeScale<TQ>());
    }

    private readonly struct DequantizeScale<TQ> : INumericStep where TQ : unmanaged, System.Numerics.INumber<TQ>
    {
        public void Run<TS>(StepContext s) where TS : unmanaged, System.Numerics.INumber<TS>
            => DequantizeLinear.Run(s.In<TQ>("x"), s.In<TS>("scale"), s.In<TQ>("zeroPoint"), s.Out<TS>("y"), s.Int("channels"), s.Int("inner"), s.Int("blockSize"));
    }
}
