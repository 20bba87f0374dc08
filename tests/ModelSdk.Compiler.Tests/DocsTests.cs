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
    public void Operator_table_is_generated_from_the_registry()
        => VerifyGenerated(Path.Combine(RepositoryPaths.Root, "docs", "operators.md"), Begin, OperatorTable.Markdown(OperatorRegistry.Default));

    [Fact]
    public void Readme_operator_summary_is_generated_from_the_registry()
        => VerifyGenerated(Path.Combine(RepositoryPaths.Root, "README.md"), "<!-- BEGIN GENERATED: operator summary -->", OperatorTable.Summary(OperatorRegistry.Default));

    private static void VerifyGenerated(string path, string begin, string content)
    {
        string text = File.ReadAllText(path).Replace("\r\n", "\n");
        int start = text.IndexOf(begin, StringComparison.Ordinal) + begin.Length;
        int end = text.IndexOf(End, start, StringComparison.Ordinal);
        string generated = "\n" + content;
        if (Environment.GetEnvironmentVariable("MODELSDK_ACCEPT") == "1")
        {
            File.WriteAllText(path, text[..start] + generated + text[end..]);
            return;
        }

        Assert.True(text[start..end] == generated, $"{Path.GetFileName(path)} is out of date: run the tests with MODELSDK_ACCEPT=1.");
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
