using Google.Protobuf;
using ModelSdk.Compiler.Ir;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Builds small ONNX models in code for tests: inputs, initializers, nodes, outputs.</summary>
public sealed class OnnxModelBuilder(int opset = 13)
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private int _next;

    /// <summary>The model's opset.</summary>
    public int Opset { get; } = opset;

    /// <summary>Adds a graph input; a null dimension is symbolic (named N).</summary>
    public string Input(string name, ElementType type, params int?[] shape)
    {
        _graph.Input.Add(ValueInfo(name, type, shape));
        return name;
    }

    /// <summary>Adds an initializer.</summary>
    public string Initializer(string name, Tensor value)
    {
        _graph.Initializer.Add(ToProto(name, value));
        return name;
    }

    /// <summary>Adds a float32 initializer.</summary>
    public string Initializer(string name, int[] shape, float[] values) => Initializer(name, Tensor.FromFloats(shape, values));

    /// <summary>Adds a node with one output and returns the output name.</summary>
    public string Node(string opType, string?[] inputs, params (string Name, object Value)[] attributes)
        => NodeMulti(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] NodeMulti(string opType, string?[] inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        int id = _next++;
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{id}" };
        node.Input.AddRange(inputs.Select(i => i ?? string.Empty));
        var names = Enumerable.Range(0, outputs).Select(k => $"{opType.ToLowerInvariant()}_{id}_{k}").ToArray();
        node.Output.AddRange(names);
        foreach ((string name, object value) in attributes)
        {
            node.Attribute.Add(Attribute(name, value));
        }

        _graph.Node.Add(node);
        return names;
    }

    /// <summary>Adds a node with the given output names; an empty name leaves that optional output absent.</summary>
    public void NodeWithOutputs(string opType, string?[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_next++}" };
        node.Input.AddRange(inputs.Select(i => i ?? string.Empty));
        node.Output.AddRange(outputs);
        foreach ((string name, object value) in attributes)
        {
            node.Attribute.Add(Attribute(name, value));
        }

        _graph.Node.Add(node);
    }

    /// <summary>Adds a raw node (any names, domain) for tests of malformed graphs.</summary>
    public void RawNode(string opType, string[] inputs, string[] outputs, string name = "", string domain = "")
    {
        var node = new NodeProto { OpType = opType, Name = name, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        _graph.Node.Add(node);
    }

    /// <summary>Declares a graph output (type and shape may be left unknown).</summary>
    public void Output(string name, ElementType type = ElementType.Float32, params int?[] shape)
        => _graph.Output.Add(shape.Length == 0 ? new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxType(type) } } } : ValueInfo(name, type, shape));

    /// <summary>
    /// This builder's nodes, initializers and outputs as a subgraph (an If branch): build a branch with
    /// a separate builder whose nodes read names of the enclosing graph directly.
    /// </summary>
    public GraphProto Subgraph(string name)
    {
        GraphProto g = _graph.Clone();
        g.Name = name;
        g.Input.Clear();
        return g;
    }

    /// <summary>The model as a protobuf object.</summary>
    public ModelProto Model()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "ModelSdk.Tests", Graph = _graph.Clone() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        return model;
    }

    /// <summary>The serialized model.</summary>
    public byte[] Build() => Model().ToByteArray();

    /// <summary>An ONNX TensorProto of a tensor.</summary>
    public static TensorProto ToProto(string name, Tensor value)
    {
        var t = new TensorProto { Name = name, DataType = OnnxType(value.Type), RawData = ByteString.CopyFrom(value.Bytes) };
        t.Dims.AddRange(value.Shape.Select(d => (long)d));
        return t;
    }

    /// <summary>The ONNX data type number of an element type.</summary>
    public static int OnnxType(ElementType type) => type switch
    {
        ElementType.Float32 => 1,
        ElementType.UInt8 => 2,
        ElementType.Int8 => 3,
        ElementType.UInt16 => 4,
        ElementType.Int16 => 5,
        ElementType.Int32 => 6,
        ElementType.Int64 => 7,
        ElementType.Bool => 9,
        ElementType.Float16 => 10,
        ElementType.Float64 => 11,
        ElementType.UInt32 => 12,
        ElementType.UInt64 => 13,
        ElementType.BFloat16 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static ValueInfoProto ValueInfo(string name, ElementType type, int?[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = OnnxType(type), Shape = new TensorShapeProto() };
        foreach (int? d in shape)
        {
            tensorType.Shape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        double d => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)d },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        int[] ints => WithInts(name, ints.Select(v => (long)v)),
        long[] longs => WithInts(name, longs),
        float[] floats => WithFloats(name, floats),
        string[] strings => WithStrings(name, strings),
        Tensor t => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = ToProto(string.Empty, t) },
        GraphProto g => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = g },
        _ => throw new ArgumentException($"Unsupported attribute value type {value.GetType()}."),
    };

    private static AttributeProto WithInts(string name, IEnumerable<long> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static AttributeProto WithStrings(string name, IEnumerable<string> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        a.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return a;
    }

    private static AttributeProto WithFloats(string name, IEnumerable<float> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }
}
