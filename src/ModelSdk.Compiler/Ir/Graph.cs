using ModelSdk.Plan;

namespace ModelSdk.Compiler.Ir;

/// <summary>A tensor-valued edge of the graph: a graph input, an initializer, or a node output.</summary>
public sealed class Value(string name)
{
    /// <summary>The ONNX name (unique in the graph; empty only for internal scratch tensors).</summary>
    public string Name { get; } = name;

    /// <summary>Element type, known after import (inputs, constants) or shape inference (node outputs).</summary>
    public ElementType Type { get; set; }

    /// <summary>Fixed shape, or null until shape inference reaches the producer.</summary>
    public int[]? Shape { get; set; }

    /// <summary>Compile-time value, for initializers and folded tensors.</summary>
    public Tensor? Constant { get; set; }

    /// <summary>The node that computes it; null for graph inputs and initializers.</summary>
    public Node? Producer { get; set; }

    /// <summary>Whether this is a graph input (supplied by the caller at run time).</summary>
    public bool IsGraphInput { get; set; }

    /// <summary>Whether the value is known at compile time.</summary>
    public bool IsConstant => Constant is not null;

    /// <summary>The shape, which must be known.</summary>
    public int[] KnownShape => Shape ?? throw new InvalidOperationException($"The shape of '{Name}' is not inferred yet.");

    /// <summary>Number of elements (shape must be known).</summary>
    public int ElementCount => Shapes.ElementCount(KnownShape);

    /// <summary>Marks this value as the constant <paramref name="tensor"/>.</summary>
    public void SetConstant(Tensor tensor)
    {
        Constant = tensor;
        Type = tensor.Type;
        Shape = tensor.Shape;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Type.ToPlanName()}{(Shape is null ? "[?]" : Shapes.Format(Shape))}";
}

/// <summary>An operator application.</summary>
public sealed class Node(string name, string opType, string domain, IReadOnlyList<Value?> inputs, IReadOnlyList<Value> outputs, IReadOnlyDictionary<string, Attribute> attributes)
{
    /// <summary>The ONNX node name, or a generated <c>OpType_index</c> when the model left it empty.</summary>
    public string Name { get; } = name;

    /// <summary>The operator, e.g. <c>Conv</c>.</summary>
    public string OpType { get; } = opType;

    /// <summary>The operator domain; empty for the default ONNX domain.</summary>
    public string Domain { get; } = domain;

    /// <summary>Inputs; null where an optional input is absent.</summary>
    public IReadOnlyList<Value?> Inputs { get; } = inputs;

    /// <summary>Outputs.</summary>
    public IReadOnlyList<Value> Outputs { get; } = outputs;

    /// <summary>Attributes by name.</summary>
    public IReadOnlyDictionary<string, Attribute> Attributes { get; } = attributes;

    /// <summary>Values of enclosing graphs that the node's subgraphs read (they order and keep alive like inputs).</summary>
    public IReadOnlyList<Value> ImplicitInputs { get; set; } = [];

    /// <summary>Bias/residual/activation work a fusion pass folded into this node's store (Conv, Gemm, MatMul); null when none.</summary>
    public Epilogue? Epilogue { get; set; }

    /// <summary>The node's subgraphs (If branches).</summary>
    public IEnumerable<Graph> Subgraphs => Attributes.Values.Where(a => a.Graph is not null).Select(a => a.Graph!);

    /// <inheritdoc/>
    public override string ToString() => $"{OpType} '{Name}'";
}

/// <summary>A model graph in topological order.</summary>
public sealed class Graph(string name, int opset, IReadOnlyList<Value> inputs, IReadOnlyList<Value> outputs, List<Node> nodes)
{
    /// <summary>The graph name.</summary>
    public string Name { get; } = name;

    /// <summary>Default-domain opset version.</summary>
    public int Opset { get; } = opset;

    /// <summary>Graph inputs that the caller supplies (initializers excluded).</summary>
    public IReadOnlyList<Value> Inputs { get; } = inputs;

    /// <summary>Graph outputs.</summary>
    public IReadOnlyList<Value> Outputs { get; } = outputs;

    /// <summary>Nodes, topologically sorted; passes may replace the list.</summary>
    public List<Node> Nodes { get; set; } = nodes;
}
