using System.Runtime.InteropServices;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Ir;

/// <summary>Immutable constant tensor data: element type, shape and little-endian bytes.</summary>
public sealed class Tensor
{
    private readonly byte[] _data;

    /// <summary>Creates a tensor over <paramref name="data"/> (not copied; the caller must not change it afterwards).</summary>
    public Tensor(ElementType type, int[] shape, byte[] data)
    {
        Type = type;
        Shape = shape;
        ElementCount = Shapes.ElementCount(shape);
        if (data.LongLength != ElementCount * type.SizeInBytes())
        {
            throw new ArgumentException($"Expected {ElementCount * type.SizeInBytes()} bytes, got {data.LongLength}.");
        }

        _data = data;
    }

    /// <summary>Element type.</summary>
    public ElementType Type { get; }

    /// <summary>Shape (empty for a scalar).</summary>
    public int[] Shape { get; }

    /// <summary>Number of elements.</summary>
    public int ElementCount { get; }

    /// <summary>Raw little-endian bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _data;

    /// <summary>The elements as <typeparamref name="T"/>, which must have the element size.</summary>
    public ReadOnlySpan<T> Span<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(_data.AsSpan());

    /// <summary>Creates a tensor from typed elements.</summary>
    public static Tensor From<T>(ElementType type, int[] shape, ReadOnlySpan<T> values) where T : unmanaged
        => new(type, shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>A float32 tensor.</summary>
    public static Tensor FromFloats(int[] shape, params float[] values) => From<float>(ElementType.Float32, shape, values);

    /// <summary>An int64 tensor.</summary>
    public static Tensor FromInt64s(int[] shape, params long[] values) => From<long>(ElementType.Int64, shape, values);

    /// <summary>The elements of an integer tensor widened to <c>long</c> (for shapes, axes, indices).</summary>
    public long[] ToInt64s()
    {
        var result = new long[ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Type switch
            {
                ElementType.Int64 => Span<long>()[i],
                ElementType.Int32 => Span<int>()[i],
                ElementType.Int16 => Span<short>()[i],
                ElementType.Int8 => Span<sbyte>()[i],
                ElementType.UInt8 or ElementType.Bool => _data[i],
                ElementType.UInt16 => Span<ushort>()[i],
                ElementType.UInt32 => Span<uint>()[i],
                ElementType.UInt64 => (long)Span<ulong>()[i],
                _ => throw new InvalidOperationException($"A {Type.ToPlanName()} tensor is not an integer tensor."),
            };
        }

        return result;
    }

    /// <summary>The elements of a numeric tensor converted to <c>float</c>.</summary>
    public float[] ToFloats()
    {
        var result = new float[ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Type switch
            {
                ElementType.Float32 => Span<float>()[i],
                ElementType.Float64 => (float)Span<double>()[i],
                ElementType.Float16 => (float)Span<Half>()[i],
                ElementType.BFloat16 => (float)new ModelSdk.Runtime.BFloat16(Span<ushort>()[i]),
                _ => ToInt64s()[i],
            };
        }

        return result;
    }

    /// <summary>The same data with another shape of the same element count.</summary>
    public Tensor Reshape(int[] shape) => new(Type, shape, _data);
}
