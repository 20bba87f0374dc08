using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// Kernel calls in execution order over a table of tensors (IR values). Lowering appends to it;
/// memory planning then gives every tensor its storage. Tensor ids are indices into <see cref="Tensors"/>.
/// </summary>
public sealed class LoweredProgram
{
    private readonly Dictionary<Value, int> _ids = new(ReferenceEqualityComparer.Instance);

    /// <summary>Every tensor a step mentions, plus graph inputs and outputs; the id is the index.</summary>
    public List<Value> Tensors { get; } = [];

    /// <summary>Kernel calls in order.</summary>
    public List<PlanStep> Steps { get; } = [];

    /// <summary>Views: each key shares the storage of its value (same bytes, another shape).</summary>
    public Dictionary<Value, Value> Aliases { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>The tensor id of <paramref name="value"/>, adding it on first use.</summary>
    public int IdOf(Value value)
    {
        if (!_ids.TryGetValue(value, out int id))
        {
            id = Tensors.Count;
            Tensors.Add(value);
            _ids.Add(value, id);
        }

        return id;
    }

    /// <summary>Whether the value has an id.</summary>
    public bool Contains(Value value) => _ids.ContainsKey(value);

    /// <summary>The value whose storage <paramref name="value"/> uses (itself when it is not a view).</summary>
    public Value RootOf(Value value)
    {
        while (Aliases.TryGetValue(value, out Value? target))
        {
            value = target;
        }

        return value;
    }
}

/// <summary>What <see cref="IOperator.Lower"/> uses to emit kernel calls for one node.</summary>
public sealed class LoweringContext(Node node, int opset, LoweredProgram program, OperatorRegistry? registry = null)
{
    private int _temporaries;

    /// <summary>The node.</summary>
    public Node Node { get; } = node;

    /// <summary>The model's default-domain opset version.</summary>
    public int Opset { get; } = opset;

    /// <summary>A required input.</summary>
    public Value Input(int index) => Node.Inputs[index] ?? throw new InvalidOperationException($"Input {index} of {Node} is missing.");

    /// <summary>An optional input, or null.</summary>
    public Value? OptionalInput(int index) => index < Node.Inputs.Count ? Node.Inputs[index] : null;

    /// <summary>An output.</summary>
    public Value Output(int index) => Node.Outputs[index];

    /// <summary>Emits <c>Kernels.&lt;kernel&gt;.Run&lt;typeArgs&gt;(args)</c>.</summary>
    public void Emit(string kernel, ElementType[] typeArgs, params PlanArg[] args)
        => program.Steps.Add(new PlanStep(kernel, typeArgs, args, Node.Name, Node.OpType));

    /// <summary>A tensor argument the kernel reads.</summary>
    public PlanArg In(string name, Value value) => PlanArg.In(name, program.IdOf(value));

    /// <summary>An optional tensor argument the kernel reads (<c>-</c> when absent).</summary>
    public PlanArg InOrNone(string name, Value? value) => value is null ? PlanArg.None(name) : In(name, value);

    /// <summary>The kernel context argument (the model instance's worker threads), for kernels that split their work.</summary>
    public PlanArg Context(string name = "context") => PlanArg.Context(name);

    /// <summary>A tensor argument the kernel writes.</summary>
    public PlanArg Out(string name, Value value) => PlanArg.Out(name, program.IdOf(value));

    /// <summary>Emits a control step (If, Else, EndIf) of this node.</summary>
    public void EmitControl(PlanStep step) => program.Steps.Add(step);

    /// <summary>The tensor id of a value (for control steps).</summary>
    public int IdOf(Value value) => program.IdOf(value);

    /// <summary>Lowers every node of a subgraph (an If branch) into the same program, in order.</summary>
    public void LowerSubgraph(Graph graph)
    {
        OperatorRegistry ops = registry ?? OperatorRegistry.Default;
        foreach (Node inner in graph.Nodes)
        {
            IOperator op = ops.Find(inner.Domain, inner.OpType, Opset) ?? throw new InvalidOperationException($"No operator for {inner}.");
            op.Lower(new LoweringContext(inner, Opset, program, ops));
        }
    }

    /// <summary>Makes <paramref name="output"/> a view of <paramref name="input"/>: same bytes, no step.</summary>
    public void Alias(Value output, Value input)
    {
        if ((long)output.ElementCount * output.Type.SizeInBytes() != (long)input.ElementCount * input.Type.SizeInBytes())
        {
            throw new InvalidOperationException($"{Node}: a view must have the size of its source.");
        }

        program.IdOf(input);
        program.IdOf(output);
        program.Aliases[output] = input;
    }

    /// <summary>A new intermediate tensor that lives between steps of this node (or a scratch buffer of one step).</summary>
    public Value Temporary(ElementType type, int[] shape, string role)
    {
        var v = new Value($"{Node.Name}/{role}#{_temporaries++}") { Type = type, Shape = shape };
        program.IdOf(v);
        return v;
    }

    /// <summary>A new compile-time constant (e.g. weights in another layout); it goes to the weights blob.</summary>
    public Value Constant(Tensor tensor, string role)
    {
        var v = new Value($"{Node.Name}/{role}#{_temporaries++}");
        v.SetConstant(tensor);
        program.IdOf(v);
        return v;
    }
}
