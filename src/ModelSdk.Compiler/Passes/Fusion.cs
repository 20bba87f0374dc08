using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using Attribute = ModelSdk.Compiler.Ir.Attribute;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// What the fusion passes share: who reads each value, matching helpers for exporters' patterns, and
/// the rewrite that puts one fused node in place of a matched group. A group is only fused when every
/// value it computes, except the last, is read by the group alone (not by another node, not as a graph
/// output), so removing the group cannot change anything else.
/// </summary>
internal sealed class Fusion
{
    private readonly Graph _graph;
    private readonly Dictionary<Value, List<Node>> _readers = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Value> _outputs;
    private readonly HashSet<Node> _claimed = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Node, Node> _replacements = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Node, int> _order = new(ReferenceEqualityComparer.Instance);

    public Fusion(Graph graph)
    {
        _graph = graph;
        _outputs = new HashSet<Value>(graph.Outputs, ReferenceEqualityComparer.Instance);
        foreach (Node node in graph.Nodes)
        {
            _order[node] = _order.Count;
            // A value an If branch reads from outside is read by the If node itself.
            foreach (Value? input in node.Inputs.Concat(node.ImplicitInputs))
            {
                if (input is null)
                {
                    continue;
                }

                if (!_readers.TryGetValue(input, out List<Node>? list))
                {
                    _readers[input] = list = [];
                }

                list.Add(node); // once per use: a node reading a value twice appears twice
            }
        }
    }

    /// <summary>Runs <paramref name="fuse"/> on <paramref name="graph"/>, then on every subgraph (If branches) in it.</summary>
    public static void InEveryGraph(Graph graph, Action<Graph> fuse)
    {
        fuse(graph);
        foreach (Graph subgraph in graph.Nodes.SelectMany(n => n.Subgraphs))
        {
            InEveryGraph(subgraph, fuse);
        }
    }

    /// <summary>The nodes that read <paramref name="value"/>, once per input that names it.</summary>
    public IReadOnlyList<Node> Readers(Value value) => _readers.TryGetValue(value, out List<Node>? list) ? list : [];

    /// <summary>The one node reading <paramref name="value"/> (through one input), when nothing else (not even a graph output) needs it.</summary>
    public Node? SoleReader(Value value)
        => !_outputs.Contains(value) && Readers(value) is [Node only] ? only : null;

    /// <summary>Whether <paramref name="value"/> is needed only by <paramref name="nodes"/> (any number of uses).</summary>
    public bool OnlyReadBy(Value value, params Node[] nodes)
        => !_outputs.Contains(value) && Readers(value).All(r => nodes.Contains(r, ReferenceEqualityComparer.Instance));

    /// <summary>Whether a recorded replacement already takes <paramref name="node"/>.</summary>
    public bool IsClaimed(Node node) => _claimed.Contains(node);

    /// <summary>Records that <paramref name="fused"/> replaces <paramref name="group"/>, whose last node computes its output; false when a node is already taken.</summary>
    public bool Replace(IReadOnlyList<Node> group, Node fused)
    {
        if (group.Any(_claimed.Contains))
        {
            return false;
        }

        foreach (Node node in group)
        {
            _claimed.Add(node);
        }

        // The group's last node in graph order consumes the others, so the fused node can take its place.
        Node last = group.MaxBy(n => _order[n])!;
        _replacements[last] = fused;
        return true;
    }

    /// <summary>Applies every recorded replacement to the graph.</summary>
    public void Apply()
    {
        if (_claimed.Count == 0)
        {
            return;
        }

        var nodes = new List<Node>(_graph.Nodes.Count);
        foreach (Node node in _graph.Nodes)
        {
            if (_replacements.TryGetValue(node, out Node? fused))
            {
                foreach (Value output in fused.Outputs)
                {
                    output.Producer = fused;
                }

                nodes.Add(fused);
            }
            else if (!_claimed.Contains(node))
            {
                nodes.Add(node);
            }
        }

        _graph.Nodes = nodes;
    }

    /// <summary>The default-domain node of type <paramref name="opType"/> that computes <paramref name="value"/>, or null.</summary>
    public static Node? Producer(Value? value, string opType)
        => value?.Producer is { Domain.Length: 0 } p && p.OpType == opType ? p : null;

    /// <summary>Whether <paramref name="node"/> is a default-domain <paramref name="opType"/>.</summary>
    public static bool Is(Node? node, string opType) => node is { Domain.Length: 0 } && node.OpType == opType;

    /// <summary>For a two-input node that reads <paramref name="known"/>, the other input; null otherwise.</summary>
    public static Value? Other(Node node, Value known)
    {
        if (node.Inputs.Count != 2)
        {
            return null;
        }

        return ReferenceEquals(node.Inputs[0], known) ? node.Inputs[1] : ReferenceEquals(node.Inputs[1], known) ? node.Inputs[0] : null;
    }

    /// <summary>The value of a one-element numeric constant, or null.</summary>
    public static double? Scalar(Value? value)
        => value?.Constant is { ElementCount: 1 } c && c.Type is not ElementType.Bool ? c.ToFloats()[0] : null;

    /// <summary>Whether <paramref name="value"/> is a one-element constant within a relative 1e-5 of <paramref name="expected"/>.</summary>
    public static bool IsScalar(Value? value, double expected)
        => Scalar(value) is { } v && Math.Abs(v - expected) <= 1e-5 * Math.Abs(expected);

    /// <summary>For a two-input node with a one-element constant operand, that constant and the other operand.</summary>
    public static (Value Operand, double Constant)? WithScalar(Node node)
    {
        if (node.Inputs.Count != 2 || node.Inputs[0] is not { } a || node.Inputs[1] is not { } b)
        {
            return null;
        }

        return Scalar(b) is { } vb ? (a, vb) : Scalar(a) is { } va ? (b, va) : null;
    }

    /// <summary>A float32 value of exactly <paramref name="shape"/>.</summary>
    public static bool IsFloat(Value? value, int[] shape) => value is { Type: ElementType.Float32, Shape: { } s } && Shapes.Equal(s, shape);

    /// <summary>A fused node computing <paramref name="output"/>, named after the node it replaces.</summary>
    public static Node Create(string opType, Node replaced, Value?[] inputs, Value output, params Attribute[] attributes)
        => new(replaced.Name, opType, Operators.FusedDomain.Name, inputs, [output], attributes.ToDictionary(a => a.Name));

    /// <summary>An integer attribute.</summary>
    public static Attribute Int(string name, long value) => new(name, AttributeKind.Int) { Int = value };

    /// <summary>An attribute of integers.</summary>
    public static Attribute Ints(string name, long[] values) => new(name, AttributeKind.Ints) { Ints = values };

    /// <summary>A float attribute.</summary>
    public static Attribute Float(string name, float value) => new(name, AttributeKind.Float) { Float = value };
}
