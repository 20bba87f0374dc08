namespace ModelSdk.Compiler.Ir;

/// <summary>Kinds of ONNX attribute values.</summary>
public enum AttributeKind
{
    /// <summary>A float.</summary>
    Float,
    /// <summary>An integer.</summary>
    Int,
    /// <summary>A string.</summary>
    String,
    /// <summary>A tensor.</summary>
    Tensor,
    /// <summary>A list of floats.</summary>
    Floats,
    /// <summary>A list of integers.</summary>
    Ints,
    /// <summary>A list of strings.</summary>
    Strings,
    /// <summary>A subgraph (If branches, Loop and Scan bodies).</summary>
    Graph,
    /// <summary>A sparse tensor, type, or list of graphs or tensors: kept only to report it as unsupported.</summary>
    Other,
}

/// <summary>A node attribute.</summary>
public sealed class Attribute
{
    /// <summary>Creates an attribute.</summary>
    public Attribute(string name, AttributeKind kind)
    {
        Name = name;
        Kind = kind;
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>What it holds.</summary>
    public AttributeKind Kind { get; }

    /// <summary>Value of a <see cref="AttributeKind.Float"/> attribute.</summary>
    public float Float { get; init; }

    /// <summary>Value of an <see cref="AttributeKind.Int"/> attribute.</summary>
    public long Int { get; init; }

    /// <summary>Value of a <see cref="AttributeKind.String"/> attribute.</summary>
    public string String { get; init; } = string.Empty;

    /// <summary>Value of a <see cref="AttributeKind.Tensor"/> attribute.</summary>
    public Tensor? Tensor { get; init; }

    /// <summary>Values of a <see cref="AttributeKind.Floats"/> attribute.</summary>
    public float[] Floats { get; init; } = [];

    /// <summary>Values of an <see cref="AttributeKind.Ints"/> attribute.</summary>
    public long[] Ints { get; init; } = [];

    /// <summary>Values of a <see cref="AttributeKind.Strings"/> attribute.</summary>
    public string[] Strings { get; init; } = [];

    /// <summary>Value of a <see cref="AttributeKind.Graph"/> attribute.</summary>
    public Graph? Graph { get; init; }

    /// <summary>For <see cref="AttributeKind.Other"/>: the ONNX attribute type name.</summary>
    public string OtherType { get; init; } = string.Empty;
}
