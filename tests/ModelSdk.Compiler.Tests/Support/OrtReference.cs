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
        ElementType.Float64 => Create<double>(name, t),
        ElementType.Float16 => Create<Float16>(name, t),
        ElementType.BFloat16 => Create<BFloat16>(name, t),
        ElementType.Int8 => Create<sbyte>(name, t),
        ElementType.UInt8 => Create<byte>(name, t),
        ElementType.Int16 => Create<short>(name, t),
        ElementType.UInt16 => Create<ushort>(name, t),
        ElementType.UInt32 => Create<uint>(name, t),
        ElementType.UInt64 => Create<ulong>(name, t),
        _ => throw new NotSupportedException(t.Type.ToString()),
    };

    // ORT's Float16 and BFloat16 are 16-bit structs over the raw bits, so the bytes carry over unchanged.
    private static NamedOnnxValue Create<T>(string name, Tensor t) where T : unmanaged
        => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<T>(t.Span<T>().ToArray(), t.Shape));

    private static Tensor From<T>(ElementType type, DenseTensor<T> t) where T : unmanaged
        => Tensor.From<T>(type, t.Dimensions.ToArray(), t.Buffer.Span);

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
            case DenseTensor<double> d:
                return From(ElementType.Float64, d);
            case DenseTensor<Float16> h:
                return From(ElementType.Float16, h);
            case DenseTensor<BFloat16> bf:
                return From(ElementType.BFloat16, bf);
            case DenseTensor<sbyte> i8:
                return From(ElementType.Int8, i8);
            case DenseTensor<byte> u8:
                return From(ElementType.UInt8, u8);
            case DenseTensor<short> i16:
                return From(ElementType.Int16, i16);
            case DenseTensor<ushort> u16:
                return From(ElementType.UInt16, u16);
            case DenseTensor<uint> u32:
                return From(ElementType.UInt32, u32);
            case DenseTensor<ulong> u64:
                return From(ElementType.UInt64, u64);
            default:
                throw new NotSupportedException(v.Value?.GetType().Name);
        }
    }
}
