using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// What <see cref="IOperator.Infer"/> sees of a node: its inputs (types, shapes, constant values),
/// typed attribute access that reports bad attributes as MSDK2002, and the outputs to fill in.
/// </summary>
public sealed class InferenceContext(Node node, int opset, string? modelPath, Action<Graph>? inferSubgraph = null)
{
    /// <summary>The node.</summary>
    public Node Node { get; } = node;

    /// <summary>The model's default-domain opset version.</summary>
    public int Opset { get; } = opset;

    /// <summary>The operator name.</summary>
    public string OpType => Node.OpType;

    /// <summary>Number of inputs the node lists (absent optional ones included).</summary>
    public int InputCount => Node.Inputs.Count;

    /// <summary>Number of outputs the node lists.</summary>
    public int OutputCount => Node.Outputs.Count;

    /// <summary>A required input.</summary>
    public Value Input(int index)
        => OptionalInput(index) ?? throw Error(DiagnosticCodes.ShapeMismatch, $"{OpType} requires input {index}, which is missing.");

    /// <summary>An optional input, or null when absent.</summary>
    public Value? OptionalInput(int index) => index < Node.Inputs.Count ? Node.Inputs[index] : null;

    /// <summary>The shape of a required input.</summary>
    public int[] InputShape(int index) => Input(index).KnownShape;

    /// <summary>The element type of a required input.</summary>
    public ElementType InputType(int index) => Input(index).Type;

    /// <summary>The compile-time value of input <paramref name="index"/>; MSDK2004 when it is computed at run time.</summary>
    public Tensor ConstantInput(int index, string role)
    {
        Value v = Input(index);
        return v.Constant ?? throw Error(DiagnosticCodes.NotConstant,
            $"input {index} ({role}) of {OpType} must be known at compile time, but tensor '{v.Name}' is computed at run time. " +
            "ModelSdk compiles static shapes: export the model with this input as an initializer or constant.", v.Name);
    }

    /// <summary>The compile-time value of an optional input, or null when it is absent.</summary>
    public Tensor? OptionalConstantInput(int index, string role)
        => OptionalInput(index) is null ? null : ConstantInput(index, role);

    /// <summary>Requires input <paramref name="index"/> to have one of <paramref name="allowed"/> element types (MSDK2005 otherwise).</summary>
    public void RequireType(int index, params ElementType[] allowed)
    {
        Value v = Input(index);
        if (Array.IndexOf(allowed, v.Type) < 0)
        {
            throw Error(DiagnosticCodes.UnsupportedType,
                $"{OpType} does not support element type {v.Type.ToPlanName()} for input {index} (supported: {string.Join(", ", allowed.Select(t => t.ToPlanName()))}).", v.Name);
        }
    }

    /// <summary>Requires inputs <paramref name="a"/> and <paramref name="b"/> to have the same element type.</summary>
    public void RequireSameType(int a, int b)
    {
        if (InputType(a) != InputType(b))
        {
            throw Error(DiagnosticCodes.ShapeMismatch,
                $"inputs {a} and {b} of {OpType} must have the same element type, but they are {InputType(a).ToPlanName()} and {InputType(b).ToPlanName()}.");
        }
    }

    /// <summary>Whether the attribute is present.</summary>
    public bool Has(string name) => Node.Attributes.ContainsKey(name);

    /// <summary>An integer attribute, or <paramref name="fallback"/>.</summary>
    public long Int(string name, long fallback) => Get(name, AttributeKind.Int)?.Int ?? fallback;

    /// <summary>A required integer attribute.</summary>
    public long RequiredInt(string name) => Required(name, AttributeKind.Int).Int;

    /// <summary>A float attribute, or <paramref name="fallback"/>.</summary>
    public float Float(string name, float fallback) => Get(name, AttributeKind.Float)?.Float ?? fallback;

    /// <summary>A string attribute, or <paramref name="fallback"/>.</summary>
    public string String(string name, string fallback) => Get(name, AttributeKind.String)?.String ?? fallback;

    /// <summary>An integer-list attribute, or null when absent.</summary>
    public long[]? Ints(string name) => Get(name, AttributeKind.Ints)?.Ints;

    /// <summary>A float-list attribute, or null when absent.</summary>
    public float[]? Floats(string name) => Get(name, AttributeKind.Floats)?.Floats;

    /// <summary>A string-list attribute, or null when absent.</summary>
    public string[]? Strings(string name) => Get(name, AttributeKind.Strings)?.Strings;

    /// <summary>A tensor attribute, or null when absent.</summary>
    public Tensor? TensorAttribute(string name) => Get(name, AttributeKind.Tensor)?.Tensor;

    /// <summary>Sets the type and shape of output <paramref name="index"/>.</summary>
    public void SetOutput(int index, ElementType type, int[] shape)
    {
        if (Shapes.TryElementCount(shape) is null)
        {
            throw Error(DiagnosticCodes.LimitExceeded, $"output {index} of {OpType} would have shape {Shapes.Format(shape)}, more than {Shapes.MaxElements} elements.");
        }

        Value v = Node.Outputs[index];
        v.Type = type;
        v.Shape = shape;
    }

    /// <summary>Sets output <paramref name="index"/> to a compile-time value.</summary>
    public void SetOutputConstant(int index, Tensor value) => Node.Outputs[index].SetConstant(value);

    /// <summary>Infers (and folds) a subgraph of the node in place, with the enclosing graph's values already known.</summary>
    public void InferSubgraph(Graph graph)
        => (inferSubgraph ?? throw new InvalidOperationException("Subgraphs cannot be inferred here."))(graph);

    /// <summary>An error about this node, to throw.</summary>
    public CompileException Error(string code, string message, string? tensor = null)
        => new(new Diagnostic(code, DiagnosticSeverity.Error, message, modelPath, Node.Name, tensor));

    /// <summary>An MSDK2006 error for an attribute value the operator does not support.</summary>
    public CompileException Unsupported(string message) => Error(DiagnosticCodes.UnsupportedAttribute, message);

    private Attribute? Get(string name, AttributeKind kind)
    {
        if (!Node.Attributes.TryGetValue(name, out Attribute? a))
        {
            return null;
        }

        if (a.Kind != kind)
        {
            throw Error(DiagnosticCodes.InvalidAttribute, $"attribute '{name}' of {OpType} must be of type {kind}, but it is {(a.Kind == AttributeKind.Other ? a.OtherType : a.Kind.ToString())}.");
        }

        return a;
    }

    private Attribute Required(string name, AttributeKind kind)
        => Get(name, kind) ?? throw Error(DiagnosticCodes.InvalidAttribute, $"{OpType} requires attribute '{name}'.");
}
