using System.Globalization;

namespace ModelSdk.Compiler.Quantization;

/// <summary>What <c>Quantize</c> asks for.</summary>
public enum QuantizeMode
{
    /// <summary>Keep the model in float.</summary>
    None,
    /// <summary>int8 weights and activations, calibrated on <c>CalibrationData</c>.</summary>
    Int8,
    /// <summary>float16 weights.</summary>
    Fp16,
    /// <summary>bfloat16 weights.</summary>
    Bf16,
}

/// <summary>How calibration turns observed activations into a quantization range.</summary>
public enum CalibrationMethod
{
    /// <summary>The observed minimum and maximum.</summary>
    MinMax,
    /// <summary>The range clipped at a percentile of |x| (<c>CalibrationPercentile</c>).</summary>
    Percentile,
    /// <summary>The clip of |x| that minimises the KL divergence between the float and the quantized distribution.</summary>
    Entropy,
}

/// <summary>Parses the text of the quantization options, as written in <c>&lt;OnnxModel&gt;</c> metadata and on the command line.</summary>
public static class QuantizationSettings
{
    /// <summary>The default of <c>CalibrationPercentile</c>.</summary>
    public const double DefaultPercentile = 99.99;

    /// <summary>Parses <c>none|int8|fp16|bf16</c> (case-insensitive; empty means none).</summary>
    public static bool TryParseMode(string? text, out QuantizeMode mode)
    {
        mode = (text ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "" or "none" => QuantizeMode.None,
            "int8" => QuantizeMode.Int8,
            "fp16" => QuantizeMode.Fp16,
            "bf16" => QuantizeMode.Bf16,
            _ => (QuantizeMode)(-1),
        };
        return Enum.IsDefined(mode);
    }

    /// <summary>Parses <c>minmax|percentile|entropy</c> (case-insensitive; empty means minmax).</summary>
    public static bool TryParseMethod(string? text, out CalibrationMethod method)
    {
        method = (text ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "" or "minmax" => CalibrationMethod.MinMax,
            "percentile" => CalibrationMethod.Percentile,
            "entropy" => CalibrationMethod.Entropy,
            _ => (CalibrationMethod)(-1),
        };
        return Enum.IsDefined(method);
    }

    /// <summary>Parses a percentile in (0, 100] written in the invariant culture (empty means the default).</summary>
    public static bool TryParsePercentile(string? text, out double percentile)
    {
        percentile = DefaultPercentile;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out percentile)
            && percentile > 0 && percentile <= 100;
    }

    /// <summary>Splits <c>QuantizeExclude</c>: names separated by ';', blanks dropped.</summary>
    public static IReadOnlyList<string> ParseNames(string? text)
        => (text ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
