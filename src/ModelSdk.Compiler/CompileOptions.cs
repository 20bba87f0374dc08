using ModelSdk.Compiler.Quantization;

namespace ModelSdk.Compiler;

/// <summary>What to compile and how; mirrors the <c>&lt;OnnxModel&gt;</c> item metadata.</summary>
/// <param name="ModelPath">The .onnx file.</param>
public sealed record CompileOptions(string ModelPath)
{
    /// <summary>The <c>InputShapes</c> option text, e.g. <c>x=1,3,224,224;mask=1,128</c>.</summary>
    public string? InputShapes { get; init; }

    /// <summary>The <c>Quantize</c> option.</summary>
    public QuantizeMode Quantize { get; init; } = QuantizeMode.None;

    /// <summary>
    /// The <c>CalibrationData</c> specification: a CSV file or a folder of <c>.bin</c> samples, or one per
    /// input as <c>x=a.csv;mask=b.csv</c>. Relative paths are relative to the current directory.
    /// </summary>
    public string? CalibrationData { get; init; }

    /// <summary>The <c>CalibrationMethod</c> option.</summary>
    public CalibrationMethod CalibrationMethod { get; init; } = CalibrationMethod.MinMax;

    /// <summary>The <c>CalibrationPercentile</c> option, in (0, 100].</summary>
    public double CalibrationPercentile { get; init; } = QuantizationSettings.DefaultPercentile;

    /// <summary>The <c>QuantizeExclude</c> option: node or tensor names kept in float.</summary>
    public IReadOnlyList<string> QuantizeExclude { get; init; } = [];

    /// <summary>The <c>ValidationData</c> specification (as <see cref="CalibrationData"/>, each CSV row ending with its label).</summary>
    public string? ValidationData { get; init; }
}
