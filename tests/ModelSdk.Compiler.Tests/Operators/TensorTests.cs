using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary>Slice, Split, Expand, Tile, Pad, DepthToSpace, SpaceToDepth, Trilu, Range, ConstantOfShape, Size, EyeLike, Compress.</summary>
public class TensorTests
{
    private static string Ints(OnnxModelBuilder b, string name, params long[] values) => b.Initializer(name, Tensor.FromInt64s([values.Length], values));

    private static string Int32List(OnnxModelBuilder b, string name, params int[] values)
        => b.Initializer(name, Tensor.From<int>(ElementType.Int32, [values.Length], values));

    [Theory]
    [InlineData(new long[] { 1, 0 }, new long[] { 3, 4 }, null, null, ElementType.Float32)]
    [InlineData(new long[] { 0, 1, 2 }, new long[] { -1, 1000, 5 }, null, null, ElementType.Int64)]
    [InlineData(new long[] { -1 }, new long[] { long.MinValue }, new long[] { 1 }, new long[] { -1 }, ElementType.Float32)] // reverse an axis
    [InlineData(new long[] { 4, -2 }, new long[] { 0, -100 }, new long[] { 2, 0 }, new long[] { -2, -3 }, ElementType.Int32)]
    [InlineData(new long[] { 1, 0 }, new long[] { long.MaxValue, 2 }, new long[] { -1, -3 }, new long[] { 3, 1 }, ElementType.UInt8)]
    [InlineData(new long[] { -100, 5 }, new long[] { 100, 9 }, new long[] { 0, 2 }, new long[] { 100, 1 }, ElementType.Float16)] // huge step: one element
    [InlineData(new long[] { 3 }, new long[] { 1 }, new long[] { 1 }, null, ElementType.Float64)] // empty
    public void Slice_matches_onnxruntime(long[] starts, long[] ends, long[]? axes, long[]? steps, ElementType type)
    {
        int[] shape = [3, 5, 7];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", type, Dims(shape));
        string?[] inputs = [x, Ints(b, "starts", starts), Ints(b, "ends", ends),
            axes is null ? (steps is null ? null : string.Empty) : Ints(b, "axes", axes), steps is null ? null : Ints(b, "steps", steps)];
        b.Output(b.Node("Slice", inputs.Where(i => i is not null).Select(i => i!.Length == 0 ? null : i).ToArray()), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    [Fact]
    public void Slice_takes_int32_bounds_and_opset_9_attributes()
    {
        int[] shape = [4, 6];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(b.Node("Slice", [x, Int32List(b, "s", 1, -1), Int32List(b, "e", 3, 0), Int32List(b, "a", 0, 1), Int32List(b, "st", 1, -2)]));
        AssertMatches(b.Build(), [("x", Random(ElementType.Float32, shape))]);

        var old = new OnnxModelBuilder(9);
        string y = old.Input("x", ElementType.Int64, Dims(shape));
        old.Output(old.Node("Slice", [y], ("starts", new long[] { -3, 1 }), ("ends", new long[] { 100, -1 }), ("axes", new long[] { 1, 0 })), ElementType.Int64);
        AssertMatches(old.Build(), [("x", Random(ElementType.Int64, shape))]);
    }

    [Fact]
    public void Full_slice_is_a_view()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string relu = b.Node("Relu", [x]);
        b.Output(b.Node("Slice", [relu, Ints(b, "s", 0, 0), Ints(b, "e", 2, 99)]));

        Assert.Equal(["Unary"], ModelRunner.Compile(b.Build()).Plan!.Steps.Select(s => s.Kernel));
    }

    [Theory]
    [InlineData(13, 1, new long[] { 2, 0, 4 }, 3)]
    [InlineData(13, -1, null, 5)]
    [InlineData(11, 0, new long[] { 1, 2 }, 2)] // split attribute before opset 13
    [InlineData(18, 0, null, 2)] // num_outputs: 3 → 2, 1
    [InlineData(18, 2, null, 3)] // num_outputs: 5 → 2, 2, 1
    public void Split_matches_onnxruntime(int opset, int axis, long[]? split, int outputs)
    {
        int[] shape = [3, 6, 5];
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        var attributes = new List<(string, object)> { ("axis", axis) };
        string?[] inputs = [x];
        if (split is not null && opset >= 13)
        {
            inputs = [x, Ints(b, "split", split)];
        }
        else if (split is not null)
        {
            attributes.Add(("split", split));
        }
        else if (opset >= 18)
        {
            attributes.Add(("num_outputs", outputs));
        }

        foreach (string y in b.NodeMulti("Split", inputs, outputs, [.. attributes]))
        {
            b.Output(y);
        }

        AssertMatches(b.Build(), [("x", Random(ElementType.Float32, shape))]);
    }

    [Theory]
    [InlineData(new[] { 3, 1 }, new long[] { 2, 1, 6 }, ElementType.Float32)]
    [InlineData(new[] { 1, 4, 1 }, new long[] { 3, 1, 1 }, ElementType.Int64)] // bidirectional: 1 keeps the input's length
    [InlineData(new[] { 5 }, new long[] { 5 }, ElementType.Int32)]
    [InlineData(new[] { 2, 1, 3 }, new long[] { 2, 0, 3 }, ElementType.Bool)]
    [InlineData(new[] { 1 }, new long[] { 2, 3, 4 }, ElementType.Float16)]
    public void Expand_matches_onnxruntime(int[] shape, long[] target, ElementType type)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", type, Dims(shape));
        b.Output(b.Node("Expand", [x, Ints(b, "shape", target)]), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, new long[] { 2, 3 }, ElementType.Float32)]
    [InlineData(new[] { 2, 1, 3 }, new long[] { 1, 4, 1 }, ElementType.Int64)]
    [InlineData(new[] { 3 }, new long[] { 0 }, ElementType.Float32)]
    [InlineData(new[] { 2, 2, 2 }, new long[] { 3, 1, 2 }, ElementType.UInt16)]
    public void Tile_matches_onnxruntime(int[] shape, long[] repeats, ElementType type)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", type, Dims(shape));
        b.Output(b.Node("Tile", [x, Ints(b, "repeats", repeats)]), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    [Theory]
    [InlineData("constant", new long[] { 0, 1, 2, 0, 2, 1 }, ElementType.Float32)]
    [InlineData("reflect", new long[] { 1, 2, 3, 1, 1, 3 }, ElementType.Float32)]
    [InlineData("edge", new long[] { 2, 0, 5, 1, 3, 0 }, ElementType.Int64)]
    [InlineData("constant", new long[] { -1, 2, 0, 0, -2, 1 }, ElementType.Int32)] // negative pads crop
    [InlineData("edge", new long[] { 0, -1, 1, 0, 1, -2 }, ElementType.UInt8)]
    [InlineData("reflect", new long[] { 0, 0, 0, 0, 0, 0 }, ElementType.Float32)]
    public void Pad_matches_onnxruntime(string mode, long[] pads, ElementType type)
    {
        int[] shape = [2, 4, 5];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", type, Dims(shape));
        b.Output(b.Node("Pad", [x, Ints(b, "pads", pads)], ("mode", mode)), type);

        AssertMatches(b.Build(), [("x", Random(type, shape))]);
    }

    [Fact]
    public void Pad_constant_value_may_be_computed_at_run_time()
    {
        int[] shape = [3, 4];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string v = b.Input("v", ElementType.Float32);
        b.Output(b.Node("Pad", [x, Ints(b, "pads", 1, 0, 2, 3), v]));

        AssertMatches(b.Build(), [("x", Random(ElementType.Float32, shape)), ("v", Tensor.FromFloats([], 7.5f))]);
    }

    [Theory]
    [InlineData(9, "constant")]
    [InlineData(9, "reflect")]
    [InlineData(18, "edge")]
    [InlineData(19, "wrap")]
    public void Pad_attributes_and_axes_match_onnxruntime(int opset, string mode)
    {
        int[] shape = [1, 2, 4, 5];
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string y = opset < 11
            ? b.Node("Pad", [x], ("mode", mode), ("pads", new long[] { 0, 0, 1, 3, 0, 1, 2, 1 }), ("value", 1.5f))
            : b.Node("Pad", [x, Ints(b, "pads", 2, 3, 1, 4), b.Initializer("c", Tensor.FromFloats([], -2f)), Ints(b, "axes", -2, 3)], ("mode", mode));
        b.Output(y);

        AssertMatches(b.Build(), [("x", Random(ElementType.Float32, shape))]);
    }

    [Theory]
    [InlineData("DepthToSpace", "DCR", 2)]
    [InlineData("DepthToSpace", "CRD", 2)]
    [InlineData("DepthToSpace", "CRD", 3)]
    [InlineData("SpaceToDepth", null, 2)]
    [InlineData("SpaceToDepth", null, 3)]
    public void Depth_and_space_rearrangements_match_onnxruntime(string op, string? mode, int block)
    {
        int[] shape = op == "DepthToSpace" ? [2, 2 * block * block, 3, 5] : [2, 3, 2 * block, 3 * block];
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(mode is null ? b.Node(op, [x], ("blocksize", block)) : b.Node(op, [x], ("blocksize", block), ("mode", mode)));

        AssertMatches(b.Build(), [("x", Random(ElementType.Float32, shape))]);
    }

    [Theory]
    [InlineData(1, null, ElementType.Float32)]
    [InlineData(0, null, ElementType.Int64)]
    [InlineData(1, -2L, ElementType.Int32)]
    [InlineData(0, 3L, ElementType.Float32)]
    [InlineData(1, 100L, ElementType.Float32)]
    [InlineData(0, -100L, ElementType.Float64)]
    public void Trilu_matches_onnxruntime(int upper, long? k, ElementType type)
    {
        int[] shape = [2, 4, 6];
        var b = new OnnxModelBuilder(14);
        string x = b.Input("x", type, Dims(shape));
        string?[] inputs = k is null ? [x] : [x, b.Input("k", ElementType.Int64)];
        b.Output(b.Node("Trilu", inputs, ("upper", upper)), type);

        var feeds = new List<(string, Tensor)> { ("x", Random(type, shape)) };
        if (k is { } value)
        {
            feeds.Add(("k", Tensor.FromInt64s([], value)));
        }

        AssertMatches(b.Build(), feeds);
    }

    [Theory]
    [InlineData(ElementType.Float32, 1.5, 7.25, 0.5)]
    [InlineData(ElementType.Float32, 3, -2, -0.7)]
    [InlineData(ElementType.Int32, 10, -3, -4)]
    [InlineData(ElementType.Int64, -5, 9, 3)]
    [InlineData(ElementType.Int16, 0, 1, 5)]
    [InlineData(ElementType.Float64, 5, 1, 1)] // empty
    public void Range_of_constants_folds(ElementType type, double start, double limit, double delta)
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", type, 1);
        string range = b.Node("Range", [b.Initializer("s", Common(type, start)), b.Initializer("l", Common(type, limit)), b.Initializer("d", Common(type, delta))]);
        string one = b.Node("Concat", [range, x], ("axis", 0));
        b.Output(one, type);
        byte[] model = b.Build();

        Assert.Equal(["Concat"], ModelRunner.Compile(model).Plan!.Steps.Select(s => s.Kernel).Distinct());
        AssertMatches(model, [("x", Random(type, [1]))]);
    }

