using System.Security.Cryptography;
using Google.Protobuf;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Onnx;
using ModelSdk.Plan;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Import;

/// <summary>The result of reading a model: its graph, warnings, and every file it was read from.</summary>
public sealed record ImportResult(Graph Graph, IReadOnlyList<Diagnostic> Warnings, IReadOnlyList<string> Dependencies, string Sha256);

/// <summary>
/// Reads an ONNX file into the graph IR and validates it: opset, tensor definitions, data sizes,
/// external data, and a topological order. Every problem becomes a <see cref="CompileException"/>
/// with an MSDK1xxx code; nothing in a hostile file can make it allocate or recurse without bound.
/// </summary>
public static class OnnxImporter
{
    /// <summary>Lowest default-domain opset version accepted.</summary>
    public const int MinOpset = 6;

    /// <summary>Highest default-domain opset version accepted.</summary>
    public const int MaxOpset = 21;

    /// <summary>Largest model file accepted (protobuf's own limit).</summary>
    public const long MaxModelBytes = int.MaxValue;

    /// <summary>Most nodes one graph may have.</summary>
    public const int MaxNodes = 1_000_000;

    /// <summary>Deepest nesting of subgraphs inspected.</summary>
    public const int MaxSubgraphDepth = 32;

    /// <summary>Reads and validates the model at <paramref name="path"/>.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="inputShapes">Shapes fixing symbolic input dimensions, by input name.</param>
    public static ImportResult Import(string path, IReadOnlyDictionary<string, int[]>? inputShapes = null)
    {
        inputShapes ??= new Dictionary<string, int[]>();
        byte[] bytes = ReadFile(path);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            string reason = e.Message.Split(". ")[0].TrimEnd('.'); // protobuf's first sentence says what broke
            throw Error(DiagnosticCodes.MalformedModel, path, $"the file is not a valid ONNX model ({reason}). Check that it is a complete .onnx file.");
        }

        if (model.Graph is null)
        {
            throw Error(DiagnosticCodes.NoGraph, path, "the model has no graph. Check that the file is an ONNX model (not, for example, a TensorFlow or PyTorch file).");
        }

        int opset = ReadOpset(model, path);
        var external = new ExternalData(path);
        var decoder = new TensorDecoder(path, external);
        var warnings = new List<Diagnostic>();
        CheckSubgraphLocations(model.Graph, decoder);
        Graph graph = new GraphBuilder(path, decoder, inputShapes, warnings).Build(model.Graph, opset, Path.GetFileNameWithoutExtension(path));
        var dependencies = new List<string> { Path.GetFullPath(path) };
        dependencies.AddRange(external.Files);
        return new ImportResult(graph, warnings, dependencies, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw Error(DiagnosticCodes.ModelNotFound, path, "the model file does not exist.");
            }

            if (info.Length == 0)
            {
                throw Error(DiagnosticCodes.EmptyModel, path, "the model file is empty.");
            }

