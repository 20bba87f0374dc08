using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class PoolTests
{
    public static TheoryData<PoolCase> Cases => new()
    {
        new PoolCase("max 2d", "MaxPool", [1, 3, 9, 10], [("kernel_shape", new[] { 3, 3 })]),
        new PoolCase("max strides, asymmetric pads", "MaxPool", [2, 2, 11, 9], [("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 0, 1, 1 })]),
        new PoolCase("max ceil", "MaxPool", [1, 2, 10, 10], [("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("ceil_mode", 1)]),
        new PoolCase("max ceil, last window would start in padding", "MaxPool", [1, 1, 5, 6], [("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 3, 3 }), ("pads", new[] { 0, 0, 1, 1 }), ("ceil_mode", 1)]),
        new PoolCase("max dilations", "MaxPool", [1, 2, 12, 11], [("kernel_shape", new[] { 3, 2 }), ("dilations", new[] { 2, 3 }), ("pads", new[] { 2, 1, 2, 1 })]),
        new PoolCase("max 1d", "MaxPool", [2, 3, 15], [("kernel_shape", new[] { 4 }), ("strides", new[] { 3 }), ("pads", new[] { 1, 2 })]),
        new PoolCase("max 3d", "MaxPool", [1, 2, 6, 7, 5], [("kernel_shape", new[] { 2, 3, 2 }), ("strides", new[] { 2, 1, 2 })]),
        new PoolCase("max SAME_UPPER", "MaxPool", [1, 2, 9, 8], [("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_UPPER")]),
        new PoolCase("max SAME_LOWER", "MaxPool", [1, 2, 9, 8], [("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_LOWER")]),
        new PoolCase("max VALID", "MaxPool", [1, 2, 9, 8], [("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("auto_pad", "VALID")]),
        new PoolCase("max unit stride, long rows", "MaxPool", [1, 2, 20, 40], [("kernel_shape", new[] { 2, 3 })]),
        new PoolCase("avg 2d", "AveragePool", [1, 3, 9, 10], [("kernel_shape", new[] { 3, 3 })]),
        new PoolCase("avg pads excluded", "AveragePool", [1, 2, 8, 9], [("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 1, 1, 1 })]),
        new PoolCase("avg pads included", "AveragePool", [1, 2, 8, 9], [("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 2, 1, 0 }), ("count_include_pad", 1)]),
        new PoolCase("avg ceil", "AveragePool", [1, 2, 10, 10], [("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("ceil_mode", 1)]),
        new PoolCase("avg ceil, pads included", "AveragePool", [1, 1, 8, 8], [("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 }), ("ceil_mode", 1), ("count_include_pad", 1)]),
        new PoolCase("avg 1d", "AveragePool", [2, 3, 15], [("kernel_shape", new[] { 4 }), ("strides", new[] { 3 }), ("pads", new[] { 1, 2 })]),
        new PoolCase("avg 3d", "AveragePool", [1, 2, 6, 7, 5], [("kernel_shape", new[] { 2, 3, 2 }), ("strides", new[] { 2, 1, 2 }), ("pads", new[] { 1, 1, 0, 0, 1, 1 })]),
        new PoolCase("avg SAME_UPPER", "AveragePool", [1, 2, 9, 8], [("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_UPPER")]),
        new PoolCase("avg SAME_LOWER", "AveragePool", [1, 2, 9, 8], [("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_LOWER")]),
        new PoolCase("avg unit stride, long rows", "AveragePool", [1, 2, 20, 40], [("kernel_shape", new[] { 3, 5 })]),
        new PoolCase("avg window as large as the input", "AveragePool", [2, 3, 5, 6], [("kernel_shape", new[] { 5, 6 })]),
        new PoolCase("max 2x2 stride 2, rows of 70", "MaxPool", [1, 3, 9, 70], [("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })]),
        new PoolCase("avg 2x2 stride 2, rows of 68", "AveragePool", [2, 3, 8, 68], [("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })]),
        new PoolCase("max 3x3 stride 2, rows of 67", "MaxPool", [1, 2, 9, 67], [("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 })]),
        new PoolCase("avg ceil without overhang", "AveragePool", [1, 2, 9, 37], [("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("ceil_mode", 1)]),
        new PoolCase("avg dilations (opset 19)", "AveragePool", [1, 2, 12, 11], [("kernel_shape", new[] { 3, 2 }), ("dilations", new[] { 2, 3 })], Opset: 19),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pool_matches_onnxruntime(PoolCase c)
        => OrtAgreement.AssertMatches(Model(c), [("x", TensorAssert.Random(c.X, 4, -3, 3))]);

    private static byte[] Model(PoolCase c)
    {
        var b = new OnnxModelBuilder(c.Opset);
        string x = b.Input("x", ElementType.Float32, Dims(c.X));
        b.Output(b.Node(c.Op, [x], c.Attributes));
        return b.Build();
    }

    /// <summary>The vectorized paths of every width (the 512-bit one deinterleaves stride 2 with a permute).</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Pool_matches_onnxruntime_at_every_vector_width(PoolCase c)
    {
        byte[] model = Model(c);
        foreach (Runtime.Kernels.SimdWidth width in new[] { Runtime.Kernels.SimdWidth.W512, Runtime.Kernels.SimdWidth.W256, Runtime.Kernels.SimdWidth.W128 })
        {
            Runtime.Kernels.Simd.Forced = width;
            try
            {
                OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random(c.X, 4, -3, 3))]);
            }
            finally
            {
                Runtime.Kernels.Simd.Forced = Runtime.Kernels.SimdWidth.Auto;
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void MaxPool_indices_match_onnxruntime(int storageOrder)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3, 9, 7);
        string[] outputs = b.NodeMulti("MaxPool", [x], 2,
            ("kernel_shape", new[] { 3, 2 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 0, 1, 1 }), ("storage_order", storageOrder));
        b.Output(outputs[0]);
        b.Output(outputs[1], ElementType.Int64);

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random([2, 3, 9, 7], 5))]);
    }

    [Fact]
    public void MaxPool_indices_keep_the_first_of_equal_maxima()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 1, 2, 3);
        string[] outputs = b.NodeMulti("MaxPool", [x], 2, ("kernel_shape", new[] { 2, 2 }));
        b.Output(outputs[0]);
        b.Output(outputs[1], ElementType.Int64);

        Tensor[] y = OrtAgreement.AssertMatches(b.Build(), [("x", Tensor.FromFloats([1, 1, 2, 3], 1, 5, 5, 0, 5, 2))]);

        Assert.Equal(new long[] { 1, 1 }, y[1].Span<long>().ToArray());
    }

    [Theory]
    [InlineData("GlobalAveragePool", new[] { 2, 3, 7, 9 })]
    [InlineData("GlobalAveragePool", new[] { 1, 4, 3, 4, 5 })]
    [InlineData("GlobalAveragePool", new[] { 1, 2, 33 })]
    [InlineData("GlobalMaxPool", new[] { 2, 3, 7, 9 })]
    [InlineData("GlobalMaxPool", new[] { 1, 4, 3, 4, 5 })]
    [InlineData("GlobalMaxPool", new[] { 1, 2, 33 })]
    public void Global_pool_matches_onnxruntime(string op, int[] shape)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(b.Node(op, [x]));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, 6, -5, 5))]);
    }

    /// <summary>The plane sums of every width (the 512-bit one masks its last vector: planes of 49 and 3136 elements, and short ones).</summary>
    [Theory]
    [InlineData(new[] { 1, 5, 7, 7 })]
    [InlineData(new[] { 1, 3, 56, 56 })]
    [InlineData(new[] { 2, 3, 3, 5 })]
    [InlineData(new[] { 1, 2, 33 })]
    public void Global_average_pool_matches_onnxruntime_at_every_vector_width(int[] shape)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        b.Output(b.Node("GlobalAveragePool", [x]));
        byte[] model = b.Build();
        foreach (Runtime.Kernels.SimdWidth width in new[] { Runtime.Kernels.SimdWidth.W512, Runtime.Kernels.SimdWidth.W256, Runtime.Kernels.SimdWidth.W128 })
        {
            Runtime.Kernels.Simd.Forced = width;
            try
            {
                OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random(shape, 7, -5, 5))]);
            }
            finally
            {
                Runtime.Kernels.Simd.Forced = Runtime.Kernels.SimdWidth.Auto;
            }
        }
    }

    [Fact]
    public void Pool_without_kernel_shape_is_MSDK2002()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 1, 4, 4);
        b.Output(b.Node("MaxPool", [x]));

        Diagnostic error = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.InvalidAttribute, error.Code);
        Assert.Contains("kernel_shape", error.Message);
    }

    [Fact]
    public void MaxPool_with_invalid_storage_order_is_MSDK2002()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 1, 4, 4);
        b.Output(b.Node("MaxPool", [x], ("kernel_shape", new[] { 2, 2 }), ("storage_order", 2)));

        Assert.Equal(DiagnosticCodes.InvalidAttribute, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Pool_of_a_matrix_is_MSDK2003()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 4, 4);
        b.Output(b.Node("AveragePool", [x], ("kernel_shape", new[] { 2 })));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Pool_of_bytes_is_MSDK2005()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.UInt8, 1, 1, 4, 4);
        b.Output(b.Node("MaxPool", [x], ("kernel_shape", new[] { 2, 2 })), ElementType.UInt8);

        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    /// <summary>One pooling configuration, shown by its name in test results.</summary>
    public sealed record PoolCase(string Name, string Op, int[] X, (string, object)[] Attributes, int Opset = 13)
    {
        public override string ToString() => Name;
    }

    private static int?[] Dims(int[] shape) => shape.Select(d => (int?)d).ToArray();
}