    private static Tensor Common(ElementType type, double value) => type switch
    {
        ElementType.Float32 => Tensor.FromFloats([], (float)value),
        ElementType.Float64 => Tensor.From<double>(type, [], [value]),
        ElementType.Int16 => Tensor.From<short>(type, [], [(short)value]),
        ElementType.Int32 => Tensor.From<int>(type, [], [(int)value]),
        _ => Tensor.FromInt64s([], (long)value),
    };

    [Fact]
    public void Range_with_run_time_inputs_is_MSDK2004()
    {
        var b = new OnnxModelBuilder(11);
        string s = b.Input("s", ElementType.Float32);
        b.Output(b.Node("Range", [s, b.Initializer("l", Tensor.FromFloats([], 4)), b.Initializer("d", Tensor.FromFloats([], 1))]));

        Assert.Equal(DiagnosticCodes.NotConstant, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Large_ConstantOfShape_fills_at_run_time_and_small_ones_fold()
    {
        // 2^25 int32 elements are 128 MiB: over the folding limit, so the plan keeps a Fill step.
        var b = new OnnxModelBuilder(9);
        string x = b.Input("x", ElementType.Int32, 1);
        string big = b.Node("ConstantOfShape", [Ints(b, "big", 1 << 25)], ("value", Tensor.From<int>(ElementType.Int32, [1], [7])));
        string small = b.Node("ConstantOfShape", [Ints(b, "small", 2, 3)], ("value", Tensor.From<int>(ElementType.Int32, [1], [-4])));
        string part = b.Node("Slice", [big], ("starts", new long[] { 5 }), ("ends", new long[] { 8 }));
        b.Output(b.Node("Concat", [part, x], ("axis", 0)), ElementType.Int32);
        b.Output(b.Node("Add", [small, x]), ElementType.Int32);
        byte[] model = b.Build();

        var steps = ModelRunner.Compile(model).Plan!.Steps.Select(s => s.Kernel).ToList();
        Assert.Single(steps, "Fill");
        AssertMatches(model, [("x", Int32s([1]))]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(ElementType.Int64)]
    [InlineData(ElementType.Float64)]
    public void ConstantOfShape_Size_and_EyeLike_match_onnxruntime(ElementType? valueType)
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, 3, 5);
        var attributes = valueType is { } t ? new (string, object)[] { ("value", ScalarOf(t, 2.5)) } : [];
        b.Output(b.Node("ConstantOfShape", [Ints(b, "shape", 2, 3)], attributes), valueType ?? ElementType.Float32);
        b.Output(b.Node("Size", [x]), ElementType.Int64);
        b.Output(b.Node("EyeLike", [x], ("k", 2)));
        b.Output(b.Node("EyeLike", [x], ("k", -1), ("dtype", OnnxModelBuilder.OnnxType(ElementType.Int32))), ElementType.Int32);
        b.Output(b.Node("EyeLike", [b.Node("Transpose", [x])], ("k", -7), ("dtype", OnnxModelBuilder.OnnxType(ElementType.Float64))), ElementType.Float64);

        AssertMatches(b.Build(), [("x", Random(ElementType.Float32, [3, 5]))]);
    }

    private static Tensor ScalarOf(ElementType type, double value) => type == ElementType.Int64
        ? Tensor.FromInt64s([1], (long)value)
        : Tensor.From<double>(type, [1], [value]);

    [Theory]
    [InlineData(0, new byte[] { 1, 0, 1 })]
    [InlineData(-1, new byte[] { 0, 1, 1, 0 })]
    [InlineData(null, new byte[] { 0, 1, 1, 0, 0, 1, 1 })]
    [InlineData(1, new byte[] { 0, 0 })]
    public void Compress_matches_onnxruntime(int? axis, byte[] condition)
    {
        int[] shape = [3, 4];
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Int64, Dims(shape));
        string c = b.Initializer("c", Tensor.From<byte>(ElementType.Bool, [condition.Length], condition));
        b.Output(axis is { } a ? b.Node("Compress", [x, c], ("axis", a)) : b.Node("Compress", [x, c]), ElementType.Int64);

        AssertMatches(b.Build(), [("x", Int64s(shape))]);
    }

