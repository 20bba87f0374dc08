using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary>Resize and Upsample against ONNX Runtime.</summary>
public class ResizeTests
{
    public static TheoryData<string, string, string, float[]> NearestCases()
    {
        var data = new TheoryData<string, string, string, float[]>();
        string[] transformations = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"];
        string[] roundings = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"];
        float[][] scales = [[1, 1, 2, 3], [1, 1, 0.5f, 0.75f], [1, 1, 1.7f, 0.6f], [1, 2, 1, 2.5f]];
        foreach (string t in transformations)
        {
            foreach (string r in roundings)
            {
                data.Add(t, r, "scales", scales[(Array.IndexOf(transformations, t) + Array.IndexOf(roundings, r)) % scales.Length]);
            }
        }

        data.Add("half_pixel", "round_prefer_floor", "sizes", [1, 3, 7, 3]);
        data.Add("align_corners", "round_prefer_ceil", "sizes", [1, 3, 1, 11]);
        data.Add("asymmetric", "floor", "sizes", [2, 3, 2, 8]);
        return data;
    }

    [Theory]
    [MemberData(nameof(NearestCases))]
    public void Nearest_matches_onnxruntime(string transformation, string rounding, string by, float[] factors)
    {
        int[] shape = [1, 3, 4, 5];
        var b = new OnnxModelBuilder(opset: 11);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(Resize(b, x, by, factors, ("mode", "nearest"), ("coordinate_transformation_mode", transformation), ("nearest_mode", rounding)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Theory]
    [InlineData(ElementType.Int32)]
    [InlineData(ElementType.UInt8)]
    [InlineData(ElementType.Int8)]
    public void Nearest_moves_any_element_type(ElementType type)
    {
        int[] shape = [2, 3, 5];
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", type, Dims(shape));
        b.Output(Resize(b, x, "scales", [1, 2.5f, 0.8f], ("mode", "nearest")), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    public static TheoryData<string, int[], string, float[]> LinearCases() => new()
    {
        { "half_pixel", [1, 2, 4, 5], "scales", [1, 1, 2, 1.5f] },
        { "half_pixel", [2, 3, 7, 6], "scales", [1, 1, 0.5f, 0.6f] },
        { "pytorch_half_pixel", [1, 2, 4, 5], "sizes", [1, 2, 1, 9] },
        { "align_corners", [1, 2, 4, 5], "sizes", [1, 2, 7, 3] },
        { "align_corners", [1, 1, 4, 5], "scales", [1, 1, 2, 3] },

        // ONNX's reference divides by the unrounded output length (2.4 here) and so differs; ONNX Runtime, followed here, by the real one.
        { "align_corners", [1, 1, 2, 4], "scales", [1, 1, 0.6f, 0.6f] },
        { "asymmetric", [1, 2, 4, 5], "scales", [1, 1, 1.3f, 2.2f] },
        { "half_pixel", [1, 4, 5, 3], "scales", [1, 2, 0.7f, 1] }, // NHWC
        { "half_pixel", [6, 7], "scales", [1.5f, 0.5f] },
        { "align_corners", [3, 4, 5], "scales", [2, 1.5f, 0.8f] }, // trilinear over every axis
        { "half_pixel", [1, 2, 3, 4, 5], "sizes", [1, 2, 5, 2, 8] },
    };

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void Linear_matches_onnxruntime(string transformation, int[] shape, string by, float[] factors)
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(Resize(b, x, by, factors, ("mode", "linear"), ("coordinate_transformation_mode", transformation)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Theory]
    [InlineData("half_pixel", -0.75f, 0, new float[] { 1, 1, 2, 1.5f })]
    [InlineData("half_pixel", -0.5f, 1, new float[] { 1, 1, 0.6f, 0.8f })]
    [InlineData("align_corners", -0.75f, 0, new float[] { 1, 1, 1.8f, 2.5f })]
    [InlineData("asymmetric", -0.5f, 1, new float[] { 1, 1, 3, 2 })]
    [InlineData("pytorch_half_pixel", -0.75f, 0, new float[] { 1.5f, 0.7f })]
    public void Cubic_matches_onnxruntime(string transformation, float a, int excludeOutside, float[] scales)
    {
        int[] shape = scales.Length == 2 ? [6, 7] : [2, 2, 6, 7];
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(Resize(b, x, "scales", scales, ("mode", "cubic"), ("coordinate_transformation_mode", transformation),
            ("cubic_coeff_a", a), ("exclude_outside", excludeOutside)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Theory]
    [InlineData("nearest")]
    [InlineData("linear")]
    [InlineData("cubic")]
    public void Tf_crop_and_resize_extrapolates_outside_the_roi(string mode)
    {
        int[] shape = [1, 1, 6, 7];
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string roi = b.Initializer("roi", Tensor.FromFloats([8], 0, 0, -0.2f, 0.3f, 1, 1, 0.9f, 1.4f));
        string sizes = b.Initializer("sizes", Tensor.FromInt64s([4], 1, 1, 5, 8));
        b.Output(b.Node("Resize", [x, roi, null, sizes], ("mode", mode), ("coordinate_transformation_mode", "tf_crop_and_resize"), ("extrapolation_value", 9.5f)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Theory]
    [InlineData("stretch", new long[] { 9, 4 })]
    [InlineData("not_larger", new long[] { 9, 4 })]
    [InlineData("not_smaller", new long[] { 9, 4 })]
    public void Opset_18_axes_and_aspect_ratio_policy_match_onnxruntime(string policy, long[] sizes)
    {
        int[] shape = [1, 2, 4, 5];
        var b = new OnnxModelBuilder(18);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string s = b.Initializer("sizes", Tensor.FromInt64s([2], sizes));
        b.Output(b.Node("Resize", [x, null, null, s], ("mode", "linear"), ("axes", new long[] { 3, 2 }), ("keep_aspect_ratio_policy", policy)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Fact]
    public void Opset_19_half_pixel_symmetric_matches_onnxruntime()
    {
        int[] shape = [1, 2, 4, 5];
        var b = new OnnxModelBuilder(19);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(Resize(b, x, "scales", [1, 1, 1.7f, 0.7f], ("mode", "linear"), ("coordinate_transformation_mode", "half_pixel_symmetric")));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Theory]
    [InlineData(10, "nearest", new float[] { 1, 1, 2, 3 })]
    [InlineData(10, "nearest", new float[] { 1, 1, 0.5f, 0.7f })]
    [InlineData(10, "linear", new float[] { 1, 1, 2.5f, 1.5f })]
    public void Opset_10_resize_matches_onnxruntime(int opset, string mode, float[] scales)
    {
        int[] shape = [1, 2, 4, 5];
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(b.Node("Resize", [x, b.Initializer("scales", [scales.Length], scales)], ("mode", mode)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Theory]
    [InlineData(7, "nearest")]
    [InlineData(7, "linear")]
    [InlineData(9, "nearest")]
    [InlineData(9, "linear")]
    public void Upsample_matches_onnxruntime(int opset, string mode)
    {
        int[] shape = [1, 2, 3, 4];
        float[] scales = [1, 1, 2, 2.5f];
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(opset < 9
            ? b.Node("Upsample", [x], ("mode", mode), ("scales", scales))
            : b.Node("Upsample", [x, b.Initializer("scales", [4], scales)], ("mode", mode)));

        AssertMatches(b.Build(), [("x", TensorAssert.Random(shape))]);
    }

    [Fact]
    public void Resize_by_one_is_a_view()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 1, 2, 3);
        string relu = b.Node("Relu", [x]);
        b.Output(Resize(b, relu, "scales", [1, 1, 1], ("mode", "cubic")));

        Assert.Equal(["Unary"], ModelRunner.Compile(b.Build()).Plan!.Steps.Select(s => s.Kernel));
    }

    [Fact]
    public void Unsupported_resizes_get_clear_diagnostics()
    {
        Assert.Equal(DiagnosticCodes.NotConstant, Error(13, b => b.Node("Resize", [X(b), null, b.Input("scales", ElementType.Float32, 4)])).Code);
        Assert.Equal(DiagnosticCodes.UnsupportedAttribute, Error(18, b => Resize(b, X(b), "scales", [1, 1, 0.5f, 0.5f], ("mode", "linear"), ("antialias", 1))).Code);
        Assert.Equal(DiagnosticCodes.UnsupportedType, Error(13, b => Resize(b, b.Input("i", ElementType.Int32, 1, 1, 2, 2), "scales", [1, 1, 2, 2], ("mode", "linear"))).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(13, b => Resize(b, X(b), "scales", [1, 1, 2, 2], ("mode", "area"))).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(13, b => Resize(b, X(b), "scales", [1, 1, 2, 2], ("coordinate_transformation_mode", "tf_half_pixel_for_nn"))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(13, b => Resize(b, X(b), "scales", [1, 2, 2])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(9, b => b.Node("Upsample", [X(b), b.Initializer("scales", [4], [1, 1, 0.5f, 2])])).Code);
        Assert.Equal(DiagnosticCodes.UnsupportedOperator, Error(10, b => b.Node("Upsample", [X(b), b.Initializer("scales", [4], [1, 1, 2, 2])])).Code);

        static string X(OnnxModelBuilder b) => b.Input("x", ElementType.Float32, 1, 1, 2, 2);
        static Diagnostic Error(int opset, Func<OnnxModelBuilder, string> build)
        {
            var b = new OnnxModelBuilder(opset);
            b.Output(build(b));
            return ModelRunner.CompileError(b.Build());
        }
    }

    private static string Resize(OnnxModelBuilder b, string x, string by, float[] factors, params (string, object)[] attributes)
    {
        string values = by == "scales"
            ? b.Initializer($"scales{factors.Length}", [factors.Length], factors)
            : b.Initializer($"sizes{factors.Length}", Tensor.FromInt64s([factors.Length], factors.Select(f => (long)f).ToArray()));

        // Opsets 11 and 12 require the roi and scales inputs, empty when unused.
        string? none = b.Opset < 13 ? b.Initializer("empty", Tensor.FromFloats([0])) : null;
        return b.Node("Resize", by == "scales" ? [x, none, values] : [x, none, none, values], attributes);
    }
}
