using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class ElementwiseTests
{
    [Theory]
    [InlineData("Add", new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData("Sub", new[] { 2, 1, 4 }, new[] { 3, 1 })]
    [InlineData("Mul", new[] { 1 }, new[] { 2, 3 })]
    [InlineData("Div", new[] { 2, 3, 4, 5 }, new[] { 1, 3, 1, 5 })]
    [InlineData("Pow", new[] { 3, 4 }, new[] { 3, 4 })]
    public void Broadcast_binary_matches_onnxruntime(string op, int[] aShape, int[] bShape)
    {
        var b = new OnnxModelBuilder();
        string a = b.Input("a", ElementType.Float32, aShape.Select(d => (int?)d).ToArray());
        string c = b.Input("b", ElementType.Float32, bShape.Select(d => (int?)d).ToArray());
        b.Output(b.Node(op, [a, c]));
        byte[] model = b.Build();
        Tensor x = TensorAssert.Random(aShape, 1, 0.5f, 2), y = TensorAssert.Random(bShape, 2, 0.5f, 2);

        Tensor[] actual = ModelRunner.Run(model, [x, y]);
        Tensor[] expected = OrtReference.Run(model, [("a", x), ("b", y)]);

        TensorAssert.Close(expected[0], actual[0]);
    }

    /// <summary>Every float32 unary function over [lo, hi): 3×37 elements cover full vectors and a padded tail.</summary>
    [Theory]
    [InlineData("Relu", 13, -3, 3)]
    [InlineData("Sigmoid", 13, -20, 20)]
    [InlineData("Tanh", 13, -5, 5)]
    [InlineData("Tanh", 13, -1e-3, 1e-3)]
    [InlineData("Exp", 13, -10, 10)]
    [InlineData("Log", 13, 1e-3, 100)]
    [InlineData("Sqrt", 13, 0, 100)]
    [InlineData("Reciprocal", 13, 0.1, 10)]
    [InlineData("Neg", 13, -3, 3)]
    [InlineData("Abs", 13, -3, 3)]
    [InlineData("Erf", 13, -3, 3)]
    [InlineData("LeakyRelu", 13, -3, 3)]
    [InlineData("HardSigmoid", 13, -6, 6)]
    [InlineData("HardSwish", 14, -6, 6)]
    [InlineData("Elu", 13, -3, 3)]
    [InlineData("Selu", 13, -3, 3)]
    [InlineData("Celu", 13, -3, 3)]
    [InlineData("Softplus", 13, -30, 30)]
    [InlineData("Softsign", 13, -3, 3)]
    [InlineData("Mish", 18, -10, 10)]
    [InlineData("ThresholdedRelu", 13, -3, 3)]
    [InlineData("Shrink", 13, -2, 2)]
    [InlineData("Gelu", 20, -5, 5)]
    [InlineData("Sin", 13, -6, 6)]
    [InlineData("Cos", 13, -6, 6)]
    [InlineData("Tan", 13, -1.5, 1.5)]
    [InlineData("Asin", 13, -1, 1)]
    [InlineData("Acos", 13, -1, 1)]
    [InlineData("Atan", 13, -5, 5)]
    [InlineData("Sinh", 13, -5, 5)]
    [InlineData("Cosh", 13, -5, 5)]
    [InlineData("Asinh", 13, -5, 5)]
    [InlineData("Acosh", 13, 1, 5)]
    [InlineData("Atanh", 13, -0.99, 0.99)]
    [InlineData("Floor", 13, -5, 5)]
    [InlineData("Ceil", 13, -5, 5)]
    [InlineData("Sign", 13, -3, 3)]
    public void Unary_float32_matches_onnxruntime(string op, int opset, double lo, double hi)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, 3, 37);
        b.Output(b.Node(op, [x]));

        AssertMatches(b.Build(), [("x", TensorAssert.Random([3, 37], 3, (float)lo, (float)hi))], 1e-6);
    }

    [Theory]
    [InlineData("LeakyRelu", "alpha", 0.3f, null, 0f)]
    [InlineData("HardSigmoid", "alpha", 0.3f, "beta", 0.4f)]
    [InlineData("Elu", "alpha", 2.5f, null, 0f)]
    [InlineData("Selu", "alpha", 1.5f, "gamma", 2f)]
    [InlineData("Celu", "alpha", 0.5f, null, 0f)]
    [InlineData("ThresholdedRelu", "alpha", -0.5f, null, 0f)]
    [InlineData("Shrink", "lambd", 1.2f, "bias", 0.3f)]
    public void Activation_attributes_match_onnxruntime(string op, string name1, float value1, string? name2, float value2)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 5, 11);
        (string, object)[] attributes = name2 is null ? [(name1, value1)] : [(name1, value1), (name2, value2)];
        b.Output(b.Node(op, [x], attributes));

        AssertMatches(b.Build(), [("x", TensorAssert.Random([5, 11], 4, -3, 3))], 1e-6);
    }

    [Fact]
    public void Gelu_tanh_approximation_matches_onnxruntime()
    {
        var b = new OnnxModelBuilder(20);
        string x = b.Input("x", ElementType.Float32, 4, 33);
        b.Output(b.Node("Gelu", [x], ("approximate", "tanh")));

        AssertMatches(b.Build(), [("x", TensorAssert.Random([4, 33], 5, -6, 6))], 1e-6);
    }

    [Fact]
    public void Erf_in_double_precision_matches_the_C_library()
    {
        // Python's math.erf (the C library's erf) at points near, between and beyond the expansion centres.
        double[] x = [1e-10, 0.1, 0.124, 0.126, 0.5, 1.0, 1.3, 2.0, 2.9, 3.0, 3.1, 3.5, 4.0, 5.0, 5.9, -0.7, -2.2, 7];
        double[] erf =
        [
            1.1283791670955126e-10, 0.1124629160182849, 0.13920518102987042, 0.14142695085161722, 0.5204998778130465, 0.8427007929497149,
            0.9340079449406524, 0.9953222650189527, 0.9999589021219005, 0.9999779095030014, 0.9999883513426328, 0.9999992569016276,
            0.9999999845827421, 0.9999999999984626, 0.9999999999999999, -0.6778011938374184, -0.9981371537020182, 1,
        ];
        var b = new OnnxModelBuilder(13);
        string input = b.Input("x", ElementType.Float64, x.Length);
        b.Output(b.Node("Erf", [input]), ElementType.Float64);

        double[] y = ModelRunner.Run(b.Build(), [Tensor.From<double>(ElementType.Float64, [x.Length], x)])[0].Span<double>().ToArray();

        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(y[i] - erf[i]) <= 4e-16 * Math.Abs(erf[i]), $"erf({x[i]:R}) = {y[i]:R}, expected {erf[i]:R}");
        }
    }

    [Fact]
    public void Round_takes_halves_to_even()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 12);
        b.Output(b.Node("Round", [x]));
        Tensor input = Tensor.FromFloats([12], -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.49999997f, -3.7f, 4.2f, 1e8f, 8388609.5f, float.NegativeInfinity);

        Tensor y = ModelRunner.Run(b.Build(), [input])[0];

        Assert.Equal(new[] { -2f, -2, -0, 0, 2, 2, 0, -4, 4, 1e8f, 8388610, float.NegativeInfinity }, y.Span<float>().ToArray());
        Assert.True(float.IsNaN(ModelRunner.Run(b.Build(), [Tensor.FromFloats([12], Enumerable.Repeat(float.NaN, 12).ToArray())])[0].Span<float>()[11]));
    }

    [Theory]
    [InlineData("Elu", 1e-4)]
    [InlineData("Elu", 1e-7)]
    [InlineData("Selu", 1e-5)]
    [InlineData("Celu", 1e-5)]
    [InlineData("Tanh", 1e-5)]
    [InlineData("Tanh", 3e-4)]
    [InlineData("Softplus", 30)]
    [InlineData("Mish", 1e-5)]
    public void Functions_keep_their_relative_precision_near_zero_and_in_the_tails(string op, double scale)
    {
        // ONNX Runtime computes exp(x) - 1 and friends in float, losing digits here; compare with double instead.
        var b = new OnnxModelBuilder(18);
        string x = b.Input("x", ElementType.Float32, 41);
        b.Output(b.Node(op, [x]));
        float[] values = TensorAssert.Random([41], 16, -1, 1).Span<float>().ToArray().Select(v => (float)(v * scale) - (op == "Softplus" ? (float)scale : 0)).ToArray();

        float[] y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([41], values)])[0].Span<float>().ToArray();

        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            double softplus = Math.Log(1 + Math.Exp(v));
            double expected = op switch
            {
                "Elu" or "Celu" => v >= 0 ? v : Math.Exp(v) - 1,
                "Selu" => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.Exp(v) - 1)),
                "Tanh" => Math.Tanh(v),
                "Softplus" => v < -20 ? Math.Exp(v) : softplus,
                _ => v * Math.Tanh(softplus),
            };
            Assert.True(Math.Abs(y[i] - expected) <= 2e-7 * Math.Abs(expected), $"{op}({v:R}) = {y[i]:R}, expected {expected:R}");
        }
    }

    [Theory]
    [InlineData("Relu", ElementType.Float64)]
    [InlineData("Sigmoid", ElementType.Float64)]
    [InlineData("Tanh", ElementType.Float64)]
    [InlineData("Exp", ElementType.Float64)]
    [InlineData("Neg", ElementType.Float64)]
    [InlineData("Floor", ElementType.Float64)]
    [InlineData("Sin", ElementType.Float64)]
    [InlineData("Cos", ElementType.Float64)]
    [InlineData("Relu", ElementType.Float16)]
    [InlineData("Sigmoid", ElementType.Float16)]
    [InlineData("Abs", ElementType.Float16)]
    [InlineData("Abs", ElementType.Int8)]
    [InlineData("Abs", ElementType.UInt16)]
    [InlineData("Neg", ElementType.Int32)]
    [InlineData("Neg", ElementType.Int64)]
    [InlineData("Relu", ElementType.Int8)]
    [InlineData("Relu", ElementType.Int32)]
    [InlineData("Sign", ElementType.Int64)]
    [InlineData("Sign", ElementType.UInt8)]
    [InlineData("Sign", ElementType.Float64)]
    public void Unary_on_other_types_matches_onnxruntime(string op, ElementType type)
    {
        var b = new OnnxModelBuilder(14);
        string x = b.Input("x", type, 3, 21);
        b.Output(b.Node(op, [x]), type);

        AssertMatches(b.Build(), [("x", Random(type, [3, 21], 6))], 1e-6);
    }

    [Fact]
    public void Abs_and_Neg_wrap_the_most_negative_integer()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Int8, 4);
        b.Output(b.Node("Abs", [x]), ElementType.Int8);
        b.Output(b.Node("Neg", [x]), ElementType.Int8);

        Tensor[] y = AssertMatches(b.Build(), [("x", Tensor.From<sbyte>(ElementType.Int8, [4], [sbyte.MinValue, -1, 0, sbyte.MaxValue]))]);
        Assert.Equal(new sbyte[] { sbyte.MinValue, 1, 0, sbyte.MaxValue }, y[0].Span<sbyte>().ToArray());
    }

    [Theory]
    [InlineData("Add", ElementType.Int8)]
    [InlineData("Sub", ElementType.UInt8)]
    [InlineData("Mul", ElementType.Int16)]
    [InlineData("Div", ElementType.UInt16)]
    [InlineData("Add", ElementType.UInt32)]
    [InlineData("Mul", ElementType.UInt64)]
    [InlineData("Div", ElementType.Int32)]
    [InlineData("Sub", ElementType.Int64)]
    [InlineData("Add", ElementType.Float64)]
    [InlineData("Div", ElementType.Float64)]
    [InlineData("Mul", ElementType.Float16)]
    [InlineData("Pow", ElementType.Float64)]
    [InlineData("Pow", ElementType.Int32)]
    [InlineData("Pow", ElementType.Int64)]
    public void Arithmetic_on_every_type_matches_onnxruntime(string op, ElementType type)
    {
        var b = new OnnxModelBuilder(14);
        string a = b.Input("a", type, 3, 1, 7);
        string c = b.Input("b", type, 4, 1);
        b.Output(b.Node(op, [a, c]), type);
        // Integer divisors and exponents from 1 to 4, integer bases from -9 to 9: exact, and no division by zero.
        bool exact = op is "Div" or "Pow" && !ElementTypeSets.IsFloat(type);
        Tensor first = op == "Pow"
            ? ElementTypeSets.IsFloat(type) ? Positive(Random(type, [3, 1, 7], 7)) : Integers(type, [3, 1, 7], 7, -9, 10)
            : Random(type, [3, 1, 7], 7);
        Tensor second = exact ? Integers(type, [4, 1], 8, 1, 5) : Random(type, [4, 1], 8);

        AssertMatches(b.Build(), [("a", first), ("b", second)]);
    }

    /// <summary>Integers in [lo, hi) in any numeric type.</summary>
    private static Tensor Integers(ElementType type, int[] shape, int seed, int lo, int hi)
        => CastOperator.Convert(Values<long>(ElementType.Int64, shape, seed, r => r.Next(lo, hi)), type);

    private static Tensor Positive(Tensor t)
        => CastOperator.Convert(Tensor.FromFloats(t.Shape, t.ToFloats().Select(v => Math.Abs(v) + 0.1f).ToArray()), t.Type);

    [Theory]
    [InlineData(ElementType.Float32, ElementType.Int32)]
    [InlineData(ElementType.Float32, ElementType.Int64)]
    [InlineData(ElementType.Float64, ElementType.Float32)]
    [InlineData(ElementType.Int32, ElementType.Float32)]
    [InlineData(ElementType.Int64, ElementType.Float32)]
    [InlineData(ElementType.Int64, ElementType.Int32)]
    public void Pow_with_another_exponent_type_matches_onnxruntime(ElementType baseType, ElementType exponentType)
    {
        var b = new OnnxModelBuilder(15);
        string x = b.Input("x", baseType, 2, 5);
        string y = b.Input("y", exponentType, 5);
        b.Output(b.Node("Pow", [x, y]), baseType);
        Tensor bases = CastOperator.Convert(Tensor.FromFloats([2, 5], 1, 2, 3, 4, 5, 0.5f, 1.5f, 2, 7, 9), baseType);
        Tensor exponents = CastOperator.Convert(Tensor.FromFloats([5], 0, 1, 2, 3, 0.5f), exponentType);

        AssertMatches(b.Build(), [("x", bases), ("y", exponents)]);
    }

    [Fact]
    public void Pow_with_a_constant_exponent_of_another_type_adds_no_cast_step()
    {
        var b = new OnnxModelBuilder(15);
        string x = b.Input("x", ElementType.Float32, 6);
        b.Output(b.Node("Pow", [x, b.Initializer("e", Tensor.FromInt64s([], 3))]));
        byte[] model = b.Build();

        Assert.Equal("Binary", Assert.Single(ModelRunner.Compile(model).Plan!.Steps).Kernel);
        AssertMatches(model, [("x", TensorAssert.Random([6], 9, -2, 2))]);
    }

    [Theory]
    [InlineData(ElementType.Int32, 0)]
    [InlineData(ElementType.Int64, 0)]
    [InlineData(ElementType.Int8, 0)]
    [InlineData(ElementType.UInt16, 0)]
    [InlineData(ElementType.Int32, 1)]
    [InlineData(ElementType.Int64, 1)]
    [InlineData(ElementType.Float32, 1)]
    [InlineData(ElementType.Float64, 1)]
    public void Mod_matches_onnxruntime(ElementType type, int fmod)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", type, 3, 8);
        string y = b.Input("y", type, 8);
        b.Output(b.Node("Mod", [x, y], ("fmod", fmod)), type);
        bool unsigned = type is ElementType.UInt16;
        float fraction = ElementTypeSets.IsFloat(type) ? 0.25f : 0;
        Tensor dividend = CastOperator.Convert(Values<float>(ElementType.Float32, [3, 8], 10, r => (unsigned ? 0 : -40) + r.Next(80) + fraction), type);
        float[] divisors = unsigned ? [3, 3, 7, 7, 5, 2, 1, 9] : [3, -3, 7, -7, 5, -2, 1, 9];

        AssertMatches(b.Build(), [("x", dividend), ("y", CastOperator.Convert(Tensor.FromFloats([8], divisors), type))]);
    }

    [Fact]
    public void Mod_without_fmod_on_floats_is_an_error()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 3);
        b.Output(b.Node("Mod", [x, x]));

        Assert.Equal(DiagnosticCodes.InvalidAttribute, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData("LEFT", ElementType.UInt8)]
    [InlineData("RIGHT", ElementType.UInt8)]
    [InlineData("LEFT", ElementType.UInt32)]
    [InlineData("RIGHT", ElementType.UInt64)]
    public void BitShift_matches_onnxruntime(string direction, ElementType type)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", type, 2, 6);
        string y = b.Input("y", type, 6);
        b.Output(b.Node("BitShift", [x, y], ("direction", direction)), type);
        Tensor amounts = CastOperator.Convert(Tensor.FromInt64s([6], 0, 1, 2, 3, 5, 7), type);

        AssertMatches(b.Build(), [("x", Random(type, [2, 6], 11)), ("y", amounts)]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 3, 1, 1 }, ElementType.Float32)]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 5 }, ElementType.Float32)]
    [InlineData(new[] { 2, 3, 17 }, new int[0], ElementType.Float32)]
    [InlineData(new[] { 2, 3, 17 }, new[] { 17 }, ElementType.Float64)]
    [InlineData(new[] { 4, 9 }, new[] { 4, 1 }, ElementType.Int32)]
    public void PRelu_matches_onnxruntime(int[] xShape, int[] slopeShape, ElementType type)
    {
        var b = new OnnxModelBuilder(16);
        string x = b.Input("x", type, Dims(xShape));
        string slope = b.Input("slope", type, Dims(slopeShape));
        b.Output(b.Node("PRelu", [x, slope]), type);

        AssertMatches(b.Build(), [("x", Random(type, xShape, 12)), ("slope", Random(type, slopeShape, 13))]);
    }

    [Fact]
    public void PRelu_slope_must_broadcast_to_the_input()
    {
        var b = new OnnxModelBuilder(16);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string slope = b.Input("slope", ElementType.Float32, 4, 2, 3);
        b.Output(b.Node("PRelu", [x, slope]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void PRelu_before_opset_7_applies_a_vector_slope_per_channel()
    {
        var b = new OnnxModelBuilder(6);
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        b.Output(b.Node("PRelu", [x, b.Initializer("slope", [3], [0.5f, -2, 3])]));
        Tensor input = Tensor.FromFloats([2, 3, 4], Enumerable.Range(0, 24).Select(i => -1f - i).ToArray());

        Tensor y = ModelRunner.Run(b.Build(), [input])[0];

        float[] slopes = [0.5f, -2, 3];
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (-1f - i) * slopes[i / 4 % 3]).ToArray(), y.Span<float>().ToArray());
    }

    [Theory]
    [InlineData(ElementType.Int8, 12)]
    [InlineData(ElementType.Int32, 13)]
    [InlineData(ElementType.Int64, 13)]
    [InlineData(ElementType.UInt8, 13)]
    [InlineData(ElementType.Float64, 13)]
    [InlineData(ElementType.Float32, 13)]
    public void Clip_with_bounds_of_the_element_type_matches_onnxruntime(ElementType type, int opset)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", type, 3, 19);
        string min = b.Initializer("min", CastOperator.Convert(Tensor.FromFloats([], type == ElementType.UInt8 ? 20 : -50), type));
        string max = b.Input("max", type);
        b.Output(b.Node("Clip", [x, min, max]), type);
        Tensor upper = CastOperator.Convert(Tensor.FromFloats([], 60), type);

        AssertMatches(b.Build(), [("x", ElementTypeSets.IsFloat(type) ? Scaled(Random(type, [3, 19], 14), 100) : Random(type, [3, 19], 14)), ("max", upper)]);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Clip_with_one_or_no_bound_matches_onnxruntime(bool withMin, bool withMax)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Int64, 2, 9);
        string? min = withMin ? b.Initializer("min", Tensor.FromInt64s([], -100)) : null;
        string? max = withMax ? b.Initializer("max", Tensor.FromInt64s([], 9_000_000_000_000_000_001)) : null;
        b.Output(b.Node("Clip", [x, min ?? string.Empty, max ?? string.Empty]), ElementType.Int64);
        long[] values = Enumerable.Range(0, 18).Select(i => i % 2 == 0 ? 9_000_000_000_000_000_000 + i : -37L * i).ToArray();

        AssertMatches(b.Build(), [("x", Tensor.FromInt64s([2, 9], values))]);
    }

    [Fact]
    public void Clip_before_opset_11_reads_attribute_bounds()
    {
        var b = new OnnxModelBuilder(6);
        string x = b.Input("x", ElementType.Float64, 17);
        b.Output(b.Node("Clip", [x], ("min", -0.25f), ("max", 0.5f)), ElementType.Float64);

        Tensor y = ModelRunner.Run(b.Build(), [Random(ElementType.Float64, [17], 15)])[0];
        Assert.All(y.Span<double>().ToArray(), v => Assert.InRange(v, -0.25, 0.5));
    }

    [Fact]
    public void Float32_Clip_with_constant_bounds_is_one_step_without_weights()
    {
        var b = new OnnxModelBuilder(6);
        string x = b.Input("x", ElementType.Float32, 9);
        b.Output(b.Node("Clip", [x], ("max", 6f)));

        CompiledPlan plan = ModelRunner.Compile(b.Build()).Plan!;

        Assert.Equal("Unary", Assert.Single(plan.Steps).Kernel);
        Assert.Equal(0, plan.WeightsBytes);
    }

    private static Tensor Scaled(Tensor t, double factor)
        => CastOperator.Convert(Tensor.FromFloats(t.Shape, t.ToFloats().Select(v => (float)(v * factor)).ToArray()), t.Type);

    [Theory]
    [InlineData("Sum", ElementType.Float32, 1)]
    [InlineData("Sum", ElementType.Float32, 2)]
    [InlineData("Sum", ElementType.Float32, 4)]
    [InlineData("Mean", ElementType.Float32, 3)]
    [InlineData("Sum", ElementType.Float64, 3)]
    [InlineData("Max", ElementType.Float32, 3)]
    [InlineData("Max", ElementType.Int8, 2)]
    [InlineData("Max", ElementType.UInt64, 3)]
    [InlineData("Min", ElementType.Int64, 3)]
    [InlineData("Min", ElementType.Float16, 2)]
    [InlineData("Min", ElementType.Float32, 1)]
    public void Variadic_matches_onnxruntime(string op, ElementType type, int count)
    {
        int[][] shapes = [[3, 1, 5], [4, 1], [1], [3, 4, 5]];
        var b = new OnnxModelBuilder(13);
        var inputs = new List<(string, Tensor)>();
        for (int i = 0; i < count; i++)
        {
            inputs.Add((b.Input($"x{i}", type, Dims(shapes[i])), Random(type, shapes[i], 20 + i)));
        }

        b.Output(b.Node(op, inputs.Select(i => i.Item1).ToArray()), type);

        AssertMatches(b.Build(), inputs);
    }

    [Fact]
    public void Variadic_before_opset_8_needs_equal_shapes()
    {
        var b = new OnnxModelBuilder(7);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string y = b.Input("y", ElementType.Float32, 3);
        b.Output(b.Node("Sum", [x, y]));

        Diagnostic error = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.ShapeMismatch, error.Code);
        Assert.Contains("opset 8", error.Message);
    }

    [Theory]
    [InlineData("Relu", ElementType.UInt8)]
    [InlineData("Exp", ElementType.Int32)]
    [InlineData("Neg", ElementType.UInt32)]
    [InlineData("Sigmoid", ElementType.BFloat16)]
    public void Unary_on_an_unsupported_type_is_MSDK2005(string op, ElementType type)
    {
        var b = new OnnxModelBuilder(14);
        string x = b.Input("x", type, 3);
        b.Output(b.Node(op, [x]), type);

        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Gelu_with_an_unknown_approximation_is_an_error()
    {
        var b = new OnnxModelBuilder(20);
        string x = b.Input("x", ElementType.Float32, 3);
        b.Output(b.Node("Gelu", [x], ("approximate", "erf")));

        Assert.Equal(DiagnosticCodes.InvalidAttribute, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Gelu_before_opset_20_is_not_an_operator()
    {
        var b = new OnnxModelBuilder(18);
        string x = b.Input("x", ElementType.Float32, 3);
        b.Output(b.Node("Gelu", [x]));

        Assert.Equal(DiagnosticCodes.UnsupportedOperator, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Integer_division_by_zero_while_folding_is_a_diagnostic()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Int64, 2);
        string quotient = b.Node("Div", [b.Initializer("a", Tensor.FromInt64s([2], 7, 8)), b.Initializer("zero", Tensor.FromInt64s([], 0))]);
        b.Output(b.Node("Add", [x, quotient]), ElementType.Int64);

        Diagnostic error = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.ShapeMismatch, error.Code);
        Assert.Contains("divide by zero", error.Message);
    }

    [Fact]
    public void Constant_subgraph_is_folded_away()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 4);
        string c1 = b.Initializer("c1", [4], [1, 2, 3, 4]);
        string c2 = b.Initializer("c2", [4], [10, 20, 30, 40]);
        string sum = b.Node("Add", [c1, c2]);
        b.Output(b.Node("Mul", [x, sum]));

        CompileResult compiled = ModelRunner.Compile(b.Build());

        PlanStep step = Assert.Single(compiled.Plan!.Steps);
        Assert.Equal("Mul", step.OpType);
        Tensor[] y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([4], 1, 1, 1, 1)]);
        Assert.Equal(new float[] { 11, 22, 33, 44 }, y[0].Span<float>().ToArray());
    }
}