            if (info.Length > MaxModelBytes)
            {
                throw Error(DiagnosticCodes.LimitExceeded, path, $"the model file is {info.Length} bytes; ONNX files are limited to 2 GiB (store large weights as external data).");
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(DiagnosticCodes.ModelNotFound, path, $"cannot read the model file: {e.Message}");
        }
    }

    private static int ReadOpset(ModelProto model, string path)
    {
        long? version = null;
        foreach (OperatorSetIdProto id in model.OpsetImport)
        {
            if (id.Domain is "" or "ai.onnx")
            {
                version = id.Version;
            }
        }

        if (version is null)
        {
            throw Error(DiagnosticCodes.UnsupportedOpset, path, $"the model does not import the default ONNX opset. ModelSdk supports opsets {MinOpset} to {MaxOpset}.");
        }

        if (version < MinOpset || version > MaxOpset)
        {
            throw Error(DiagnosticCodes.UnsupportedOpset, path,
                $"the model uses opset {version}; ModelSdk supports opsets {MinOpset} to {MaxOpset}. Convert it with onnx.version_converter.convert_version(model, {Math.Clamp(version.Value, MinOpset, MaxOpset)}).");
        }

        return (int)version.Value;
    }

    /// <summary>Checks external data locations in subgraphs and attribute tensors without loading them (iteratively, depth-limited).</summary>
    private static void CheckSubgraphLocations(GraphProto root, TensorDecoder decoder)
    {
        var stack = new Stack<(GraphProto Graph, int Depth)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            (GraphProto g, int depth) = stack.Pop();
            if (depth > MaxSubgraphDepth)
            {
                throw new CompileException(new Diagnostic(DiagnosticCodes.LimitExceeded, DiagnosticSeverity.Error,
                    $"subgraphs are nested more than {MaxSubgraphDepth} levels deep.", null));
            }

            foreach (TensorProto t in g.Initializer)
            {
                decoder.CheckLocation(t, t.Name);
            }

            foreach (SparseTensorProto s in g.SparseInitializer)
            {
                if (s.Values is not null)
                {
                    decoder.CheckLocation(s.Values, s.Values.Name);
                }

                if (s.Indices is not null)
                {
                    decoder.CheckLocation(s.Indices, s.Indices.Name);
                }
            }

            foreach (NodeProto n in g.Node)
            {
                foreach (AttributeProto a in n.Attribute)
                {
                    if (a.T is not null)
                    {
                        decoder.CheckLocation(a.T, $"{n.Name}.{a.Name}");
                    }

                    foreach (TensorProto t in a.Tensors)
                    {
                        decoder.CheckLocation(t, $"{n.Name}.{a.Name}");
                    }

                    if (a.G is not null)
                    {
                        stack.Push((a.G, depth + 1));
                    }

                    foreach (GraphProto sub in a.Graphs)
                    {
                        stack.Push((sub, depth + 1));
                    }
                }
            }
        }
    }

    internal static CompileException Error(string code, string? path, string message, string? node = null, string? tensor = null)
        => new(new Diagnostic(code, DiagnosticSeverity.Error, message, path, node, tensor));

    private sealed class GraphBuilder(string path, TensorDecoder decoder, IReadOnlyDictionary<string, int[]> inputShapes, List<Diagnostic> warnings,
        GraphBuilder? parent = null, int depth = 0, string namePrefix = "")
    {
        private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);

        /// <summary>Values of enclosing graphs this graph (or a graph nested in it) reads.</summary>
        private readonly List<Value> _outer = [];

        /// <summary>Finds a name in this graph, then in the enclosing ones (recording it as an outer reference).</summary>
        private bool TryResolve(string name, out Value value)
        {
            if (_values.TryGetValue(name, out value!))
            {
                return true;
            }

            if (parent is not null && parent.TryResolve(name, out value!))
            {
                if (!_outer.Contains(value))
                {
                    _outer.Add(value);
                }

                return true;
            }

            return false;
        }

        public Graph Build(GraphProto g, int opset, string fallbackName)
        {
            if (g.Node.Count > MaxNodes)
            {
                throw Error(DiagnosticCodes.LimitExceeded, path, $"the graph has {g.Node.Count} nodes; at most {MaxNodes} are supported.");
            }

            foreach (TensorProto init in g.Initializer)
            {
                if (string.IsNullOrEmpty(init.Name))
                {
                    throw Error(DiagnosticCodes.TensorDataMismatch, path, "an initializer has no name.");
                }

                Value v = Define(init.Name, null);
                v.SetConstant(decoder.Decode(init, init.Name));
            }

            if (g.SparseInitializer.Count > 0)
            {
                throw Error(DiagnosticCodes.UnsupportedTensorType, path, "sparse initializers are not supported.", tensor: g.SparseInitializer[0].Values?.Name);
            }

            var inputs = new List<Value>();
            foreach (ValueInfoProto info in g.Input)
            {
                if (_values.TryGetValue(info.Name, out Value? existing) && existing.IsConstant)
                {
                    continue; // IR < 4 lists initializers as inputs too: they are constants here.
                }

                Value v = Define(info.Name, null);
                v.IsGraphInput = true;
                if (parent is null)
                {
                    (v.Type, v.Shape) = ReadInputType(info);
                }
                else
                {
                    // Formal inputs of a subgraph (Loop, Scan bodies) get their types from the operator.
                    v.Type = TensorDecoder.MapType(info.Type?.TensorType?.ElemType ?? 0) ?? ElementType.Float32;
                }

                inputs.Add(v);
            }

            foreach (string name in inputShapes.Keys)
            {
                if (!inputs.Any(i => i.Name == name))
                {
                    throw Error(DiagnosticCodes.InvalidInputShapes, path,
                        $"InputShapes names '{name}', which is not a graph input. The inputs are: {string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}.");
                }
            }

            var nodes = new List<Node>(g.Node.Count);
            var pending = new List<(NodeProto Proto, Node Node)>(g.Node.Count);
            for (int index = 0; index < g.Node.Count; index++)
            {
                NodeProto proto = g.Node[index];
                string name = string.IsNullOrEmpty(proto.Name) ? $"{namePrefix}{proto.OpType}_{index}" : proto.Name;
                var outputs = new List<Value>(proto.Output.Count);
                foreach (string output in proto.Output)
                {
                    outputs.Add(output.Length == 0 ? new Value(string.Empty) : Define(output, name));
                }

                var node = new Node(name, proto.OpType, proto.Domain == "ai.onnx" ? string.Empty : proto.Domain, new Value?[proto.Input.Count], outputs, ReadAttributes(proto, name));
                foreach (Value o in outputs)
                {
                    o.Producer = node;
                }

                pending.Add((proto, node));
            }

            // Inputs are resolved once every definition is known, so that a graph listed out of order still imports.
            foreach ((NodeProto proto, Node node) in pending)
            {
                var inputsOfNode = (Value?[])node.Inputs;
                for (int i = 0; i < proto.Input.Count; i++)
                {
                    string name = proto.Input[i];
                    if (name.Length == 0)
                    {
                        continue;
                    }

                    if (!TryResolve(name, out Value v))
                    {
                        throw Error(DiagnosticCodes.UndefinedTensor, path,
                            $"input {i} of {node.OpType} reads tensor '{name}', which is not a graph input, an initializer, or the output of any node.", node.Name, name);
                    }

                    inputsOfNode[i] = v;
                }

                BuildSubgraphs(proto, node, opset);
                nodes.Add(node);
            }

            var outputsOfGraph = new List<Value>();
            foreach (ValueInfoProto info in g.Output)
            {
                if (!TryResolve(info.Name, out Value v))
                {
                    throw Error(DiagnosticCodes.UnsupportedGraphValue, path, $"graph output '{info.Name}' is not computed by any node.", tensor: info.Name);
                }

                if (info.Type is not null && info.Type.ValueCase != TypeProto.ValueOneofCase.TensorType)
                {
                    throw Error(DiagnosticCodes.UnsupportedGraphValue, path, $"graph output '{info.Name}' is a {info.Type.ValueCase}; only tensors are supported.", tensor: info.Name);
                }

                outputsOfGraph.Add(v);
            }

            if (outputsOfGraph.Count == 0)
            {
                throw Error(DiagnosticCodes.UnsupportedGraphValue, path, "the graph has no outputs.");
            }

            string graphName = string.IsNullOrWhiteSpace(g.Name) ? fallbackName : g.Name;
            return new Graph(graphName, opset, inputs, outputsOfGraph, TopologicalSort(nodes));
        }

        /// <summary>
        /// Builds the node's subgraph attributes once every name of this graph is defined, since a branch
        /// may read any value of an enclosing graph; what they read becomes the node's implicit inputs.
        /// </summary>
        private void BuildSubgraphs(NodeProto proto, Node node, int opset)
        {
            var implicitInputs = new List<Value>();
            foreach (AttributeProto a in proto.Attribute)
            {
                if (a.Type != AttributeProto.Types.AttributeType.Graph || a.G is null)
                {
                    continue;
                }

                if (depth + 1 > MaxSubgraphDepth)
                {
                    throw Error(DiagnosticCodes.LimitExceeded, path, $"subgraphs are nested more than {MaxSubgraphDepth} levels deep.", node.Name);
                }

                var child = new GraphBuilder(path, decoder, new Dictionary<string, int[]>(), warnings, this, depth + 1, node.Name + "/");
                Graph graph = child.Build(a.G, opset, a.Name);
                ((Dictionary<string, Attribute>)node.Attributes)[a.Name] = new Attribute(a.Name, AttributeKind.Graph) { Graph = graph };
                foreach (Value v in child._outer)
                {
                    if (!implicitInputs.Contains(v))
                    {
                        implicitInputs.Add(v);
                    }
                }
            }

            node.ImplicitInputs = implicitInputs;
        }

        private Value Define(string name, string? node)
        {
            if (_values.ContainsKey(name))
            {
                throw Error(DiagnosticCodes.DuplicateTensor, path, $"tensor '{name}' is defined more than once (as an input, initializer or node output).", node, name);
            }

            var v = new Value(name);
            _values.Add(name, v);
            return v;
        }

        private (ElementType, int[]) ReadInputType(ValueInfoProto info)
        {
            if (info.Type?.TensorType is not { } tensorType)
            {
                throw Error(DiagnosticCodes.UnsupportedGraphValue, path, $"graph input '{info.Name}' is not a tensor; only tensor inputs are supported.", tensor: info.Name);
            }

            ElementType type = TensorDecoder.MapType(tensorType.ElemType)
                ?? throw Error(DiagnosticCodes.UnsupportedGraphValue, path,
                    $"graph input '{info.Name}' has element type {TensorDecoder.OnnxTypeName(tensorType.ElemType)}, which is not supported.", tensor: info.Name);

            inputShapes.TryGetValue(info.Name, out int[]? fixedShape);
            if (tensorType.Shape is null)
            {
                if (fixedShape is null)
                {
                    throw Error(DiagnosticCodes.UnsupportedGraphValue, path,
                        $"graph input '{info.Name}' has no shape (unknown rank). Give it one with the InputShapes option, e.g. InputShapes=\"{info.Name}=1,3,224,224\".", tensor: info.Name);
                }

                return (type, CheckCount(info.Name, fixedShape));
            }

            var dims = tensorType.Shape.Dim;
            if (fixedShape is not null && fixedShape.Length != dims.Count)
            {
                throw Error(DiagnosticCodes.InvalidInputShapes, path,
                    $"InputShapes gives input '{info.Name}' rank {fixedShape.Length}, but the model declares rank {dims.Count}.", tensor: info.Name);
            }

            var shape = new int[dims.Count];
            for (int i = 0; i < dims.Count; i++)
            {
                TensorShapeProto.Types.Dimension d = dims[i];
                bool isFixed = d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0;
                if (isFixed && d.DimValue > int.MaxValue)
                {
                    throw Error(DiagnosticCodes.LimitExceeded, path, $"dimension {i} of input '{info.Name}' is {d.DimValue}.", tensor: info.Name);
                }

                if (fixedShape is not null)
                {
                    if (isFixed && fixedShape[i] != d.DimValue)
                    {
                        throw Error(DiagnosticCodes.InvalidInputShapes, path,
                            $"InputShapes gives dimension {i} of input '{info.Name}' as {fixedShape[i]}, but the model fixes it to {d.DimValue}.", tensor: info.Name);
                    }

                    shape[i] = fixedShape[i];
                }
                else if (isFixed)
                {
                    shape[i] = (int)d.DimValue;
                }
                else
                {
                    string symbol = d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? $"'{d.DimParam}'" : "unknown";
                    warnings.Add(new Diagnostic(DiagnosticCodes.SymbolicDimension, DiagnosticSeverity.Warning,
                        $"dimension {i} of input '{info.Name}' is {symbol}; it is fixed to 1. Set it with InputShapes, e.g. InputShapes=\"{info.Name}={string.Join(",", dims.Select(x => x.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? x.DimValue : 1))}\".",
                        path, Tensor: info.Name));
                    shape[i] = 1;
                }
            }

            return (type, CheckCount(info.Name, shape));
        }

        private int[] CheckCount(string name, int[] shape)
        {
            if (Shapes.TryElementCount(shape) is null)
            {
                throw Error(DiagnosticCodes.LimitExceeded, path, $"input '{name}' with shape {Shapes.Format(shape)} has more than {Shapes.MaxElements} elements.", tensor: name);
            }

            return shape;
        }

        private Dictionary<string, Attribute> ReadAttributes(NodeProto proto, string nodeName)
        {
            var result = new Dictionary<string, Attribute>(StringComparer.Ordinal);
            foreach (AttributeProto a in proto.Attribute)
            {
                Attribute attr = a.Type switch
                {
                    AttributeProto.Types.AttributeType.Float => new Attribute(a.Name, AttributeKind.Float) { Float = a.F },
                    AttributeProto.Types.AttributeType.Int => new Attribute(a.Name, AttributeKind.Int) { Int = a.I },
                    AttributeProto.Types.AttributeType.String => new Attribute(a.Name, AttributeKind.String) { String = a.S.ToStringUtf8() },
                    AttributeProto.Types.AttributeType.Floats => new Attribute(a.Name, AttributeKind.Floats) { Floats = a.Floats.ToArray() },
                    AttributeProto.Types.AttributeType.Ints => new Attribute(a.Name, AttributeKind.Ints) { Ints = a.Ints.ToArray() },
                    AttributeProto.Types.AttributeType.Strings => new Attribute(a.Name, AttributeKind.Strings) { Strings = a.Strings.Select(s => s.ToStringUtf8()).ToArray() },
                    AttributeProto.Types.AttributeType.Tensor when a.T is not null =>
                        new Attribute(a.Name, AttributeKind.Tensor) { Tensor = decoder.Decode(a.T, string.IsNullOrEmpty(a.T.Name) ? $"{nodeName}.{a.Name}" : a.T.Name) },
                    _ => new Attribute(a.Name, AttributeKind.Other) { OtherType = a.Type.ToString() },
                };
                if (!result.TryAdd(a.Name, attr))
                {
                    throw Error(DiagnosticCodes.InvalidAttribute, path, $"attribute '{a.Name}' is given twice.", nodeName);
                }
            }

            return result;
        }

        /// <summary>Kahn's algorithm, keeping the file's order among ready nodes; a leftover node lies on a cycle.</summary>
        private List<Node> TopologicalSort(List<Node> nodes)
        {
            var index = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < nodes.Count; i++)
            {
                index[nodes[i]] = i;
            }

            var indegree = new int[nodes.Count];
            var consumers = new List<int>[nodes.Count];
            for (int i = 0; i < nodes.Count; i++)
            {
                consumers[i] = [];
            }

            for (int i = 0; i < nodes.Count; i++)
            {
                foreach (Value? input in nodes[i].Inputs.Concat(nodes[i].ImplicitInputs))
                {
                    if (input?.Producer is { } producer && index.ContainsKey(producer))
                    {
                        indegree[i]++;
                        consumers[index[producer]].Add(i);
                    }
                }
            }

            var ready = new PriorityQueue<int, int>();
            for (int i = 0; i < nodes.Count; i++)
            {
                if (indegree[i] == 0)
                {
                    ready.Enqueue(i, i);
                }
            }

            var sorted = new List<Node>(nodes.Count);
            while (ready.TryDequeue(out int i, out _))
            {
                sorted.Add(nodes[i]);
                foreach (int c in consumers[i])
                {
                    if (--indegree[c] == 0)
                    {
                        ready.Enqueue(c, c);
                    }
                }
            }

            if (sorted.Count != nodes.Count)
            {
                // Walk backwards through unsorted producers until a node repeats: that node lies on a cycle.
                var seen = new HashSet<int>();
                int at = Array.FindIndex(indegree, d => d > 0);
                Value? via = null;
                while (seen.Add(at))
                {
                    via = nodes[at].Inputs.Concat(nodes[at].ImplicitInputs).First(v => v?.Producer is { } p && index.ContainsKey(p) && indegree[index[p]] > 0);
                    at = index[via!.Producer!];
                }

                Node stuck = nodes[at];
                throw Error(DiagnosticCodes.CyclicGraph, path,
                    $"the graph has a cycle: {stuck.OpType} '{stuck.Name}' depends on its own output through tensor '{via?.Name}'.", stuck.Name, via?.Name);
            }

            return sorted;
        }
    }
}
