using System.Runtime.InteropServices;
using Google.Protobuf.Collections;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Import;

/// <summary>Turns a <see cref="TensorProto"/> into a <see cref="Tensor"/>, checking sizes before allocating.</summary>
internal sealed class TensorDecoder(string modelPath, ExternalData? external)
{
    /// <summary>Maps an ONNX <c>TensorProto.DataType</c> to an element type, or null when unsupported.</summary>
    public static ElementType? MapType(int onnxType) => onnxType switch
    {
        (int)TensorProto.Types.DataType.Float => ElementType.Float32,
        (int)TensorProto.Types.DataType.Uint8 => ElementType.UInt8,
        (int)TensorProto.Types.DataType.Int8 => ElementType.Int8,
        (int)TensorProto.Types.DataType.Uint16 => ElementType.UInt16,
        (int)TensorProto.Types.DataType.Int16 => ElementType.Int16,
        (int)TensorProto.Types.DataType.Int32 => ElementType.Int32,
        (int)TensorProto.Types.DataType.Int64 => ElementType.Int64,
        (int)TensorProto.Types.DataType.Bool => ElementType.Bool,
        (int)TensorProto.Types.DataType.Float16 => ElementType.Float16,
        (int)TensorProto.Types.DataType.Double => ElementType.Float64,
        (int)TensorProto.Types.DataType.Uint32 => ElementType.UInt32,
        (int)TensorProto.Types.DataType.Uint64 => ElementType.UInt64,
        (int)TensorProto.Types.DataType.Bfloat16 => ElementType.BFloat16,
        _ => null,
    };

    /// <summary>Human-readable name of an ONNX data type number.</summary>
    public static string OnnxTypeName(int onnxType)
        => Enum.IsDefined(typeof(TensorProto.Types.DataType), onnxType)
            ? ((TensorProto.Types.DataType)onnxType).ToString().ToLowerInvariant()
            : $"type {onnxType}";

    /// <summary>Decodes <paramref name="proto"/>; <paramref name="name"/> names it in errors.</summary>
    public Tensor Decode(TensorProto proto, string name)
    {
        ElementType type = MapType(proto.DataType)
            ?? throw Error(DiagnosticCodes.UnsupportedTensorType, name, $"element type {OnnxTypeName(proto.DataType)} is not supported.");
        if (proto.Segment is not null)
        {
            throw Error(DiagnosticCodes.UnsupportedTensorType, name, "segmented tensors are not supported.");
        }

        int[] shape = new int[proto.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            long d = proto.Dims[i];
            if (d < 0 || d > int.MaxValue)
            {
                throw Error(DiagnosticCodes.TensorDataMismatch, name, $"dimension {i} is {d}; dimensions must be between 0 and {int.MaxValue}.");
            }

            shape[i] = (int)d;
        }

        int? count = Shapes.TryElementCount(shape);
        if (count is null)
        {
            throw Error(DiagnosticCodes.LimitExceeded, name, $"shape {Shapes.Format(shape)} has more than {Shapes.MaxElements} elements.");
        }

        long bytes = (long)count.Value * type.SizeInBytes();
        if (bytes > Array.MaxLength)
        {
            throw Error(DiagnosticCodes.LimitExceeded, name, $"the tensor needs {bytes} bytes, more than the supported maximum of {Array.MaxLength}.");
        }

        byte[] data;
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            data = ReadExternal(proto, name, bytes);
        }
        else if (!proto.RawData.IsEmpty)
        {
            if (proto.RawData.Length != bytes)
            {
                throw Error(DiagnosticCodes.TensorDataMismatch, name,
                    $"raw_data holds {proto.RawData.Length} bytes, but shape {Shapes.Format(shape)} of {type.ToPlanName()} needs {bytes}.");
            }

            data = proto.RawData.ToByteArray();
        }
        else
        {
            data = DecodeTyped(proto, type, count.Value, name);
        }