    [Fact]
    public void Exporter_shape_arithmetic_folds_to_the_real_work()
    {
        // x.view(*x.shape[:2], -1).expand(...) as exporters write it: Shape → Slice → Concat → Reshape, and
        // Shape → Gather → Unsqueeze → Concat → Expand, plus ConstantOfShape, Range and Size on int64.
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3, 4, 5);
        string shape = b.Node("Shape", [x]);
        string head = b.Node("Slice", [shape, Ints(b, "s0", 0), Ints(b, "e0", 2)]);
        string target = b.Node("Concat", [head, Ints(b, "minus1", -1)], ("axis", 0));
        string relu = b.Node("Relu", [x]);
        string flat = b.Node("Reshape", [relu, target]);
        string channels = b.Node("Gather", [shape, b.Initializer("one", Tensor.FromInt64s([], 1))], ("axis", 0));
        string four = b.Node("Unsqueeze", [b.Node("Size", [head]), Ints(b, "ax", 0)]);
        string ones = b.Node("ConstantOfShape", [four], ("value", Tensor.FromInt64s([1], 1)));
        string dims = b.Node("Concat", [b.Node("Unsqueeze", [channels, Ints(b, "ax2", 0)]), b.Node("Slice", [ones, Ints(b, "s1", 1), Ints(b, "e1", 3)])], ("axis", 0));
        string range = b.Node("Range", [b.Initializer("r0", Tensor.FromInt64s([], 0)), channels, b.Initializer("r1", Tensor.FromInt64s([], 1))]);
        string pads = b.Node("Concat", [b.Node("Tile", [b.Node("Sub", [range, range]), Ints(b, "rep", 2)]), b.Node("Expand", [Ints(b, "zeros", 0), Ints(b, "two", 2)])], ("axis", 0));
        string padded = b.Node("Pad", [flat, b.Node("Slice", [pads, Ints(b, "s2", 0), Ints(b, "e2", 6)])]);
        b.Output(b.Node("Expand", [padded, dims]));
        byte[] model = b.Build();

