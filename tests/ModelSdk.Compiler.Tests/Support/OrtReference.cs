using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using Tensor = ModelSdk.Compiler.Ir.Tensor;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Runs a model with ONNX Runtime, the reference for numerical agreement.</summary>
public static class OrtReference
{
    /// <summary>Runs <paramref name="model"/> on <paramref name="inputs"/> (by name) and returns the outputs in graph order.</summary>
    public static Tensor[] Run(byte[] model, IReadOnlyList<(string Name, Tensor Value)> inputs)
    {
        using var options = Options();
        using var session = new InferenceSession(model, options);
        return Run(session, inputs);
    }

    /// <summary>Runs the model file at <paramref name="path"/> (external data is read from its folder).</summary>
    public static Tensor[] Run(string path, IReadOnlyList<(string Name, Tensor Value)> inputs)
    {
        using var options = Options();
        using var session = new InferenceSession(path, options);
        return Run(session, inputs);
    }

    private static SessionOptions Options() => new() { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };

    private static Tensor[] Run(InferenceSession session, IReadOnlyList<(string Name, Tensor Value)> inputs)
    {
        var feeds = inputs.Select(i => ToOrt(i.Name, i.Value)).ToList();
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(feeds);
        return results.Select(FromOrt).ToArray();
    }

    private static NamedOnnxValue ToOrt(string name, Tensor t) => t.Type switch
    {
        ElementType.Float32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(t.Span<float>().ToArray(), t.Shape)),
        ElementType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(t.Span<long>().ToArray(), t.Shape)),
        ElementType.Int32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(t.Span<int>().ToArray(), t.Shape)),
        ElementType.Bool => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(t.Span<byte>().ToArray().Select(b => b != 0).ToArray(), t.Shape)),
        ElementType.UInt8 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<byte>(t.Span<byte>().ToArray(), t.Shape)),
        ElementType.Int8 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<sbyte>(t.Span<sbyte>().ToArray(), t.Shape)),
        ElementType.UInt16 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<ushort>(t.Span<ushort>().ToArray(), t.Shape)),
        ElementType.Int16 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<short>(t.Span<short>().ToArray(), t.Shape)),
        ElementType.Float16 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<Float16>(t.Span<ushort>().ToArray().Select(bits => new Float16(bits)).ToArray(), t.Shape)),
        ElementType.Float64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<double>(t.Span<double>().ToArray(), t.Shape)),
        ElementType.UInt32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<uint>(t.Span<uint>().ToArray(), t.Shape)),
        ElementType.UInt64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<ulong>(t.Span<ulong>().ToArray(), t.Shape)),
        _ => throw new NotSupportedException(t.Type.ToString()),
    };

    private static Tensor FromOrt(DisposableNamedOnnxValue v)
    {
        switch (v.Value)
        {
            case DenseTensor<float> f:
                return Tensor.FromFloats(f.Dimensions.ToArray(), f.Buffer.ToArray());
            case DenseTensor<long> l:
                return Tensor.FromInt64s(l.Dimensions.ToArray(), l.Buffer.ToArray());
            case DenseTensor<int> i:
                return Tensor.From<int>(ElementType.Int32, i.Dimensions.ToArray(), i.Buffer.Span);
            case DenseTensor<bool> b:
                return Tensor.From<byte>(ElementType.Bool, b.Dimensions.ToArray(), b.Buffer.ToArray().Select(x => (byte)(x ? 1 : 0)).ToArray());
            case DenseTensor<byte> u8:
                return Tensor.From<byte>(ElementType.UInt8, u8.Dimensions.ToArray(), u8.Buffer.Span);
            case DenseTensor<sbyte> i8:
                return Tensor.From<sbyte>(ElementType.Int8, i8.Dimensions.ToArray(), i8.Buffer.Span);
            case DenseTensor<ushort> u16:
                return Tensor.From<ushort>(ElementType.UInt16, u16.Dimensions.ToArray(), u16.Buffer.Span);
            case DenseTensor<short> i16:
                return Tensor.From<short>(ElementType.Int16, i16.Dimensions.ToArray(), i16.Buffer.Span);
            case DenseTensor<Float16> f16:
                return Tensor.From<ushort>(ElementType.Float16, f16.Dimensions.ToArray(), f16.Buffer.ToArray().Select(h => h.value).ToArray());
            case DenseTensor<double> d:
                return Tensor.From<double>(ElementType.Float64, d.Dimensions.ToArray(), d.Buffer.Span);
            case DenseTensor<uint> u32:
                return Tensor.From<uint>(ElementType.UInt32, u32.Dimensions.ToArray(), u32.Buffer.Span);
            case DenseTensor<ulong> u64:
                return Tensor.From<ulong>(ElementType.UInt64, u64.Dimensions.ToArray(), u64.Buffer.Span);
            default:
                throw new NotSupportedException(v.Value?.GetType().Name);
        }
    }
}
