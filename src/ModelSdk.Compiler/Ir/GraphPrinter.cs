using System.Globalization;
using System.Text;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Ir;

/// <summary>
/// The graph as text, one line per input, node and output, so that passes can be tested (and graphs
/// reviewed) as graph-in, graph-out strings:
/// <code>
/// input x: float32[2,8]
/// y: float32[2,8] = modelsdk.fused.Gelu(x) approximate=0
/// output y
/// </code>
/// One-element constants are printed by value (<c>0.5</c>), other constants and values by name, an
/// absent optional input as <c>-</c>; attributes follow in name order.
/// </summary>
public static class GraphPrinter
{
    /// <summary>Prints <paramref name="graph"/> (lines end with '\n').</summary>
    public static string Print(Graph graph)
    {
        var sb = new StringBuilder();
        foreach (Value input in graph.Inputs)
        {
            sb.Append("input ").Append(Typed(input)).Append('\n');
        }

        foreach (Node node in graph.Nodes)
        {
            sb.Append(string.Join(", ", node.Outputs.Select(o => o.Name.Length == 0 ? "-" : Typed(o))));
            sb.Append(" = ").Append(node.Domain.Length == 0 ? node.OpType : $"{node.Domain}.{node.OpType}");
            sb.Append('(').Append(string.Join(", ", node.Inputs.Select(Operand))).Append(')');
            foreach (Attribute a in node.Attributes.Values.OrderBy(a => a.Name, StringComparer.Ordinal))
            {
                sb.Append(' ').Append(a.Name).Append('=').Append(Format(a));
            }

            if (node.Epilogue is { } e)
            {
                sb.Append(" epilogue=").Append(e.Activation);
                if (e.Activation is Runtime.Kernels.Activation.LeakyRelu or Runtime.Kernels.Activation.Clip or Runtime.Kernels.Activation.HardSigmoid)
                {
                    sb.Append('(').Append(Number(e.Alpha)).Append(',').Append(Number(e.Beta)).Append(')');
                }

                if (e.Bias is { } b)
                {
                    sb.Append(" bias=").Append(b.Name);
                }

                if (e.Residual is { } r)
                {
                    sb.Append(" residual=").Append(r.Name);
                }
            }

            sb.Append('\n');
        }

        foreach (Value output in graph.Outputs)
        {
            sb.Append("output ").Append(output.Name).Append('\n');
        }

        return sb.ToString();
    }

    private static string Typed(Value v) => $"{v.Name}: {v.Type.ToPlanName()}{(v.Shape is null ? "[?]" : Shapes.Format(v.Shape))}";

    private static string Operand(Value? v) => v switch
    {
        null => "-",
        { Constant: { ElementCount: 1 } c } when c.Type != ElementType.Bool => Number(c.ToFloats()[0]),
        _ => v.Name,
    };

    private static string Format(Attribute a) => a.Kind switch
    {
        AttributeKind.Int => a.Int.ToString(CultureInfo.InvariantCulture),
        AttributeKind.Float => Number(a.Float),
        AttributeKind.String => $"\"{a.String}\"",
        AttributeKind.Ints => "[" + string.Join(",", a.Ints) + "]",
        AttributeKind.Floats => "[" + string.Join(",", a.Floats.Select(Number)) + "]",
        AttributeKind.Strings => "[" + string.Join(",", a.Strings.Select(s => $"\"{s}\"")) + "]",
        AttributeKind.Tensor => a.Tensor is { } t ? $"tensor {t.Type.ToPlanName()}{Shapes.Format(t.Shape)}" : "tensor",
        AttributeKind.Graph => $"graph({a.Graph?.Nodes.Count ?? 0} nodes)",
        _ => a.OtherType,
    };

    private static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
