using System.Reflection;

namespace ModelSdk.Compiler.Operators;

/// <summary>Finds the <see cref="IOperator"/> for a node: every class marked <see cref="OnnxOperatorAttribute"/> in this assembly.</summary>
public sealed class OperatorRegistry
{
    private readonly Dictionary<(string Domain, string OpType), List<(int MinOpset, IOperator Operator)>> _operators = [];

    private OperatorRegistry(Assembly assembly)
    {
        foreach (Type type in assembly.GetTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var attributes = type.GetCustomAttributes<OnnxOperatorAttribute>().ToList();
            if (attributes.Count == 0)
            {
                continue;
            }

            var instance = (IOperator)Activator.CreateInstance(type)!;
            foreach (OnnxOperatorAttribute a in attributes)
            {
                if (!_operators.TryGetValue((a.Domain, a.OpType), out var list))
                {
                    _operators[(a.Domain, a.OpType)] = list = [];
                }

                list.Add((a.MinOpset, instance));
                list.Sort((x, y) => y.MinOpset.CompareTo(x.MinOpset));
            }
        }
    }

    /// <summary>The registry of the built-in operators.</summary>
    public static OperatorRegistry Default { get; } = new(typeof(OperatorRegistry).Assembly);

    /// <summary>Supported operators: (domain, name, lowest opset), sorted by name.</summary>
    public IEnumerable<(string Domain, string OpType, int MinOpset)> Supported
        => _operators.SelectMany(kv => kv.Value.Select(v => (kv.Key.Domain, kv.Key.OpType, v.MinOpset)))
                     .OrderBy(x => x.OpType, StringComparer.Ordinal).ThenBy(x => x.MinOpset);

    /// <summary>Finds the implementation of <paramref name="opType"/> for <paramref name="opset"/>.</summary>
    public IOperator? Find(string domain, string opType, int opset)
    {
        if (_operators.TryGetValue((domain, opType), out var list))
        {
            foreach ((int min, IOperator op) in list)
            {
                if (opset >= min)
                {
                    return op;
                }
            }
        }

        return null;
    }
}
