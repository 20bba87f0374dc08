using System.Reflection;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Tests.Support;

namespace ModelSdk.Compiler.Tests;

/// <summary>Documentation that is derived from code must not drift from it.</summary>
public class DocsTests
{
    private const string Begin = "<!-- BEGIN GENERATED: modelsdk operators -->";
    private const string End = "<!-- END GENERATED -->";

    [Fact]
    public void Operator_list_is_generated_from_the_registry()
    {
        string path = Path.Combine(RepositoryPaths.Root, "docs", "operators.md");
        string text = File.ReadAllText(path).Replace("\r\n", "\n");
        int start = text.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        int end = text.IndexOf(End, StringComparison.Ordinal);
        string generated = "\n" + OperatorTable.Markdown(OperatorRegistry.Default);
        if (Environment.GetEnvironmentVariable("MODELSDK_ACCEPT") == "1")
        {
            File.WriteAllText(path, text[..start] + generated + text[end..]);
            return;
        }

        Assert.True(text[start..end] == generated, "docs/operators.md is out of date: run the tests with MODELSDK_ACCEPT=1 (or paste `modelsdk operators`).");
    }

    [Fact]
    public void Every_diagnostic_code_is_documented()
    {
        string doc = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "diagnostics.md"));
        var codes = typeof(DiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!)
            .Concat(["MSDK5001", "MSDK5002", "MSDK5003", "MSDK5099"]);
        Assert.All(codes, code => Assert.Contains($"## {code}:", doc));
    }
}
