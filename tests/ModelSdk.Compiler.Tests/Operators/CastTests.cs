using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

public class CastTests
{
    private static readonly ElementType[] Types =
    [
        ElementType.Float32, ElementType.Float16, ElementType.BFloat16, ElementType.Float64, ElementType.Int8, ElementType.UInt8,
        ElementType.Int16, ElementType.UInt16, ElementType.Int32, ElementType.UInt32, ElementType.Int64, ElementType.UInt64, ElementType.Bool,
    ];

    public static TheoryData<ElementType, ElementType> Pairs()
    {
        var data = new TheoryData<ElementType, ElementType>();
        foreach (ElementType from in Types)
        {
            foreach (ElementType to in Types)
            {
                if (from != to)
                {
                    data.Add(from, to);
                }
            }
        }

        return data;
    }

    /// <summary>
    /// Every pair of types, on values every type can hold (0 … 100 with fractions, and negatives where both
    /// types are signed): conversions out of range are undefined in ONNX and differ between platforms.
    /// </summary>
    [Theory]
    [MemberData(nameof(Pairs))]
    public void Cast_matches_onnxruntime(ElementType from, ElementType to)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", from, 4, 9);
        b.Output(b.Node("Cast", [x], ("to", OnnxModelBuilder.OnnxType(to))), to);
        bool signed = IsSigned(from) && IsSigned(to);
        float[] values = Enumerable.Range(0, 36).Select(i => (i % 3 == 0 ? 0 : i * 2.75f + 0.375f) * (signed && i % 2 == 1 ? -1 : 1)).ToArray();
        Tensor input = from == ElementType.Bool
            ? Random(ElementType.Bool, [4, 9], 1)
            : CastOperator.Convert(Tensor.FromFloats([4, 9], values), from);

        AssertMatches(b.Build(), [("x", input)]);
    }

    private static bool IsSigned(ElementType t) => t is not (ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32 or ElementType.UInt64 or ElementType.Bool);

    [Fact]
    public void Cast_truncates_toward_zero_and_maps_nonzero_and_NaN_to_true()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 6);
        b.Output(b.Node("Cast", [x], ("to", 6)), ElementType.Int32);
        b.Output(b.Node("Cast", [x], ("to", 9)), ElementType.Bool);

        Tensor[] y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([6], -2.9f, -0.5f, 0f, 0.5f, 2.9f, float.NaN)]);

        Assert.Equal(new[] { -2, 0, 0, 0, 2 }, y[0].Span<int>()[..5].ToArray());
        Assert.Equal(new byte[] { 1, 1, 0, 1, 1, 1 }, y[1].Bytes.ToArray());
    }

    [Fact]
    public void Cast_narrows_integers_by_wrapping()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Int64, 4);
        b.Output(b.Node("Cast", [x], ("to", 3)), ElementType.Int8);
        b.Output(b.Node("Cast", [x], ("to", 13)), ElementType.UInt64);

        Tensor[] y = AssertMatches(b.Build(), [("x", Tensor.FromInt64s([4], 300, -129, long.MinValue, -1))]);

        Assert.Equal(new sbyte[] { 44, 127, 0, -1 }, y[0].Span<sbyte>().ToArray());
        Assert.Equal(new[] { 300UL, unchecked((ulong)-129L), 1UL << 63, ulong.MaxValue }, y[1].Span<ulong>().ToArray());
    }

    [Fact]
    public void Cast_to_the_same_type_is_a_view()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 5);
        string same = b.Node("Cast", [x], ("to", 1));
        b.Output(b.Node("Relu", [same]));

        Assert.Equal("Relu", Assert.Single(ModelRunner.Compile(b.Build()).Plan!.Steps).OpType);
    }

    [Theory]
    [InlineData(ElementType.Float32, ElementType.Float16)]
    [InlineData(ElementType.Int64, ElementType.Float32)]
    [InlineData(ElementType.Float64, ElementType.Int32)]
    [InlineData(ElementType.Bool, ElementType.Float32)]
    public void CastLike_matches_onnxruntime(ElementType from, ElementType like)
    {
        var b = new OnnxModelBuilder(15);
        string x = b.Input("x", from, 3, 5);
        string target = b.Input("like", like, 1);
        b.Output(b.Node("CastLike", [x, target]), like);
        Tensor input = from == ElementType.Bool ? Random(from, [3, 5], 2) : CastOperator.Convert(TensorAssert.Random([3, 5], 2, 0, 50), from);

        AssertMatches(b.Build(), [("x", input), ("like", CastOperator.Convert(Tensor.FromFloats([1], 1), like))]);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(17)]
    [InlineData(99)]
    public void Cast_to_an_unsupported_type_is_MSDK2005(int to)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 5);
        b.Output(b.Node("Cast", [x], ("to", to)));

        Diagnostic error = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.UnsupportedType, error.Code);
        Assert.Contains("Cast to", error.Message);
    }

    [Fact]
    public void Cast_without_a_target_is_MSDK2002()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 5);
        b.Output(b.Node("Cast", [x]));

        Assert.Equal(DiagnosticCodes.InvalidAttribute, ModelRunner.CompileError(b.Build()).Code);
    }
}
