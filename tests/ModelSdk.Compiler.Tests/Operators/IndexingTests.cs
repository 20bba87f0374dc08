using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using static ModelSdk.Compiler.Tests.Support.OrtAgreement;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary>GatherElements, GatherND, ScatterElements, Scatter, ScatterND and OneHot against ONNX Runtime.</summary>
public class IndexingTests
{
    // Indices covering [-length, length) in a fixed order, so negative ones wrap and every position is read.
    private static Tensor Indices(ElementType type, int[] shape, Func<int, int> length, int seed = 3)
    {
        var rng = new Random(seed);
        long[] values = Enumerable.Range(0, Shapes.ElementCount(shape)).Select(i => (long)rng.Next(-length(i), length(i))).ToArray();
        return type == ElementType.Int64
            ? Tensor.FromInt64s(shape, values)
            : Tensor.From<int>(ElementType.Int32, shape, values.Select(v => (int)v).ToArray());
    }

    [Theory]
    [InlineData(0, new[] { 2, 4, 5 }, ElementType.Int64, ElementType.Float32)]
    [InlineData(1, new[] { 3, 7, 2 }, ElementType.Int32, ElementType.Int64)]
    [InlineData(-1, new[] { 3, 2, 9 }, ElementType.Int64, ElementType.UInt8)]
    [InlineData(2, new[] { 1, 4, 1 }, ElementType.Int32, ElementType.Float64)]
    public void GatherElements_matches_onnxruntime(int axis, int[] indexShape, ElementType indexType, ElementType type)
    {
        int[] shape = [3, 4, 5];
        int length = shape[axis < 0 ? axis + 3 : axis];
        var b = new OnnxModelBuilder(13);
        string data = b.Input("data", type, Dims(shape));
        string idx = b.Input("indices", indexType, Dims(indexShape));
        b.Output(b.Node("GatherElements", [data, idx], ("axis", axis)), type);

        AssertMatches(b.Build(), [("data", Random(type, shape)), ("indices", Indices(indexType, indexShape, _ => length))]);
    }

    [Theory]
    [InlineData(16, "none", 0, ElementType.Float32)]
    [InlineData(16, "add", 1, ElementType.Float32)]
    [InlineData(16, "mul", -1, ElementType.Int64)]
    [InlineData(18, "max", 0, ElementType.Int32)]
    [InlineData(18, "min", 2, ElementType.Float32)]
    [InlineData(13, "none", 1, ElementType.Bool)]
    public void ScatterElements_matches_onnxruntime(int opset, string reduction, int axis, ElementType type)
    {
        int[] shape = [3, 4, 5], indexShape = [2, 3, 4];
        int length = shape[axis < 0 ? axis + 3 : axis];
        var b = new OnnxModelBuilder(opset);
        string data = b.Input("data", type, Dims(shape));
        string idx = b.Input("indices", ElementType.Int64, Dims(indexShape));
        string updates = b.Input("updates", type, Dims(indexShape));
        b.Output(opset >= 16
            ? b.Node("ScatterElements", [data, idx, updates], ("axis", axis), ("reduction", reduction))
            : b.Node("ScatterElements", [data, idx, updates], ("axis", axis)), type);

        // Duplicate positions are fine with a reduction; plain assignment needs distinct ones to be deterministic:
        // each index is its own position along the axis, shifted by one and alternately written from the end.
        int a = axis < 0 ? axis + 3 : axis;
        int[] strides = Shapes.Strides(indexShape);
        Tensor indices = reduction == "none"
            ? Tensor.FromInt64s(indexShape, Enumerable.Range(0, 24).Select(i => (long)(((i / strides[a] % indexShape[a]) + 1) % length) - (i % 2 == 0 ? length : 0)).ToArray())
            : Indices(ElementType.Int64, indexShape, _ => length);
        AssertMatches(b.Build(), [("data", Random(type, shape)), ("indices", indices), ("updates", Random(type, indexShape, seed: 2))]);
    }

    [Fact]
    public void Deprecated_Scatter_matches_onnxruntime()
    {
        var b = new OnnxModelBuilder(10);
        string data = b.Input("data", ElementType.Float32, 3, 3);
        string idx = b.Input("indices", ElementType.Int32, 2, 3);
        string updates = b.Input("updates", ElementType.Float32, 2, 3);
        b.Output(b.Node("Scatter", [data, idx, updates], ("axis", 1)));

        AssertMatches(b.Build(), [("data", TensorAssert.Random([3, 3])), ("indices", Tensor.From<int>(ElementType.Int32, [2, 3], [2, 0, -2, 1, -1, 0])),
            ("updates", TensorAssert.Random([2, 3], seed: 2))]);
    }

