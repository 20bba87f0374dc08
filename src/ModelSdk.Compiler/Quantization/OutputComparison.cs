using ModelSdk.Plan;

namespace ModelSdk.Compiler.Quantization;

/// <summary>How the quantized (int8) or narrowed (fp16/bf16) model's outputs compare with the float model's over one data set.</summary>
/// <param name="Option">Where the samples came from: <c>CalibrationData</c> or <c>ValidationData</c>.</param>
/// <param name="Samples">Samples run.</param>
/// <param name="MaxAbsError">Largest |float − other| over every element of every float32 output (∞ when one side is NaN and the other is not).</param>
/// <param name="RelativeL2">‖float − other‖₂ / ‖float‖₂ over every float32 output element.</param>
/// <param name="Top1Agreeing">Rows of the first float32 output with a last axis longer than 1 whose arg max is the same in both models.</param>
/// <param name="Top1Rows">Rows compared (rows of that output's last axis, over all samples); 0 when there is no such output.</param>
/// <param name="Labelled">Samples with a label that accuracy counts (one row per sample; validation data only).</param>
/// <param name="CorrectFloat">Of those, samples the float model classifies as labelled.</param>
/// <param name="CorrectOther">Of those, samples the quantized or narrowed model classifies as labelled.</param>
public sealed record OutputAgreement(string Option, int Samples, double MaxAbsError, double RelativeL2, long Top1Agreeing, long Top1Rows, int Labelled, int CorrectFloat, int CorrectOther)
{
    /// <summary>Top-1 agreement in [0, 1] (1 when nothing was compared).</summary>
    public double Top1Agreement => Top1Rows == 0 ? 1 : (double)Top1Agreeing / Top1Rows;

    /// <summary>Float accuracy over the labelled samples, in [0, 1].</summary>
    public double FloatAccuracy => Labelled == 0 ? 0 : (double)CorrectFloat / Labelled;

    /// <summary>The other model's accuracy over the labelled samples, in [0, 1].</summary>
    public double OtherAccuracy => Labelled == 0 ? 0 : (double)CorrectOther / Labelled;
}

/// <summary>
/// Accumulates an <see cref="OutputAgreement"/> sample by sample: the one measure of output error, top-1 agreement
/// and accuracy that the int8 and the fp16/bf16 reports share.
/// </summary>
internal sealed class OutputComparison
{
    private readonly int[] _floatOutputs;
    private readonly int _top;
    private readonly int _classes;
    private int _samples, _labelled, _correctFloat, _correctOther;
    private long _agreeing, _rows;
    private double _maxAbs, _error, _norm;

    /// <summary>Compares the outputs of models with the outputs of <paramref name="floatPlan"/>.</summary>
    public OutputComparison(CompiledPlan floatPlan)
    {
        PlanTensor Tensor(int output) => floatPlan.Tensors[floatPlan.Outputs[output].TensorId];
        _floatOutputs = Enumerable.Range(0, floatPlan.Outputs.Count).Where(o => Tensor(o).Type == ElementType.Float32).ToArray();
        _top = _floatOutputs.FirstOrDefault(o => Tensor(o).Shape is { Length: > 0 } s && s[^1] > 1, -1);
        _classes = _top < 0 ? 0 : Tensor(_top).Shape[^1];
    }

    /// <summary>The values of output <paramref name="output"/> after a run (empty when not available).</summary>
    public delegate ReadOnlySpan<float> OutputReader(int output);

    /// <summary>Adds one sample: both models' outputs, and its label (NaN, or not a class index, when unlabelled).</summary>
    public void Add(OutputReader reference, OutputReader other, double label)
    {
        _samples++;
        foreach (int o in _floatOutputs)
        {
            ReadOnlySpan<float> x = reference(o), y = other(o);
            for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
            {
                double d = x[i] == y[i] || (float.IsNaN(x[i]) && float.IsNaN(y[i])) ? 0 : Math.Abs((double)x[i] - y[i]);
                _maxAbs = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(_maxAbs, d);
                _error += double.IsFinite(d) ? d * d : 0;
                _norm += float.IsFinite(x[i]) ? (double)x[i] * x[i] : 0;
            }
        }

        if (_top < 0)
        {
            return;
        }

        ReadOnlySpan<float> fx = reference(_top), ox = other(_top);
        for (int r = 0; r + _classes <= Math.Min(fx.Length, ox.Length); r += _classes)
        {
            _rows++;
            _agreeing += QuantizationMath.ArgMax(fx.Slice(r, _classes)) == QuantizationMath.ArgMax(ox.Slice(r, _classes)) ? 1 : 0;
        }

        if (fx.Length == _classes && ox.Length == _classes && label >= 0 && label == Math.Floor(label))
        {
            _labelled++;
            _correctFloat += QuantizationMath.ArgMax(fx) == label ? 1 : 0;
            _correctOther += QuantizationMath.ArgMax(ox) == label ? 1 : 0;
        }
    }

    /// <summary>The comparison so far, for the data set named <paramref name="option"/>.</summary>
    public OutputAgreement Result(string option)
        => new(option, _samples, _maxAbs, _norm > 0 ? Math.Sqrt(_error / _norm) : 0, _agreeing, _rows, _labelled, _correctFloat, _correctOther);
}
