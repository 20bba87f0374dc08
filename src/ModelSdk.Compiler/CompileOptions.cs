namespace ModelSdk.Compiler;

/// <summary>What to compile and how; mirrors the <c>&lt;OnnxModel&gt;</c> item metadata.</summary>
/// <param name="ModelPath">The .onnx file.</param>
public sealed record CompileOptions(string ModelPath)
{
    /// <summary>The <c>InputShapes</c> option text, e.g. <c>x=1,3,224,224;mask=1,128</c>.</summary>
    public string? InputShapes { get; init; }
}