    [Theory]
    [InlineData(new[] { 4, 2 }, 0, ElementType.Float32, ElementType.Int64)]
    [InlineData(new[] { 2, 3, 1 }, 0, ElementType.Int64, ElementType.Int64)]
    [InlineData(new[] { 5, 3 }, 0, ElementType.Int32, ElementType.Int64)]
    [InlineData(new[] { 3, 2, 1 }, 1, ElementType.Float32, ElementType.Int64)]
    [InlineData(new[] { 3, 4, 2 }, 2, ElementType.Float16, ElementType.Int64)]
    public void GatherND_matches_onnxruntime(int[] indexShape, int batchDims, ElementType type, ElementType indexType)
    {
        int[] shape = [3, 4, 5, 2];
        int k = indexShape[^1];
        var b = new OnnxModelBuilder(13);
        string data = b.Input("data", type, Dims(shape));
        string idx = b.Input("indices", indexType, Dims(indexShape));
        b.Output(b.Node("GatherND", [data, idx], ("batch_dims", batchDims)), type);

        AssertMatches(b.Build(), [("data", Random(type, shape)), ("indices", Indices(indexType, indexShape, i => shape[batchDims + (i % k)]))]);
    }

    [Theory]
    [InlineData(16, "none", new[] { 2, 1 })]
    [InlineData(16, "add", new[] { 5, 2 })]
    [InlineData(16, "mul", new[] { 3, 3 })]
    [InlineData(18, "max", new[] { 2, 2, 1 })]
    [InlineData(18, "min", new[] { 4, 4 })]
    [InlineData(13, "none", new[] { 2, 4 })]
    public void ScatterND_matches_onnxruntime(int opset, string reduction, int[] indexShape)
    {
        int[] shape = [3, 4, 5, 2];
        int k = indexShape[^1];
        int[] updateShape = [.. indexShape[..^1], .. shape[k..]];
        var b = new OnnxModelBuilder(opset);
        string data = b.Input("data", ElementType.Float32, Dims(shape));
        string idx = b.Input("indices", ElementType.Int64, Dims(indexShape));
        string updates = b.Input("updates", ElementType.Float32, Dims(updateShape));
        b.Output(opset >= 16 ? b.Node("ScatterND", [data, idx, updates], ("reduction", reduction)) : b.Node("ScatterND", [data, idx, updates]));

        // Without a reduction, distinct tuples (duplicates would make the result order-dependent).
        int tuples = Shapes.Product(indexShape, 0, indexShape.Length - 1);
        Tensor indices = reduction == "none"
            ? Tensor.FromInt64s(indexShape, Enumerable.Range(0, tuples).SelectMany(t => Enumerable.Range(0, k).Select(j => (long)(j == 0 ? t - (t % 2 == 0 ? 3 : 0) : -1))).ToArray())
            : Indices(ElementType.Int64, indexShape, i => shape[i % k]);
        AssertMatches(b.Build(), [("data", TensorAssert.Random(shape)), ("indices", indices), ("updates", TensorAssert.Random(updateShape, seed: 2))]);
    }

    [Theory]
    [InlineData(-1, ElementType.Int64, ElementType.Float32, ElementType.Int64)]
    [InlineData(0, ElementType.Int32, ElementType.Float32, ElementType.Int32)]
    [InlineData(1, ElementType.Float32, ElementType.Float32, ElementType.Float32)]
    [InlineData(-3, ElementType.Int64, ElementType.Int32, ElementType.Float32)]
    [InlineData(2, ElementType.Float32, ElementType.Int64, ElementType.Int64)]
    public void OneHot_matches_onnxruntime(int axis, ElementType indexType, ElementType valueType, ElementType depthType)
    {
        // The type combinations are those ONNX Runtime implements.
        int[] shape = [3, 4];
        const int Depth = 5;
        var b = new OnnxModelBuilder(11);
        string indices = b.Input("indices", indexType, Dims(shape));
        string depth = b.Initializer("depth", depthType switch
        {
            ElementType.Int64 => Tensor.FromInt64s([], Depth),
            ElementType.Int32 => Tensor.From<int>(depthType, [], [Depth]),
            _ => Tensor.FromFloats([], Depth),
        });
        string values = b.Input("values", valueType, 2);
        b.Output(b.Node("OneHot", [indices, depth, values], ("axis", axis)), valueType);

        // Out-of-range indices (±7) give all-off rows; negative ones in range wrap.
        long[] raw = [0, 1, -1, 4, -5, 7, -7, 2, 3, -2, 6, 0];
        Tensor idx = indexType switch
        {
            ElementType.Int64 => Tensor.FromInt64s(shape, raw),
            ElementType.Int32 => Tensor.From<int>(indexType, shape, raw.Select(v => (int)v).ToArray()),
            // Whole numbers: ONNX casts float indices to int64, but ONNX Runtime compares them exactly.
            _ => Tensor.FromFloats(shape, raw.Select(v => (float)v).ToArray()),
        };
        AssertMatches(b.Build(), [("indices", idx), ("values", Random(valueType, [2]))]);
    }