        return new Tensor(type, shape, data);
    }

    /// <summary>Checks the external data location of a tensor the compiler does not load (e.g. in a subgraph).</summary>
    public void CheckLocation(TensorProto proto, string name)
    {
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            if (external is null)
            {
                throw Error(DiagnosticCodes.ExternalDataUnreadable, name, "external data cannot be used here.");
            }

            external.Resolve(Entry(proto.ExternalData, "location") ?? string.Empty, name);
        }
    }

    private byte[] ReadExternal(TensorProto proto, string name, long bytes)
    {
        if (external is null)
        {
            throw Error(DiagnosticCodes.ExternalDataUnreadable, name, "external data cannot be used here.");
        }

        string location = Entry(proto.ExternalData, "location") ?? string.Empty;
        long offset = ParseEntry(proto.ExternalData, "offset", 0, name);
        long length = ParseEntry(proto.ExternalData, "length", -1, name);
        return external.Read(location, offset, length, bytes, name);
    }

    private static string? Entry(RepeatedField<StringStringEntryProto> entries, string key)
        => entries.FirstOrDefault(e => e.Key == key)?.Value;

    private long ParseEntry(RepeatedField<StringStringEntryProto> entries, string key, long fallback, string name)
    {
        string? text = Entry(entries, key);
        if (text is null)
        {
            return fallback;
        }

        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value))
        {
            throw Error(DiagnosticCodes.ExternalDataUnreadable, name, $"external data {key} '{text}' is not a non-negative integer.");
        }

        return value;
    }

    private byte[] DecodeTyped(TensorProto proto, ElementType type, int count, string name)
    {
        int available = type switch
        {
            ElementType.Float32 => proto.FloatData.Count,
            ElementType.Float64 => proto.DoubleData.Count,
            ElementType.Int64 => proto.Int64Data.Count,
            ElementType.UInt32 or ElementType.UInt64 => proto.Uint64Data.Count,
            _ => proto.Int32Data.Count,
        };
        if (available != count)
        {
            throw Error(DiagnosticCodes.TensorDataMismatch, name,
                $"the tensor holds {available} values, but shape {Shapes.Format(proto.Dims.Select(d => (int)d).ToArray())} needs {count}.");
        }

        var data = new byte[(long)count * type.SizeInBytes()];
        switch (type)
        {
            case ElementType.Float32:
                Fill(data, proto.FloatData, v => v);
                break;
            case ElementType.Float64:
                Fill(data, proto.DoubleData, v => v);
                break;
            case ElementType.Int64:
                Fill(data, proto.Int64Data, v => v);
                break;
            case ElementType.UInt32:
                Fill(data, proto.Uint64Data, v => (uint)v);
                break;
            case ElementType.UInt64:
                Fill(data, proto.Uint64Data, v => v);
                break;
            case ElementType.Int32:
                Fill(data, proto.Int32Data, v => v);
                break;
            case ElementType.Int16:
                Fill(data, proto.Int32Data, v => (short)v);
                break;
            case ElementType.UInt16:
            case ElementType.Float16:
            case ElementType.BFloat16:
                Fill(data, proto.Int32Data, v => (ushort)v);
                break;
            case ElementType.Int8:
                Fill(data, proto.Int32Data, v => (sbyte)v);
                break;
            case ElementType.UInt8:
                Fill(data, proto.Int32Data, v => (byte)v);
                break;
            case ElementType.Bool:
                Fill(data, proto.Int32Data, v => (byte)(v != 0 ? 1 : 0));
                break;
        }

        return data;
    }

    private static void Fill<TSource, TTarget>(byte[] data, RepeatedField<TSource> source, Func<TSource, TTarget> convert)
        where TTarget : unmanaged
    {
        Span<TTarget> target = MemoryMarshal.Cast<byte, TTarget>(data.AsSpan());
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = convert(source[i]);
        }
    }

    private CompileException Error(string code, string tensor, string message)
        => new(new Diagnostic(code, DiagnosticSeverity.Error, message, modelPath, Tensor: tensor));
}
