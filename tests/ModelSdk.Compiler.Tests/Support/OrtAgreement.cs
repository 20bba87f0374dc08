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
        ElementType.Float16 => Values<Half>(type, shape, seed, r => (Half)(r.NextDouble() * 2 - 1)),
        ElementType.Int16 => Values<short>(type, shape, seed, r => (short)r.Next(-500, 500)),
        ElementType.UInt16 => Values<ushort>(type, shape, seed, r => (ushort)r.Next(0, 1000)),
        ElementType.UInt32 => Values<uint>(type, shape, seed, r => (uint)r.Next(0, 1000)),
        ElementType.UInt64 => Values<ulong>(type, shape, seed, r => (ulong)r.Next(0, 1000)),
        ElementType.Bool => Values<bool>(type, shape, seed, r => r.Next(2) == 1),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>A tensor of <paramref name="type"/> whose elements <paramref name="next"/> draws from a generator seeded with <paramref name="seed"/>.</summary>
    public static Tensor Values<T>(ElementType type, int[] shape, int seed, Func<Random, T> next) where T : unmanaged
    {
        var rng = new Random(seed);
        return Tensor.From<T>(type, shape, Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => next(rng)).ToArray());
    }

    /// <summary>A shape as the nullable dimensions <see cref="OnnxModelBuilder.Input"/> takes.</summary>
    public static int?[] Dims(int[] shape) => shape.Select(d => (int?)d).ToArray();
}
