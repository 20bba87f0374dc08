using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Runs a model with ModelSdk and ONNX Runtime and requires the outputs to agree.</summary>
public static class OrtAgreement
{
    /// <summary>
    /// Compiles and runs <paramref name="model"/> on <paramref name="inputs"/> (graph input order) and compares every
    /// output with ONNX Runtime's (relative L2 ≤ <paramref name="tolerance"/>, exact for integers); returns ModelSdk's outputs.
    /// </summary>
    public static Tensor[] AssertMatches(byte[] model, IReadOnlyList<(string Name, Tensor Value)> inputs, double tolerance = 1e-5)
    {
        Tensor[] expected = OrtReference.Run(model, inputs);
        Tensor[] actual = ModelRunner.Run(model, inputs.Select(i => i.Value).ToList());
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            TensorAssert.Close(expected[i], actual[i], tolerance);
        }

        return actual;
    }

    /// <summary>Deterministic int64 values in [-500, 500), distinct enough to catch misplaced elements.</summary>
    public static Tensor Int64s(int[] shape, int seed = 1)
    {
        var rng = new Random(seed);
        return Tensor.FromInt64s(shape, Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => (long)rng.Next(-500, 500)).ToArray());
    }

    /// <summary>Deterministic int32 values in [-500, 500).</summary>
    public static Tensor Int32s(int[] shape, int seed = 1)
    {
        var rng = new Random(seed);
        return Tensor.From<int>(ElementType.Int32, shape, Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => rng.Next(-500, 500)).ToArray());
    }

    /// <summary>A test input of <paramref name="type"/>: random floats or integers.</summary>
    public static Tensor Random(ElementType type, int[] shape, int seed = 1) => type switch
    {
        ElementType.Float32 => TensorAssert.Random(shape, seed),
        ElementType.Int64 => Int64s(shape, seed),
        ElementType.Int32 => Int32s(shape, seed),
        ElementType.Float64 => Tensor.From<double>(ElementType.Float64, shape, TensorAssert.Random(shape, seed).Span<float>().ToArray().Select(v => (double)v).ToArray()),
        ElementType.Int8 => Tensor.From<sbyte>(ElementType.Int8, shape, Int32s(shape, seed).Span<int>().ToArray().Select(v => (sbyte)(v % 128)).ToArray()),
        ElementType.UInt8 => Tensor.From<byte>(ElementType.UInt8, shape, Int32s(shape, seed).Span<int>().ToArray().Select(v => (byte)(v + 500)).ToArray()),
        ElementType.Float16 => Tensor.From<Half>(type, shape, TensorAssert.Random(shape, seed).Span<float>().ToArray().Select(v => (Half)v).ToArray()),
        ElementType.Int16 => Tensor.From<short>(type, shape, Int32s(shape, seed).Span<int>().ToArray().Select(v => (short)v).ToArray()),
        ElementType.UInt16 => Tensor.From<ushort>(type, shape, Int32s(shape, seed).Span<int>().ToArray().Select(v => (ushort)(v + 500)).ToArray()),
        ElementType.UInt32 => Tensor.From<uint>(type, shape, Int32s(shape, seed).Span<int>().ToArray().Select(v => (uint)(v + 500)).ToArray()),
        ElementType.UInt64 => Tensor.From<ulong>(type, shape, Int64s(shape, seed).Span<long>().ToArray().Select(v => (ulong)(v + 500)).ToArray()),
        ElementType.Bool => Tensor.From<byte>(type, shape, Int32s(shape, seed).Span<int>().ToArray().Select(v => (byte)(v & 1)).ToArray()),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>A shape as the nullable dimensions <see cref="OnnxModelBuilder.Input"/> takes.</summary>
    public static int?[] Dims(int[] shape) => shape.Select(d => (int?)d).ToArray();
}
