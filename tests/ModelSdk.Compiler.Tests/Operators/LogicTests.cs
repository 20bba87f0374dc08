using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class LogicTests
{
    [Theory]
    [InlineData("Equal", ElementType.Float32)]
    [InlineData("Equal", ElementType.Int64)]
    [InlineData("Equal", ElementType.Bool)]
    [InlineData("Equal", ElementType.UInt8)]
    [InlineData("Less", ElementType.Float32)]
    [InlineData("Less", ElementType.Int32)]
    [InlineData("Less", ElementType.Float64)]
    [InlineData("LessOrEqual", ElementType.Int64)]
    [InlineData("LessOrEqual", ElementType.Float32)]
    [InlineData("Greater", ElementType.Int16)]
    [InlineData("Greater", ElementType.UInt64)]
    [InlineData("GreaterOrEqual", ElementType.Float32)]
    [InlineData("GreaterOrEqual", ElementType.Int8)]
    public void Comparison_matches_onnxruntime(string op, ElementType type)
    {
        var b = new OnnxModelBuilder(16);
        string x = b.Input("x", type, 2, 1, 9);
        string y = b.Input("y", type, 3, 9);
        b.Output(b.Node(op, [x, y]), ElementType.Bool);
        // Few distinct values, so equal pairs occur.
        Tensor a = Few(type, [2, 1, 9], 1), c = Few(type, [3, 9], 2);

        AssertMatches(b.Build(), [("x", a), ("y", c)]);
    }

    private static Tensor Few(ElementType type, int[] shape, int seed)
        => type == ElementType.Bool ? Random(type, shape, seed) : CastOperator.Convert(Values<float>(ElementType.Float32, shape, seed, r => r.Next(3)), type);

    [Fact]
    public void Equal_is_false_for_NaN_and_Less_orders_infinities()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 4);
        string y = b.Input("y", ElementType.Float32, 4);
        b.Output(b.Node("Equal", [x, y]), ElementType.Bool);
        b.Output(b.Node("Less", [x, y]), ElementType.Bool);
        Tensor a = Tensor.FromFloats([4], float.NaN, float.NegativeInfinity, 1, -0f);
        Tensor c = Tensor.FromFloats([4], float.NaN, 0, float.PositiveInfinity, 0f);

        Tensor[] r = AssertMatches(b.Build(), [("x", a), ("y", c)]);
        Assert.Equal(new byte[] { 0, 0, 0, 1 }, r[0].Bytes.ToArray());
        Assert.Equal(new byte[] { 0, 1, 1, 0 }, r[1].Bytes.ToArray());
    }

    [Theory]
    [InlineData("And", new[] { 3, 4 }, new[] { 3, 4 })]
    [InlineData("Or", new[] { 3, 4, 5 }, new[] { 5 })]
    [InlineData("Xor", new[] { 3, 1, 5 }, new[] { 4, 1 })]
    [InlineData("And", new[] { 1 }, new[] { 2, 7 })]
    public void Logic_matches_onnxruntime(string op, int[] aShape, int[] bShape)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Bool, Dims(aShape));
        string y = b.Input("y", ElementType.Bool, Dims(bShape));
        b.Output(b.Node(op, [x, y]), ElementType.Bool);

        AssertMatches(b.Build(), [("x", Random(ElementType.Bool, aShape, 3)), ("y", Random(ElementType.Bool, bShape, 4))]);
    }

    [Fact]
    public void Not_matches_onnxruntime()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Bool, 3, 11);
        b.Output(b.Node("Not", [x]), ElementType.Bool);

        AssertMatches(b.Build(), [("x", Random(ElementType.Bool, [3, 11], 5))]);
    }

    [Fact]
    public void Logic_before_opset_7_broadcasts_at_the_axis()
    {
        var b = new OnnxModelBuilder(6);
        string x = b.Input("x", ElementType.Bool, 2, 3, 2);
        string y = b.Input("y", ElementType.Bool, 3);
        b.Output(b.Node("And", [x, y], ("broadcast", 1), ("axis", 1)), ElementType.Bool);
        var all = Tensor.From<bool>(ElementType.Bool, [2, 3, 2], Enumerable.Repeat(true, 12).ToArray());

        Tensor r = ModelRunner.Run(b.Build(), [all, Tensor.From<bool>(ElementType.Bool, [3], [true, false, true])])[0];

        Assert.Equal(new bool[] { true, true, false, false, true, true, true, true, false, false, true, true }, r.Span<bool>().ToArray());
    }

    [Fact]
    public void Logic_on_numbers_is_MSDK2005()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 3);
        b.Output(b.Node("And", [x, x]), ElementType.Bool);

        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    [Theory]
    [InlineData("IsNaN", 1, 1, ElementType.Float32)]
    [InlineData("IsNaN", 1, 1, ElementType.Float64)]
    [InlineData("IsInf", 1, 1, ElementType.Float32)]
    [InlineData("IsInf", 1, 0, ElementType.Float32)]
    [InlineData("IsInf", 0, 1, ElementType.Float64)]
    [InlineData("IsInf", 0, 0, ElementType.Float32)]
    public void IsNaN_and_IsInf_match_onnxruntime(string op, int positive, int negative, ElementType type)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", type, 6);
        b.Output(op == "IsNaN" ? b.Node(op, [x]) : b.Node(op, [x], ("detect_positive", positive), ("detect_negative", negative)), ElementType.Bool);
        Tensor input = CastOperator.Convert(Tensor.FromFloats([6], 1, float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.MaxValue), type);

        AssertMatches(b.Build(), [("x", input)]);
    }

    [Theory]
    [InlineData(new[] { 2, 1, 5 }, new[] { 3, 1 }, new[] { 5 }, ElementType.Float32)]
    [InlineData(new[] { 4, 6 }, new[] { 4, 6 }, new[] { 4, 6 }, ElementType.Int64)]
    [InlineData(new[] { 6 }, new[] { 3, 6 }, new int[0], ElementType.Int32)]
    [InlineData(new[] { 3, 1 }, new[] { 1, 7 }, new[] { 3, 7 }, ElementType.Int8)]
    [InlineData(new[] { 1 }, new[] { 2, 5 }, new[] { 2, 5 }, ElementType.Float16)]
    [InlineData(new[] { 2, 5 }, new[] { 2, 1 }, new[] { 1, 5 }, ElementType.UInt8)]
    public void Where_matches_onnxruntime(int[] cShape, int[] xShape, int[] yShape, ElementType type)
    {
        var b = new OnnxModelBuilder(16);
        string c = b.Input("c", ElementType.Bool, Dims(cShape));
        string x = b.Input("x", type, Dims(xShape));
        string y = b.Input("y", type, Dims(yShape));
        b.Output(b.Node("Where", [c, x, y]), type);

        AssertMatches(b.Build(), [("c", Random(ElementType.Bool, cShape, 6)), ("x", Random(type, xShape, 7)), ("y", Random(type, yShape, 8))]);
    }

    [Fact]
    public void Where_selects_bool_values()
    {
        // ONNX Runtime has no bool Where to compare with.
        var b = new OnnxModelBuilder(16);
        string c = b.Input("c", ElementType.Bool, 4);
        string x = b.Input("x", ElementType.Bool, 1);
        string y = b.Input("y", ElementType.Bool, 4);
        b.Output(b.Node("Where", [c, x, y]), ElementType.Bool);
        Tensor Bools(params bool[] v) => Tensor.From<bool>(ElementType.Bool, [v.Length], v);

        Tensor r = ModelRunner.Run(b.Build(), [Bools(true, false, true, false), Bools(true), Bools(false, false, true, true)])[0];

        Assert.Equal(new[] { true, false, true, true }, r.Span<bool>().ToArray());
    }

    [Fact]
    public void Where_shapes_that_do_not_broadcast_are_MSDK2003()
    {
        var b = new OnnxModelBuilder(13);
        string c = b.Input("c", ElementType.Bool, 2, 3);
        string x = b.Input("x", ElementType.Float32, 4);
        b.Output(b.Node("Where", [c, x, x]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Steps_of_the_family_name_their_kernel_parameters_in_order()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string y = b.Input("y", ElementType.Float32, 3);
        string less = b.Node("Less", [x, y]);
        string both = b.Node("And", [less, b.Node("IsNaN", [x])]);
        string chosen = b.Node("Where", [both, x, b.Node("Elu", [y])]);
        b.Output(b.Node("Cast", [b.Node("Sub", [chosen, y])], ("to", 7)), ElementType.Int64);

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(b.Build()).Plan!.Steps;

        Assert.Equal(["Compare", "Classify", "Logical", "Unary", "Where", "Binary", "Cast"], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    [Fact]
    public void Integer_shape_arithmetic_with_Equal_Where_and_Cast_folds_exactly()
    {
        // The pattern exporters emit for dynamic reshapes: shape entries equal to a sentinel replaced by
        // another value, with int64 values far above float precision. All of it folds at compile time.
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string dims = b.Initializer("dims", Tensor.FromInt64s([3], 9_007_199_254_740_993, -1, 6));
        string isMissing = b.Node("Equal", [dims, b.Initializer("missing", Tensor.FromInt64s([], -1))]);
        string filled = b.Node("Where", [isMissing, b.Initializer("one", Tensor.FromInt64s([], 1)), dims]);
        string asInt32 = b.Node("Cast", [filled], ("to", 6));
        string back = b.Node("Cast", [asInt32], ("to", 7));
        string product = b.Node("Mul", [back, b.Initializer("two", Tensor.FromInt64s([], 2))]);
        b.Output(b.Node("Relu", [x]));
        b.Output(product, ElementType.Int64);

        CompileResult compiled = ModelRunner.Compile(b.Build());

        Assert.Equal(["Relu", "Identity"], compiled.Plan!.Steps.Select(s => s.OpType));
        Tensor[] y = ModelRunner.Run(b.Build(), [TensorAssert.Random([2, 3])]);
        // 2^53 + 1 truncates to int32 as 1 (its low 32 bits), then doubles.
        Assert.Equal(new long[] { 2, 2, 12 }, y[1].Span<long>().ToArray());
    }
}