    [Fact]
    public void Indices_out_of_range_at_run_time_throw()
    {
        var b = new OnnxModelBuilder(13);
        string data = b.Input("data", ElementType.Float32, 3, 2);
        string idx = b.Input("indices", ElementType.Int64, 1, 2);
        b.Output(b.Node("GatherElements", [data, idx], ("axis", 0)));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelRunner.Run(b.Build(), [TensorAssert.Random([3, 2]), Tensor.FromInt64s([1, 2], 1, -4)]));
        Assert.Contains("Index -4", e.Message);

        var nd = new OnnxModelBuilder(13);
        string ndData = nd.Input("data", ElementType.Float32, 3, 2);
        string ndIdx = nd.Input("indices", ElementType.Int64, 1, 2);
        string updates = nd.Input("updates", ElementType.Float32, 1);
        nd.Output(nd.Node("ScatterND", [ndData, ndIdx, updates]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelRunner.Run(nd.Build(),
            [TensorAssert.Random([3, 2]), Tensor.FromInt64s([1, 2], 0, 2), TensorAssert.Random([1])]));
    }

    [Fact]
    public void Invalid_models_get_clear_diagnostics()
    {
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("GatherElements", [X(b), b.Initializer("i", Tensor.FromInt64s([1, 1, 1], 5))], ("axis", 1))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("GatherElements", [X(b), b.Input("i", ElementType.Int64, 3, 4, 1)])).Code);
        Assert.Equal(DiagnosticCodes.UnsupportedType, Error(b => b.Node("GatherND", [X(b), b.Input("i", ElementType.Int32, 1, 2)])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("GatherND", [X(b), b.Input("i", ElementType.Int64, 1, 4)])).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(b => b.Node("GatherND", [X(b), b.Input("i", ElementType.Int64, 2, 1)], ("batch_dims", 2))).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("ScatterND", [X(b), b.Input("i", ElementType.Int64, 2, 1), b.Input("u", ElementType.Float32, 2, 3)])).Code);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, Error(b => b.Node("ScatterElements", [X(b), b.Input("i", ElementType.Int64, 1, 1, 1), b.Input("u", ElementType.Float32, 1, 1, 1)], ("reduction", "mean"))).Code);
        Assert.Equal(DiagnosticCodes.UnsupportedType, Error(b => b.Node("ScatterElements", [b.Input("m", ElementType.Bool, 2), b.Input("i", ElementType.Int64, 1), b.Input("u", ElementType.Bool, 1)], ("reduction", "add"))).Code);
        Assert.Equal(DiagnosticCodes.NotConstant, Error(b => b.Node("OneHot", [b.Input("i", ElementType.Int64, 2), b.Input("d", ElementType.Int64), b.Input("v", ElementType.Float32, 2)])).Code);
        Assert.Equal(DiagnosticCodes.ShapeMismatch, Error(b => b.Node("OneHot", [b.Input("i", ElementType.Int64, 2), b.Initializer("d", Tensor.FromInt64s([], 0)), b.Input("v", ElementType.Float32, 2)])).Code);

        static string X(OnnxModelBuilder b) => b.Input("x", ElementType.Float32, 2, 3, 4);
        static Diagnostic Error(Func<OnnxModelBuilder, string> build)
        {
            var b = new OnnxModelBuilder(16);
            b.Output(build(b));
            return ModelRunner.CompileError(b.Build());
        }
    }
}
