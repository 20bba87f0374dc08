using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Operators;

public class QuantizationTests
{
    /// <summary>Deterministic 8-bit values over the whole range of <paramref name="type"/> (uint8 or int8).</summary>
    internal static Tensor Bytes(ElementType type, int[] shape, int seed)
    {
        var rng = new Random(seed);
        var data = new byte[Shapes.ElementCount(shape)];
        rng.NextBytes(data);
        return new Tensor(type, shape, data);
    }

    internal static Tensor Scalar(ElementType type, long value, params int[] shape)
        => type switch
        {
            ElementType.UInt8 => Tensor.From<byte>(type, shape, [(byte)value]),
            ElementType.Int8 => Tensor.From<sbyte>(type, shape, [(sbyte)value]),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };

    internal static Tensor Vector(ElementType type, params long[] values)
        => type switch
        {
            ElementType.UInt8 => Tensor.From<byte>(type, [values.Length], values.Select(v => (byte)v).ToArray()),
            ElementType.Int8 => Tensor.From<sbyte>(type, [values.Length], values.Select(v => (sbyte)v).ToArray()),
            ElementType.Int16 => Tensor.From<short>(type, [values.Length], values.Select(v => (short)v).ToArray()),
            ElementType.UInt16 => Tensor.From<ushort>(type, [values.Length], values.Select(v => (ushort)v).ToArray()),
            ElementType.Int32 => Tensor.From<int>(type, [values.Length], values.Select(v => (int)v).ToArray()),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };

    /// <summary>Values on and between quantization steps of <paramref name="scale"/>, with exact halves (rounding) and values far out of range (saturation).</summary>
    private static Tensor Steps(int[] shape, float scale, int seed)
    {
        var rng = new Random(seed);
        int n = Shapes.ElementCount(shape);
        var data = new float[n];
        for (int i = 0; i < n; i++)
        {
            data[i] = (i % 4) switch
            {
                0 => scale * (rng.Next(-300, 300) + 0.5f),
                1 => scale * rng.Next(-40000, 40000) * 0.25f,
                _ => (float)(rng.NextDouble() * 2 - 1) * scale * 200,
            };
        }

        return Tensor.FromFloats(shape, data);
    }

    public static TheoryData<string, int, ElementType?, int, int[], int> QuantizeCases => new()
    {
        { "per tensor uint8, opset 10", 10, ElementType.UInt8, 0, [7], 0 },
        { "per tensor int8", 13, ElementType.Int8, 0, [3, 5], 0 },
        { "default uint8 without zero point", 13, null, 0, [2, 9], 0 },
        { "per axis 1", 13, ElementType.UInt8, 1, [2, 3, 5], 0 },
        { "per axis -1", 13, ElementType.Int8, -1, [4, 7], 0 },
        { "per axis 0", 13, ElementType.Int8, 0, [3, 2, 2], 0 },
        { "int16", 21, ElementType.Int16, 1, [2, 3, 4], 0 },
        { "uint16", 21, ElementType.UInt16, 0, [5, 3], 0 },
        { "blocked, ragged last block", 21, ElementType.Int8, 1, [2, 5, 3], 2 },
        { "blocked uint8 on the last axis", 21, ElementType.UInt8, -1, [3, 8], 4 },
    };