        CompileResult compiled = ModelRunner.Compile(model);

        PlanStep step = Assert.Single(compiled.Plan!.Steps);
        Assert.Equal("Relu", step.OpType);
        Assert.Equal([2, 3, 20], compiled.Plan.Tensors[compiled.Plan.Outputs[0].TensorId].Shape);
        AssertMatches(model, [("x", TensorAssert.Random([2, 3, 4, 5]))]);
    }

    [Fact]
    public void Steps_name_their_kernel_parameters_in_order()
    {
        // Generated code calls Kernels.<Kernel>.Run<T…>(name: value, …): every kernel of this family, in one plan.
        var b = new OnnxModelBuilder(18);
        string x = b.Input("x", ElementType.Float32, 1, 2, 4, 4);
        string i = b.Input("i", ElementType.Int64, 1, 2, 4, 4);
        b.Output(b.Node("Slice", [x, Ints(b, "s", 1), Ints(b, "e", 3), Ints(b, "a", 3)]));
        b.Output(b.Node("Pad", [x, Ints(b, "p", 0, 0, 1, 2, 0, 0, 0, 1)], ("mode", "reflect")));
        b.Output(b.Node("Trilu", [x]));
        b.Output(b.Node("EyeLike", [b.Input("m", ElementType.Float32, 3, 4)]));
        b.Output(b.Node("Slice", [b.Node("ConstantOfShape", [Ints(b, "big", 1 << 25)]), Ints(b, "s2", 0), Ints(b, "e2", 2)]));
        string range = b.Node("Range", [b.Initializer("r0", Tensor.FromFloats([], 0)), b.Initializer("r1", Tensor.FromFloats([], 1 << 25)), b.Initializer("r2", Tensor.FromFloats([], 1))]);
        b.Output(b.Node("Slice", [range, Ints(b, "s3", 0), Ints(b, "e3", 2)]));
        b.Output(b.Node("OneHot", [b.Input("h", ElementType.Int64, 3), b.Initializer("depth", Tensor.FromInt64s([], 4)), b.Input("v", ElementType.Float32, 2)]));
        b.Output(b.Node("GatherElements", [x, i], ("axis", 2)));
        b.Output(b.Node("ScatterElements", [x, i, x], ("axis", 3)));
        string tuples = b.Input("t", ElementType.Int64, 2, 2);
        b.Output(b.Node("GatherND", [x, tuples]));
        b.Output(b.Node("ScatterND", [x, tuples, b.Input("u", ElementType.Float32, 2, 4, 4)], ("reduction", "add")));
        string roi = b.Initializer("roi", Tensor.FromFloats([8], 0, 0, 0.1f, 0.2f, 1, 1, 0.9f, 1.2f));
        b.Output(b.Node("Resize", [x, roi, null, Ints(b, "sizes", 1, 2, 3, 5)], ("coordinate_transformation_mode", "tf_crop_and_resize")));
        b.Output(b.Node("Resize", [x, null, b.Initializer("scales", [4], [1, 1, 2, 2])], ("mode", "linear")));

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(b.Build()).Plan!.Steps;

        Assert.Equal(
            ["Copy", "ElementOffsets", "EyeLike", "Fill", "GatherBlocks", "NdOffsets", "OneHot", "Pad", "Progression", "ResizeAxis", "ResizeNearest",
             "ScatterBlocks", "ScatterReduce", "StridedCopy", "Trilu"],
            steps.Select(s => s.Kernel).Distinct().Order(StringComparer.Ordinal));
        KernelSignatures.AssertMatch(steps);
    }

    [Fact]
    public void Run_time_shape_inputs_are_MSDK2004()
    {
        Assert.Equal("starts", Error(b => b.Node("Slice", [X(b), b.Input("starts", ElementType.Int64, 1), Ints(b, "e", 2)])).Tensor);
        Assert.Equal("split", Error(b => b.Node("Split", [X(b), b.Input("split", ElementType.Int64, 2)], ("axis", 1)), outputs: 2).Tensor);
        Assert.Equal("shape", Error(b => b.Node("Expand", [X(b), b.Input("shape", ElementType.Int64, 3)])).Tensor);
        Assert.Equal("repeats", Error(b => b.Node("Tile", [X(b), b.Input("repeats", ElementType.Int64, 3)])).Tensor);
        Assert.Equal("pads", Error(b => b.Node("Pad", [X(b), b.Input("pads", ElementType.Int64, 6)])).Tensor);
        Assert.Equal("condition", Error(b => b.Node("Compress", [X(b), b.Input("condition", ElementType.Bool, 2)], ("axis", 0))).Tensor);
        Assert.Equal("shape", Error(b => b.Node("ConstantOfShape", [b.Input("shape", ElementType.Int64, 2)])).Tensor);

        static Diagnostic Error(Func<OnnxModelBuilder, string> build, int outputs = 1)
        {
            var b = new OnnxModelBuilder(13);
            b.Output(build(b));
            Diagnostic d = ModelRunner.CompileError(b.Build());
            Assert.Equal(DiagnosticCodes.NotConstant, d.Code);
            return d;
        }
    }

    [Fact]
    public void Invalid_models_get_clear_diagnostics()
    {
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Slice", [X(b), Ints(b, "s", 0), Ints(b, "e", 1), Ints(b, "a", 0), Ints(b, "st", 0)])).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(b => b.Node("Slice", [X(b), Ints(b, "s", 0, 0), Ints(b, "e", 1, 1), Ints(b, "a", 1, -2)])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Split", [X(b), Ints(b, "sp", 1, 1)], ("axis", 1))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Expand", [X(b), Ints(b, "sh", 2, 3, 5)])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Tile", [X(b), Ints(b, "r", 2, 2)])).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(b => b.Node("Pad", [X(b), Ints(b, "p", 0, 0, 0, 0, 0, 0)], ("mode", "wrap"))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Pad", [X(b), Ints(b, "p", 1, 1)])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("DepthToSpace", [X(b)], ("blocksize", 2))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Trilu", [b.Input("v", ElementType.Float32, 4)])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Compress", [X(b), b.Initializer("c", Tensor.From<byte>(ElementType.Bool, [5], [0, 0, 0, 0, 1]))], ("axis", 1))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("Range", [b.Initializer("a", Tensor.FromFloats([], 0)), b.Initializer("l", Tensor.FromFloats([], 1)), b.Initializer("d", Tensor.FromFloats([], 0))])).Code);
        Assert.Equal(DiagnosticCodes.UnsupportedType, Error(b => b.Node("EyeLike", [b.Input("m", ElementType.Float32, 2, 2)], ("dtype", 8))).Code);

        static Diagnostic Error(Func<OnnxModelBuilder, string> build)
        {
            var b = new OnnxModelBuilder(14);
            b.Output(build(b));
            return ModelRunner.CompileError(b.Build());
        }
    }

    private static string X(OnnxModelBuilder b) => b.Input("x", ElementType.Float32, 2, 3, 4);
}
