namespace ModelSdk.Compiler.Quantization;

/// <summary>
/// An affine quantization: <c>real = (q − ZeroPoint) × Scale</c>. Real zero is always exactly
/// representable (it maps to the integer <see cref="ZeroPoint"/>), which zero padding and ReLU need.
/// </summary>
/// <param name="Scale">The step between two integers, in real units; positive and finite.</param>
/// <param name="ZeroPoint">The integer that represents real zero, inside the integer type's range.</param>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint);

/// <summary>A calibrated real range of a tensor.</summary>
/// <param name="Min">Lower end.</param>
/// <param name="Max">Upper end.</param>
public readonly record struct CalibrationRange(float Min, float Max)
{
    /// <summary>uint8 asymmetric parameters for this range (see <see cref="QuantizationMath.Uint8Asymmetric"/>).</summary>
    public QuantizationParameters Uint8Asymmetric() => QuantizationMath.Uint8Asymmetric(Min, Max);

    /// <summary>int8 symmetric parameters for this range (see <see cref="QuantizationMath.Int8Symmetric"/>).</summary>
    public QuantizationParameters Int8Symmetric() => QuantizationMath.Int8Symmetric(Min, Max);
}

/// <summary>Scales, zero points and rounding, as ONNX QuantizeLinear defines them.</summary>
public static class QuantizationMath
{
    /// <summary>
    /// uint8 asymmetric: the range is first widened to contain 0, then mapped onto [0, 255] with
    /// <c>scale = (max − min) / 255</c> and <c>zeroPoint = round(−min / scale)</c> (half to even). Rounding
    /// the zero point to an integer is what makes real 0 exactly representable; it shifts the covered
    /// range by less than half a step. A range of width 0 gets scale 1.
    /// </summary>
    public static QuantizationParameters Uint8Asymmetric(float min, float max)
    {
        double lo = Math.Min(Finite(min), 0), hi = Math.Max(Finite(max), 0);
        float scale = ValidScale((float)((hi - lo) / 255.0));
        int zeroPoint = (int)Math.Clamp(Math.Round(-lo / scale, MidpointRounding.ToEven), 0, 255);
        return new QuantizationParameters(scale, zeroPoint);
    }

    /// <summary>
    /// int8 symmetric: zero point 0 and <c>scale = max(|min|, |max|) / 127</c>, the restricted range
    /// [−127, 127] (as ONNX Runtime and TensorRT use for weights), so that negation is exact and
    /// int8 × int8 products never reach −128 × −128. A range of width 0 gets scale 1.
    /// </summary>
    public static QuantizationParameters Int8Symmetric(float min, float max)
    {
        double absMax = Math.Max(Math.Abs(Finite(min)), Math.Abs(Finite(max)));
        return new QuantizationParameters(ValidScale((float)(absMax / 127.0)), 0);
    }

    /// <summary>
    /// ONNX QuantizeLinear: <c>clamp(round_half_to_even(x / scale) + zeroPoint, qmin, qmax)</c>;
    /// NaN becomes the zero point.
    /// </summary>
    public static int Quantize(float x, QuantizationParameters p, int qmin, int qmax)
    {
        if (float.IsNaN(x))
        {
            return Math.Clamp(p.ZeroPoint, qmin, qmax);
        }

        double q = Math.Round((double)x / p.Scale, MidpointRounding.ToEven) + p.ZeroPoint;
        return (int)Math.Clamp(q, qmin, qmax);
    }

    /// <summary>ONNX DequantizeLinear: <c>(q − zeroPoint) × scale</c>.</summary>
    public static float Dequantize(int q, QuantizationParameters p) => (q - p.ZeroPoint) * p.Scale;

    private static double Finite(float v) => float.IsFinite(v) ? v : 0;

    private static float ValidScale(float scale) => scale > 0 && float.IsFinite(scale) ? scale : 1f;

    /// <summary>The first index of the largest value, so ties resolve the same way in a float and a quantized model.</summary>
    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }
}