    [Theory]
    [MemberData(nameof(QuantizeCases))]
    public void QuantizeLinear_matches_onnxruntime(string name, int opset, ElementType? type, int axis, int[] shape, int blockSize)
    {
        _ = name;
        (int[] scaleShape, int count) = ScaleShape(shape, axis, blockSize, perAxis: axis != 0 || opset >= 13 && shape.Length > 1 && name.Contains("axis"));
        var rng = new Random(3);
        float[] scales = Enumerable.Range(0, count).Select(_ => 0.01f + (float)rng.NextDouble() * 0.2f).ToArray();
        long[] zeros = Enumerable.Range(0, count).Select(i => type switch
        {
            ElementType.Int8 => (long)rng.Next(-20, 20),
            ElementType.Int16 => rng.Next(-2000, 2000),
            ElementType.UInt16 => rng.Next(0, 60000),
            _ => rng.Next(0, 255),
        }).ToArray();

        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, Dims(shape));
        string s = b.Initializer("scale", Tensor.FromFloats(scaleShape, scales));
        string?[] inputs = type is { } t ? [x, s, b.Initializer("zero", Vector(t, zeros).Reshape(scaleShape))] : [x, s];
        (string, object)[] attributes = opset >= 13 ? blockSize > 0 ? [("axis", axis), ("block_size", blockSize)] : [("axis", axis)] : [];
        b.Output(b.Node("QuantizeLinear", inputs, attributes), type ?? ElementType.UInt8);
        OrtAgreement.AssertMatches(b.Build(), [("x", Steps(shape, scales.Min(), 1))]);
    }

    [Fact]
    public void QuantizeLinear_rounds_half_to_even_and_saturates()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 8);
        b.Output(b.Node("QuantizeLinear", [x, b.Initializer("s", Tensor.FromFloats([], 0.5f)), b.Initializer("z", Scalar(ElementType.Int8, 3))]), ElementType.Int8);
        Tensor y = ModelRunner.Run(b.Build(), [Tensor.FromFloats([8], 0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 1000f, -1000f, 62f)])[0];

        // x / 0.5 = 0.5, 1.5, 2.5, -0.5, -1.5 round to 0, 2, 2, 0, -2; ±2000 saturate; 124 + 3 saturates at 127.
        Assert.Equal(new sbyte[] { 3, 5, 5, 3, 1, 127, -128, 127 }, y.Span<sbyte>().ToArray());
    }

    [Fact]
    public void QuantizeLinear_takes_float16_and_run_time_scales()
    {
        var b = new OnnxModelBuilder(19);
        string x = b.Input("x", ElementType.Float16, 3, 7);
        string s = b.Input("s", ElementType.Float16);
        string z = b.Input("z", ElementType.UInt8);
        b.Output(b.Node("QuantizeLinear", [x, s, z]), ElementType.UInt8);
        Tensor half = Tensor.From<Half>(ElementType.Float16, [3, 7], Steps([3, 7], 0.0625f, 2).ToFloats().Select(v => (Half)v).ToArray());
        OrtAgreement.AssertMatches(b.Build(), [("x", half), ("s", Tensor.From<Half>(ElementType.Float16, [], [(Half)0.0625f])), ("z", Scalar(ElementType.UInt8, 128))]);
    }

    public static TheoryData<string, int, ElementType, bool, int, int[], int> DequantizeCases => new()
    {
        { "uint8 per tensor, opset 10", 10, ElementType.UInt8, true, 0, [9], 0 },
        { "int8 per tensor", 13, ElementType.Int8, true, 0, [4, 3], 0 },
        { "int8 without zero point", 13, ElementType.Int8, false, 0, [5], 0 },
        { "int32 without zero point", 13, ElementType.Int32, false, 0, [6, 2], 0 },
        { "uint8 per axis", 13, ElementType.UInt8, true, 1, [2, 3, 17], 0 },
        { "int8 per axis -1", 13, ElementType.Int8, true, -1, [5, 6], 0 },
        { "int16 per axis", 21, ElementType.Int16, true, 0, [3, 5], 0 },
        { "uint16", 21, ElementType.UInt16, true, 0, [11], 0 },
        { "blocked int8", 21, ElementType.Int8, true, 0, [7, 3], 3 },
        { "blocked uint8, last axis", 21, ElementType.UInt8, false, 1, [2, 9], 4 },
    };

    [Theory]
    [MemberData(nameof(DequantizeCases))]
    public void DequantizeLinear_matches_onnxruntime(string name, int opset, ElementType type, bool withZero, int axis, int[] shape, int blockSize)
    {
        (int[] scaleShape, int count) = ScaleShape(shape, axis, blockSize, perAxis: name.Contains("axis") || blockSize > 0);
        var rng = new Random(5);
        float[] scales = Enumerable.Range(0, count).Select(_ => 0.001f + (float)rng.NextDouble()).ToArray();
        long[] zeros = Enumerable.Range(0, count).Select(_ => type switch
        {
            ElementType.UInt8 => (long)rng.Next(0, 256),
            ElementType.Int8 => rng.Next(-128, 128),
            ElementType.UInt16 => rng.Next(0, 65536),
            _ => rng.Next(-32768, 32768),
        }).ToArray();
        var data = new Random(6);
        long[] values = Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => type switch
        {
            ElementType.UInt8 => (long)data.Next(0, 256),
            ElementType.Int8 => data.Next(-128, 128),
            ElementType.UInt16 => data.Next(0, 65536),
            ElementType.Int16 => data.Next(-32768, 32768),
            _ => data.Next(int.MinValue, int.MaxValue),
        }).ToArray();

        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", type, Dims(shape));
        string s = b.Input("scale", ElementType.Float32, Dims(scaleShape));
        string?[] inputs = withZero ? [x, s, b.Initializer("zero", Vector(type, zeros).Reshape(scaleShape))] : [x, s];
        (string, object)[] attributes = opset >= 13 ? blockSize > 0 ? [("axis", axis), ("block_size", blockSize)] : [("axis", axis)] : [];
        b.Output(b.Node("DequantizeLinear", inputs, attributes));
        OrtAgreement.AssertMatches(b.Build(), [("x", Vector(type, values).Reshape(shape)), ("scale", Tensor.FromFloats(scaleShape, scales))]);
    }

    [Fact]
    public void DequantizeLinear_to_float16()
    {
        var b = new OnnxModelBuilder(19);
        string x = b.Input("x", ElementType.Int8, 2, 3, 4);
        string s = b.Initializer("s", Tensor.From<Half>(ElementType.Float16, [3], [(Half)0.5f, (Half)0.125f, (Half)2f]));
        b.Output(b.Node("DequantizeLinear", [x, s, b.Initializer("z", Vector(ElementType.Int8, 1, -2, 3))], ("axis", 1)), ElementType.Float16);
        OrtAgreement.AssertMatches(b.Build(), [("x", Bytes(ElementType.Int8, [2, 3, 4], 7))]);
    }

    public static TheoryData<float, float, int> DynamicCases => new()
    {
        { -1f, 1f, 37 },
        { 0.5f, 3f, 16 },
        { -7f, -2f, 9 },
        { -0.01f, 250f, 100 },
        { 0f, 0f, 5 },
    };

    [Theory]
    [MemberData(nameof(DynamicCases))]
    public void DynamicQuantizeLinear_matches_onnxruntime(float lo, float hi, int length)
    {
        var b = new OnnxModelBuilder(11);
        string x = b.Input("x", ElementType.Float32, length);
        string[] outputs = b.NodeMulti("DynamicQuantizeLinear", [x], 3);
        b.Output(outputs[0], ElementType.UInt8);
        b.Output(outputs[1]);
        b.Output(outputs[2], ElementType.UInt8);
        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random([length], 8, lo, hi))], tolerance: 0);
    }

    public static TheoryData<ElementType, ElementType, int[], int[], string> MatMulIntegerCases => new()
    {
        { ElementType.UInt8, ElementType.UInt8, [7, 13], [13, 19], "scalar" },
        { ElementType.UInt8, ElementType.Int8, [5, 33], [33, 17], "scalar" },
        { ElementType.Int8, ElementType.Int8, [9, 4], [4, 3], "scalar" },
        { ElementType.UInt8, ElementType.Int8, [2, 3, 7, 11], [11, 5], "none" },
        { ElementType.UInt8, ElementType.UInt8, [2, 6, 10], [10, 21], "column" },
        { ElementType.UInt8, ElementType.Int8, [2, 6, 10], [2, 10, 21], "scalar" },
        { ElementType.UInt8, ElementType.Int8, [300, 1], [1, 2], "a" },
        { ElementType.UInt8, ElementType.UInt8, [10], [10, 4], "scalar" },
    };

    [Theory]
    [MemberData(nameof(MatMulIntegerCases))]
    public void MatMulInteger_matches_onnxruntime(ElementType aType, ElementType bType, int[] aShape, int[] bShape, string zeros)
    {
        var b = new OnnxModelBuilder(10);
        string a = b.Input("a", aType, Dims(aShape));
        string w = b.Input("b", bType, Dims(bShape));
        string?[] inputs = zeros switch
        {
            "none" => [a, w],
            "a" => [a, w, b.Initializer("za", Scalar(aType, 200))],
            "column" => [a, w, b.Initializer("za", Scalar(aType, 7)), b.Initializer("zb", Bytes(bType, [bShape[^1]], 4))],
            _ => [a, w, b.Initializer("za", Scalar(aType, aType == ElementType.Int8 ? -3 : 130)), b.Initializer("zb", Scalar(bType, bType == ElementType.Int8 ? 5 : 120))],
        };
        b.Output(b.Node("MatMulInteger", inputs), ElementType.Int32);
        OrtAgreement.AssertMatches(b.Build(), [("a", Bytes(aType, aShape, 1)), ("b", Bytes(bType, bShape, 2))]);
    }

    [Fact]
    public void MatMulInteger_per_row_zero_points_match_a_direct_sum()
    {
        // ONNX Runtime takes only a scalar zero point for A; the definition is the reference here.
        int m = 5, k = 9, n = 6;
        Tensor a = Bytes(ElementType.Int8, [m, k], 1), w = Bytes(ElementType.UInt8, [k, n], 2), za = Bytes(ElementType.Int8, [m], 3), zb = Bytes(ElementType.UInt8, [n], 4);
        var b = new OnnxModelBuilder(10);
        b.Output(b.Node("MatMulInteger", [b.Input("a", ElementType.Int8, m, k), b.Initializer("b", w), b.Initializer("za", za), b.Initializer("zb", zb)]), ElementType.Int32);
        int[] y = ModelRunner.Run(b.Build(), [a])[0].Span<int>().ToArray();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int expected = 0;
                for (int p = 0; p < k; p++)
                {
                    expected += (a.Span<sbyte>()[i * k + p] - za.Span<sbyte>()[i]) * (w.Bytes[p * n + j] - zb.Bytes[j]);
                }

                Assert.Equal(expected, y[i * n + j]);
            }
        }
    }

    public static TheoryData<string, ElementType, ElementType, int[], int[], (string, object)[]> ConvCases => new()
    {
        { "3x3 pads", ElementType.UInt8, ElementType.UInt8, [1, 3, 9, 11], [4, 3, 3, 3], [("pads", new[] { 1, 1, 1, 1 })] },
        { "strides, asymmetric pads", ElementType.UInt8, ElementType.Int8, [2, 3, 10, 9], [5, 3, 3, 2], [("pads", new[] { 1, 0, 2, 1 }), ("strides", new[] { 2, 3 })] },
        { "groups, dilations", ElementType.Int8, ElementType.Int8, [1, 6, 8, 8], [9, 2, 3, 3], [("group", 3), ("dilations", new[] { 2, 1 }), ("pads", new[] { 2, 1, 2, 1 })] },
        { "depthwise", ElementType.UInt8, ElementType.Int8, [1, 5, 7, 7], [5, 1, 3, 3], [("group", 5), ("pads", new[] { 1, 1, 1, 1 })] },
        { "pointwise", ElementType.UInt8, ElementType.Int8, [1, 16, 5, 7], [8, 16, 1, 1], [] },
        { "1d SAME_UPPER", ElementType.UInt8, ElementType.UInt8, [2, 4, 17], [6, 4, 5], [("auto_pad", "SAME_UPPER"), ("strides", new[] { 2 })] },
        { "wide", ElementType.UInt8, ElementType.Int8, [1, 32, 12, 12], [40, 32, 3, 3], [("pads", new[] { 1, 1, 1, 1 })] },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvInteger_matches_onnxruntime(string name, ElementType xType, ElementType wType, int[] xShape, int[] wShape, (string, object)[] attributes)
    {
        _ = name;
        var b = new OnnxModelBuilder(10);
        string x = b.Input("x", xType, Dims(xShape));
        string w = b.Initializer("w", Bytes(wType, wShape, 2));
        string zx = b.Initializer("zx", Scalar(xType, xType == ElementType.Int8 ? -5 : 131));
        string zw = b.Initializer("zw", Scalar(wType, wType == ElementType.Int8 ? 3 : 127));
        b.Output(b.Node("ConvInteger", [x, w, zx, zw], attributes), ElementType.Int32);
        OrtAgreement.AssertMatches(b.Build(), [("x", Bytes(xType, xShape, 1))]);
    }

    public static TheoryData<ElementType, ElementType, ElementType, int[], int[], bool> QLinearMatMulCases => new()
    {
        { ElementType.UInt8, ElementType.UInt8, ElementType.UInt8, [7, 13], [13, 19], false },
        { ElementType.UInt8, ElementType.Int8, ElementType.UInt8, [3, 5, 40], [40, 33], true },
        { ElementType.Int8, ElementType.Int8, ElementType.Int8, [2, 4, 9], [2, 9, 5], false },
        { ElementType.Int8, ElementType.Int8, ElementType.Int8, [17, 64], [64, 16], true },
        { ElementType.UInt8, ElementType.Int8, ElementType.UInt8, [1, 300], [300, 10], false },
    };

    [Theory]
    [MemberData(nameof(QLinearMatMulCases))]
    public void QLinearMatMul_matches_onnxruntime(ElementType aType, ElementType bType, ElementType yType, int[] aShape, int[] bShape, bool perColumn)
    {
        int n = bShape[^1];
        var b = new OnnxModelBuilder(10);
        string a = b.Input("a", aType, Dims(aShape));
        string w = b.Initializer("b", Bytes(bType, bShape, 2));
        float[] bScales = perColumn ? TensorAssert.Random([n], 3, 0.001f, 0.01f).ToFloats() : [0.004f];
        string bScale = b.Initializer("bs", perColumn ? Tensor.FromFloats([n], bScales) : Tensor.FromFloats([], bScales));
        string bZero = b.Initializer("bz", perColumn ? Bytes(bType, [n], 4) : Scalar(bType, bType == ElementType.Int8 ? 2 : 125));
        string?[] inputs =
        [
            a, b.Initializer("as", Tensor.FromFloats([], 0.02f)), b.Initializer("az", Scalar(aType, aType == ElementType.Int8 ? -7 : 121)),
            w, bScale, bZero,
            b.Initializer("ys", Tensor.FromFloats([], 0.9f)), b.Initializer("yz", Scalar(yType, yType == ElementType.Int8 ? 3 : 128)),
        ];
        b.Output(b.Node("QLinearMatMul", inputs), yType);
        OrtAgreement.AssertMatches(b.Build(), [("a", Bytes(aType, aShape, 1))]);
    }

    public static TheoryData<string, ElementType, ElementType, int[], int[], bool, bool, (string, object)[]> QLinearConvCases => new()
    {
        { "per tensor", ElementType.UInt8, ElementType.UInt8, [1, 3, 9, 11], [4, 3, 3, 3], false, false, [("pads", new[] { 1, 1, 1, 1 })] },
        { "per channel, bias", ElementType.UInt8, ElementType.Int8, [2, 3, 10, 9], [5, 3, 3, 2], true, true, [("pads", new[] { 1, 0, 2, 1 }), ("strides", new[] { 2, 1 })] },
        { "int8, groups, bias", ElementType.Int8, ElementType.Int8, [1, 6, 8, 8], [9, 2, 3, 3], true, true, [("group", 3), ("pads", new[] { 1, 1, 1, 1 })] },
        { "depthwise", ElementType.UInt8, ElementType.Int8, [1, 8, 7, 7], [8, 1, 3, 3], true, true, [("group", 8), ("pads", new[] { 1, 1, 1, 1 }), ("strides", new[] { 2, 2 })] },
        { "pointwise", ElementType.UInt8, ElementType.Int8, [1, 24, 5, 6], [17, 24, 1, 1], false, true, [] },
        { "1d", ElementType.UInt8, ElementType.UInt8, [2, 4, 19], [6, 4, 4], false, false, [("pads", new[] { 2, 1 })] },
    };

    [Theory]
    [MemberData(nameof(QLinearConvCases))]
    public void QLinearConv_matches_onnxruntime(string name, ElementType xType, ElementType wType, int[] xShape, int[] wShape, bool perChannel, bool bias, (string, object)[] attributes)
    {
        _ = name;
        int m = wShape[0];
        var b = new OnnxModelBuilder(10);
        string x = b.Input("x", xType, Dims(xShape));
        string?[] inputs =
        [
            x, b.Initializer("xs", Tensor.FromFloats([], 0.03f)), b.Initializer("xz", Scalar(xType, xType == ElementType.Int8 ? -4 : 130)),
            b.Initializer("w", Bytes(wType, wShape, 2)),
            b.Initializer("ws", perChannel ? TensorAssert.Random([m], 3, 0.002f, 0.02f) : Tensor.FromFloats([], 0.01f)),
            b.Initializer("wz", perChannel ? Bytes(wType, [m], 4) : Scalar(wType, wType == ElementType.Int8 ? 0 : 128)),
            b.Initializer("ys", Tensor.FromFloats([], 0.7f)), b.Initializer("yz", Scalar(xType, xType == ElementType.Int8 ? -1 : 127)),
            .. bias ? [b.Initializer("bias", OrtAgreement.Int32s([m], 5))] : Array.Empty<string>(),
        ];
        b.Output(b.Node("QLinearConv", inputs, attributes), xType);
        OrtAgreement.AssertMatches(b.Build(), [("x", Bytes(xType, xShape, 1))]);
    }

    public static TheoryData<string, ElementType, ElementType, int[], int[], (string, object)[]> PackedQLinearConvCases => new()
    {
        { "uint8, 3×3, padded", ElementType.UInt8, ElementType.Int8, [1, 3, 9, 11], [4, 3, 3, 3], [("pads", new[] { 1, 1, 1, 1 })] },
        { "int8, batch 2, strides, asymmetric pads", ElementType.Int8, ElementType.Int8, [2, 5, 10, 9], [7, 5, 3, 2], [("pads", new[] { 1, 0, 2, 1 }), ("strides", new[] { 2, 1 })] },
        { "uint8 weights at 128, dilations", ElementType.UInt8, ElementType.UInt8, [1, 2, 12, 12], [33, 2, 3, 3], [("dilations", new[] { 2, 2 }), ("pads", new[] { 2, 2, 2, 2 })] },
        { "many channels", ElementType.UInt8, ElementType.Int8, [1, 40, 6, 7], [19, 40, 3, 3], [("pads", new[] { 1, 1, 1, 1 })] },
    };

    /// <summary>Weights with zero points 0 once shifted (what quantizers write): one <see cref="QuantizedConv"/> call, exact.</summary>
    [Theory]
    [MemberData(nameof(PackedQLinearConvCases))]
    public void Packed_QLinearConv_matches_onnxruntime(string name, ElementType xType, ElementType wType, int[] xShape, int[] wShape, (string, object)[] attributes)
    {
        _ = name;
        int m = wShape[0];
        var b = new OnnxModelBuilder(10);
        string x = b.Input("x", xType, Dims(xShape));
        string?[] inputs =
        [
            x, b.Initializer("xs", Tensor.FromFloats([], 0.03f)), b.Initializer("xz", Scalar(xType, xType == ElementType.Int8 ? -4 : 130)),
            b.Initializer("w", Bytes(wType, wShape, 2)),
            b.Initializer("ws", TensorAssert.Random([m], 3, 0.002f, 0.02f)),
            b.Initializer("wz", new Tensor(wType, [m], Enumerable.Repeat(wType == ElementType.Int8 ? (byte)0 : (byte)128, m).ToArray())),
            b.Initializer("ys", Tensor.FromFloats([], 0.7f)), b.Initializer("yz", Scalar(xType, xType == ElementType.Int8 ? -1 : 127)),
            b.Initializer("bias", OrtAgreement.Int32s([m], 5)),
        ];
        b.Output(b.Node("QLinearConv", inputs, attributes), xType);
        byte[] model = b.Build();
        Assert.Contains("step QuantizedConv<", ModelRunner.Compile(model).PlanText);
        OrtAgreement.AssertMatches(model, [("x", Bytes(xType, xShape, 1))]);
    }

    [Fact]
    public void QLinearConv_with_run_time_scales_matches_onnxruntime()
    {
        var b = new OnnxModelBuilder(10);
        string?[] inputs =
        [
            b.Input("x", ElementType.UInt8, 1, 2, 6, 6), b.Input("xs", ElementType.Float32), b.Input("xz", ElementType.UInt8),
            b.Input("w", ElementType.UInt8, 3, 2, 3, 3), b.Input("ws", ElementType.Float32), b.Input("wz", ElementType.UInt8),
            b.Input("ys", ElementType.Float32), b.Input("yz", ElementType.UInt8),
        ];
        b.Output(b.Node("QLinearConv", inputs), ElementType.UInt8);
        OrtAgreement.AssertMatches(b.Build(),
        [
            ("x", Bytes(ElementType.UInt8, [1, 2, 6, 6], 1)), ("xs", Tensor.FromFloats([], 0.05f)), ("xz", Scalar(ElementType.UInt8, 120)),
            ("w", Bytes(ElementType.UInt8, [3, 2, 3, 3], 2)), ("ws", Tensor.FromFloats([], 0.01f)), ("wz", Scalar(ElementType.UInt8, 100)),
            ("ys", Tensor.FromFloats([], 2f)), ("yz", Scalar(ElementType.UInt8, 90)),
        ]);
    }

    /// <summary>Every inner loop of the integer GEMMs this processor can run (tests force each).</summary>
    internal static List<IntegerGemmPath> IntegerPaths()
    {
        var paths = new List<IntegerGemmPath> { IntegerGemmPath.Portable };
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            paths.Add(IntegerGemmPath.AvxVnni);
        }

        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            paths.Add(IntegerGemmPath.Avx512);
        }

        return paths;
    }

    [Fact]
    public void Integer_gemm_paths_agree_with_the_definition()
    {
        var rng = new Random(11);
        foreach ((int m, int n, int k) in new[] { (1, 1, 1), (5, 17, 3), (4, 16, 4), (9, 33, 257), (13, 7, 600), (3, 40, 1030), (8, 32, 4), (17, 67, 259), (16, 64, 513) })
        {
            foreach (bool aSigned in new[] { false, true })
            {
                foreach (bool bSigned in new[] { false, true })
                {
                    var a = new byte[m * k];
                    var b = new byte[k * n];
                    rng.NextBytes(a);
                    rng.NextBytes(b);
                    byte[] aZero = [.. Enumerable.Range(0, m).Select(_ => (byte)rng.Next(256))];
                    byte[] bZero = [(byte)rng.Next(256)];
                    var expected = new int[m * n];
                    for (int i = 0; i < m; i++)
                    {
                        for (int j = 0; j < n; j++)
                        {
                            for (int p = 0; p < k; p++)
                            {
                                expected[i * n + j] += (Value(a[i * k + p], aSigned) - Value(aZero[i], aSigned)) * (Value(b[p * n + j], bSigned) - Value(bZero[0], bSigned));
                            }
                        }
                    }

                    foreach (IntegerGemmPath path in IntegerPaths())
                    {
                        var y = new int[m * n];
                        IntegerGemm.Multiply(a, aSigned, aZero, b, bSigned, bZero, y, new int[m], m, n, k, path);
                        Assert.True(expected.SequenceEqual(y), $"{path} differs for m={m} n={n} k={k} aSigned={aSigned} bSigned={bSigned}");
                    }
                }
            }
        }

        static int Value(byte raw, bool signed) => signed ? (sbyte)raw : raw;
    }

    [Fact]
    public unsafe void Packed_integer_gemm_paths_agree_with_the_definition()
    {
        var rng = new Random(12);
        using var context = new ModelSdk.Runtime.KernelContext(2);
        List<IntegerGemmPath> paths = IntegerPaths();

        // Odd sizes, ragged quads, partial panels and tiles, row chunks, and products large enough to split over the workers.
        foreach ((int m, int n, int k) in new[] { (1, 1, 1), (5, 17, 3), (7, 40, 9), (6, 16, 4), (13, 7, 600), (1, 75, 257), (97, 33, 130), (200, 70, 64), (31, 300, 101) })
        {
            foreach (bool aSigned in new[] { false, true })
            {
                foreach (bool bSigned in new[] { false, true })
                {
                    var a = new byte[m * k];
                    var b = new byte[k * n];
                    rng.NextBytes(a);
                    rng.NextBytes(b);
                    byte aZero = (byte)rng.Next(256);
                    byte bZero = bSigned ? (byte)0 : (byte)128;
                    int[] bias = [.. Enumerable.Range(0, n).Select(_ => rng.Next(-5000, 5000))];
                    float[] scale = [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 0.01))];
                    byte yZero = (byte)rng.Next(256);
                    var sums = new int[m * n];
                    for (int i = 0; i < m; i++)
                    {
                        for (int j = 0; j < n; j++)
                        {
                            int sum = bias[j];
                            for (int p = 0; p < k; p++)
                            {
                                sum += (Value(a[i * k + p], aSigned) - Value(aZero, aSigned)) * (Value(b[p * n + j], bSigned) - Value(bZero, bSigned));
                            }

                            sums[i * n + j] = sum;
                        }
                    }

                    var packed = new sbyte[PackedIntegerGemm.PackedLength(k, n)];
                    var columnSums = new int[n];
                    Assert.True(PackedIntegerGemm.Pack(b, bSigned, [bZero], k, n, packed, columnSums));
                    int shiftedZero = aSigned ? (sbyte)aZero + 128 : aZero;
                    int[] terms = [.. Enumerable.Range(0, PackedIntegerGemm.PaddedColumns(n)).Select(j => j < n ? bias[j] - (shiftedZero * columnSums[j]) : 0)];
                    float[] paddedScale = [.. scale, .. new float[PackedIntegerGemm.PaddedColumns(n) - n]];
                    var scratch = new byte[PackedIntegerGemm.ScratchLength(m, k)];
                    foreach (IntegerGemmPath path in paths)
                    {
                        string what = $"{path} m={m} n={n} k={k} aSigned={aSigned} bSigned={bSigned}";
                        PackedIntegerGemm.Forced = path;
                        try
                        {
                            var y = new int[m * n];
                            Run<int>(y, null, 0);
                            Assert.True(sums.SequenceEqual(y), "int32 " + what);

                            var f = new float[m * n];
                            Run<float>(f, paddedScale, 0);
                            Assert.True(sums.Select((v, i) => v * scale[i % n]).SequenceEqual(f), "float32 " + what);

                            var q = new byte[m * n];
                            Run<byte>(q, paddedScale, yZero);
                            Assert.True(sums.Select((v, i) => (byte)((int)MathF.Round(Math.Clamp(v * scale[i % n], -yZero, 255 - yZero)) + yZero)).SequenceEqual(q), "uint8 " + what);

                            var t = new int[m * n];
                            fixed (int* pt = t)
                            {
                                PackedIntegerGemm.Multiply(a, aSigned, packed, terms, [], 0, pt, PackedOutput.Int32, transposed: true, scratch, m, n, k, context);
                            }

                            Assert.True(Enumerable.Range(0, m * n).All(i => t[(i % n * m) + (i / n)] == sums[i]), "transposed " + what);
                        }
                        finally
                        {
                            PackedIntegerGemm.Forced = IntegerGemmPath.Auto;
                        }
                    }

                    void Run<TY>(TY[] y, float[]? s, byte zero)
                        where TY : unmanaged
                    {
                        if (aSigned)
                        {
                            QuantizedMatMul.Run<sbyte, TY>(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(a), packed, terms, s, zero == 0 ? [] : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, TY>(new byte[] { zero }), y, scratch, m, n, k, context);
                        }
                        else
                        {
                            QuantizedMatMul.Run<byte, TY>(a, packed, terms, s, zero == 0 ? [] : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, TY>(new byte[] { zero }), y, scratch, m, n, k, context);
                        }
                    }
                }
            }
        }

        static int Value(byte raw, bool signed) => signed ? (sbyte)raw : raw;
    }

    [Fact]
    public void QLinearMatMul_with_per_row_scales_is_unsupported()
    {
        var b = new OnnxModelBuilder(10);
        string?[] inputs =
        [
            b.Input("a", ElementType.UInt8, 3, 4), b.Initializer("as", Tensor.FromFloats([3], 0.1f, 0.2f, 0.3f)), b.Initializer("az", Scalar(ElementType.UInt8, 0)),
            b.Initializer("b", Bytes(ElementType.UInt8, [4, 2], 1)), b.Initializer("bs", Tensor.FromFloats([], 0.1f)), b.Initializer("bz", Scalar(ElementType.UInt8, 0)),
            b.Initializer("ys", Tensor.FromFloats([], 0.1f)), b.Initializer("yz", Scalar(ElementType.UInt8, 0)),
        ];
        b.Output(b.Node("QLinearMatMul", inputs), ElementType.UInt8);
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.UnsupportedAttribute, d.Code);
        Assert.Contains("'as'", d.Message);
    }

    [Fact]
    public void QuantizeLinear_with_a_scale_that_does_not_fit_the_axis_is_rejected()
    {
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node("QuantizeLinear", [x, b.Initializer("s", Tensor.FromFloats([2], 0.1f, 0.2f))], ("axis", 1)), ElementType.UInt8);
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.ShapeMismatch, d.Code);
        Assert.Contains("1-D with 3 elements", d.Message);
    }

    [Fact]
    public void MatMulInteger_of_floats_is_an_unsupported_type()
    {
        var b = new OnnxModelBuilder(10);
        b.Output(b.Node("MatMulInteger", [b.Input("a", ElementType.Float32, 2, 2), b.Input("b", ElementType.UInt8, 2, 2)]), ElementType.Int32);
        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Microsoft_domain_QLinearAdd_is_unsupported()
    {
        var b = new OnnxModelBuilder(13);
        string a = b.Input("a", ElementType.UInt8, 4);
        b.RawNode("QLinearAdd", [a, "s", "z", a, "s", "z", "s", "z"], ["y"], "add", "com.microsoft");
        b.Initializer("s", Tensor.FromFloats([], 0.1f));
        b.Initializer("z", Scalar(ElementType.UInt8, 0));
        b.Output("y", ElementType.UInt8);
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.UnsupportedOperator, d.Code);
    }

    /// <summary>The scale's shape for quantizing <paramref name="shape"/>: per tensor, per axis, or blocked.</summary>
    private static (int[] Shape, int Count) ScaleShape(int[] shape, int axis, int blockSize, bool perAxis)
    {
        int a = axis < 0 ? axis + shape.Length : axis;
        if (blockSize > 0)
        {
            int[] blocked = [.. shape];
            blocked[a] = (shape[a] + blockSize - 1) / blockSize;
            return (blocked, Shapes.ElementCount(blocked));
        }

        return perAxis ? ([shape[a]], shape[a]) : ([], 1);
    }

    private static int?[] Dims(int[] shape) => OrtAgreement.Dims(shape);
}
