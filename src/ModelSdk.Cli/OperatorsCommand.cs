using ModelSdk.Compiler.Operators;

namespace ModelSdk.Cli;

/// <summary><c>modelsdk operators</c>: the operator registry as a markdown table (docs/operators.md is made from it).</summary>
internal static class OperatorsCommand
{
    public static int Run(TextWriter stdout)
    {
        stdout.Write(OperatorTable.Markdown(OperatorRegistry.Default));
        return CommandLine.Ok;
    }
}
