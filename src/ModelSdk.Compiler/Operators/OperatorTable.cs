using System.Text;

namespace ModelSdk.Compiler.Operators;

/// <summary>The supported operators as documentation, generated from the registry so it cannot drift.</summary>
public static class OperatorTable
{
    /// <summary>A markdown table: operator, lowest opset handled.</summary>
    public static string Markdown(OperatorRegistry registry)
    {
        var sb = new StringBuilder();
        sb.Append("| operator | opsets |\n|---|---|\n");
        foreach (var group in registry.Supported.Where(s => s.Domain != FusedDomain.Name).GroupBy(s => (s.Domain, s.OpType)))
        {
            string name = group.Key.Domain.Length == 0 ? group.Key.OpType : $"{group.Key.Domain}.{group.Key.OpType}";
            int min = Math.Max(group.Min(g => g.MinOpset), Import.OnnxImporter.MinOpset);
            sb.Append($"| {name} | {min}–{Import.OnnxImporter.MaxOpset} |\n");
        }

        return sb.ToString();
    }

    /// <summary>Two paragraphs for the README: the supported operators, and the ONNX operators that are not.</summary>
    public static string Summary(OperatorRegistry registry)
    {
        var supported = registry.Supported.Where(s => s.Domain.Length == 0).Select(s => s.OpType).Distinct().Order(StringComparer.Ordinal).ToList();
        var unsupported = OnnxOperatorCatalog.All.Except(supported).Order(StringComparer.Ordinal).ToList();
        return $"**Supported ({supported.Count}):** {string.Join(", ", supported)}.\n\n" +
               $"**Not supported ({unsupported.Count}; a model using one fails with MSDK2001):** {string.Join(", ", unsupported)}.\n";
    }
}
