namespace ModelSdk.Compiler.Diagnostics;

/// <summary>How serious a diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The model cannot be compiled.</summary>
    Error,
    /// <summary>The model compiles, but something deserves attention.</summary>
    Warning,
}

/// <summary>
/// A message about the model: a stable code (<c>MSDKnnnn</c>, see docs/diagnostics.md), what is wrong and
/// what to do, and where: the model file and, when known, the node and tensor at fault.
/// </summary>
public sealed record Diagnostic(string Code, DiagnosticSeverity Severity, string Message, string? File, string? Node = null, string? Tensor = null)
{
    /// <summary>
    /// The MSBuild canonical error format (<c>origin : error CODE : text</c>), which MSBuild, IDEs and CI
    /// logs turn into a clickable error for the model file.
    /// </summary>
    public string ToCanonicalString()
    {
        string severity = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        string origin = string.IsNullOrEmpty(File) ? "modelsdk" : File;
        return $"{origin} : {severity} {Code} : {Describe()}";
    }

    /// <summary>The message prefixed with the node and tensor it concerns.</summary>
    public string Describe()
    {
        string where = (Node, Tensor) switch
        {
            (not null, not null) => $"node '{Node}', tensor '{Tensor}': ",
            (not null, null) => $"node '{Node}': ",
            (null, not null) => $"tensor '{Tensor}': ",
            _ => string.Empty,
        };
        return where + Message;
    }

    /// <inheritdoc/>
    public override string ToString() => ToCanonicalString();
}

/// <summary>Thrown inside the compiler to stop at the first error; the public entry points turn it into a <see cref="Diagnostic"/>.</summary>
public sealed class CompileException(Diagnostic diagnostic) : Exception(diagnostic.ToCanonicalString())
{
    /// <summary>The error.</summary>
    public Diagnostic Diagnostic { get; } = diagnostic;
}
