using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Quantization;

/// <summary>How one quantized layer's result compares with float.</summary>
/// <param name="Layer">The layer.</param>
/// <param name="Sqnr">Signal-to-quantization-noise ratio of its result over the calibration set, in dB
/// (10·log₁₀ Σf² / Σ(f − q)²); +∞ when the results are identical.</param>
public sealed record LayerQuality(QuantizedLayer Layer, double Sqnr);

/// <summary>What int8 quantization cost, measured by running the float and the quantized plan through the executor.</summary>
/// <param name="Method">The calibration method.</param>
/// <param name="Layers">Per quantized layer, in graph order.</param>
/// <param name="FloatWeightBytes">Bytes of the constants the float graph's nodes read (its weights, before any kernel packs them).</param>
/// <param name="QuantizedWeightBytes">Bytes of the constants the quantized graph's nodes read (int8 weights, int32 biases, scales, zero points).</param>
/// <param name="FloatPayloadBytes">The float weights payload, constants 64-byte aligned.</param>
/// <param name="QuantizedPayloadBytes">The quantized weights payload, constants 64-byte aligned.</param>
/// <param name="Calibration">The outputs of both models over the calibration set.</param>
/// <param name="Validation">The outputs and accuracy of both models over ValidationData, when given.</param>
public sealed record QuantizationEvaluation(
    CalibrationMethod Method,
    IReadOnlyList<LayerQuality> Layers,
    long FloatWeightBytes,
    long QuantizedWeightBytes,
    long FloatPayloadBytes,
    long QuantizedPayloadBytes,
    OutputAgreement Calibration,
    OutputAgreement? Validation)
{
    /// <summary>Quantized over float constant bytes.</summary>
    public double WeightRatio => FloatWeightBytes == 0 ? 1 : (double)QuantizedWeightBytes / FloatWeightBytes;

    /// <summary>
    /// Runs <paramref name="floatPlan"/> and <paramref name="quantizedPlan"/> (both built without arena reuse,
    /// so intermediates can be read) on every calibration sample, and on the validation samples when given.
    /// </summary>
    public static QuantizationEvaluation Measure(
        PlanWithWeights floatPlan, PlanWithWeights quantizedPlan, IReadOnlyList<QuantizedLayer> layers, long floatWeightBytes, long quantizedWeightBytes,
        CalibrationMethod method, SampleDataSet calibration, SampleDataSet? validation)
    {
        var fr = new Calibrator.SampleRunner(floatPlan.Plan, floatPlan.Weights);
        var qr = new Calibrator.SampleRunner(quantizedPlan.Plan, quantizedPlan.Weights);
        Dictionary<string, PlanTensor> floatTensors = ByName(floatPlan.Plan), quantizedTensors = ByName(quantizedPlan.Plan);
        var signal = new double[layers.Count];
        var noise = new double[layers.Count];
        var outputs = new OutputComparison(floatPlan.Plan);
        foreach (DataSample sample in calibration.Read())
        {
            fr.Run(sample);
            qr.Run(sample);
            for (int i = 0; i < layers.Count; i++)
            {
                QuantizedLayer layer = layers[i];
                if (!floatTensors.TryGetValue(layer.FloatOutput, out PlanTensor? ft) || !fr.TryValues(ft, out ReadOnlySpan<float> f))
                {
                    continue;
                }

                float[]? q = Result(qr, quantizedTensors, layer);
                if (q is null || q.Length != f.Length)
                {
                    continue;
                }

                for (int k = 0; k < f.Length; k++)
                {
                    double d = f[k] - (double)q[k];
                    signal[i] += (double)f[k] * f[k];
                    noise[i] += d * d;
                }
            }

            outputs.Add(o => Output(fr, floatPlan.Plan, o), o => Output(qr, quantizedPlan.Plan, o), double.NaN);
        }

        OutputAgreement? validated = null;
        if (validation is not null)
        {
            var labelled = new OutputComparison(floatPlan.Plan);
            foreach (DataSample sample in validation.Read())
            {
                fr.Run(sample);
                qr.Run(sample);
                labelled.Add(o => Output(fr, floatPlan.Plan, o), o => Output(qr, quantizedPlan.Plan, o), sample.Label);
            }

            validated = labelled.Result("ValidationData");
        }

        var quality = layers.Select((l, i) => new LayerQuality(l, noise[i] == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal[i] / noise[i]))).ToList();
        return new QuantizationEvaluation(method, quality, floatWeightBytes, quantizedWeightBytes,
            floatPlan.Weights.Length, quantizedPlan.Weights.Length, outputs.Result("CalibrationData"), validated);
    }

    /// <summary>The markdown section appended to the build report.</summary>
    public string ToMarkdown(string exclusions)
    {
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.Append("\n## Quantization: int8\n\n");
        OutputAgreement a = Calibration;
        sb.Append(c, $"- Calibration: `{Name(Method)}` over {a.Samples:N0} samples. Activations: uint8 asymmetric per tensor; weights: int8 symmetric per output channel ([−127, 127]); biases: int32.\n");
        sb.Append(c, $"- Weights: {FloatWeightBytes:N0} → {QuantizedWeightBytes:N0} bytes of constants read by the operators ({WeightRatio:0.###}×); the weights payload (kernel-packed, 64-byte aligned): {FloatPayloadBytes:N0} → {QuantizedPayloadBytes:N0} bytes.\n");
        sb.Append(c, $"- Against the float model over the calibration set: top-1 agreement {a.Top1Agreement * 100:0.##}% ({a.Top1Agreeing:N0}/{a.Top1Rows:N0}), max |output difference| {a.MaxAbsError:G4}, output relative L2 {a.RelativeL2:G3}.\n");
        if (Validation is { } v)
        {
            sb.Append(c, $"- Validation ({v.Labelled:N0} labelled samples): accuracy float {v.FloatAccuracy * 100:0.##}% → int8 {v.OtherAccuracy * 100:0.##}% ({(v.OtherAccuracy - v.FloatAccuracy) * 100:+0.##;−0.##;0} points).\n");
        }

        if (exclusions.Length > 0)
        {
            sb.Append(c, $"- Kept in float by QuantizeExclude: {exclusions}.\n");
        }

        sb.Append("\n| layer | op | weight scales (min … max) | input scale / zero point | output scale / zero point | SQNR vs float (dB) |\n");
        sb.Append("|---|---|---|---|---|---:|\n");
        foreach (LayerQuality q in Layers)
        {
            QuantizedLayer l = q.Layer;
            string output = l.Output is { } o ? $"{o.Scale:G6} / {o.ZeroPoint}" + (l.FoldedRelu is null ? "" : " (Relu folded)") : "float32";
            string sqnr = double.IsPositiveInfinity(q.Sqnr) ? "∞" : q.Sqnr.ToString("0.0", c);
            sb.Append(c, $"| `{Reports.MarkdownReport.Escape(l.Node)}` | {l.OpType} | {l.WeightScaleMin:G4} … {l.WeightScaleMax:G4} ({l.Channels}) | {l.Input.Scale:G6} / {l.Input.ZeroPoint} | {output} | {sqnr} |\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The one-line summary printed in the build output. It avoids the words "error" and "warning":
    /// MSBuild's canonical-message parser would take such a line from the compile task for a diagnostic.
    /// </summary>
    public string Summary(string model)
    {
        var c = CultureInfo.InvariantCulture;
        string text = string.Create(c,
            $"modelsdk: quantized {model} to int8 ({Name(Method)}): {Layers.Count} layers, weights {FloatWeightBytes:N0} → {QuantizedWeightBytes:N0} bytes ({WeightRatio:0.###}×), top-1 agreement {Calibration.Top1Agreement * 100:0.##}% and max |output difference| {Calibration.MaxAbsError:G3} over {Calibration.Samples:N0} calibration samples");
        if (Validation is { } v)
        {
            text += string.Create(c, $", validation accuracy {v.FloatAccuracy * 100:0.##}% → {v.OtherAccuracy * 100:0.##}%");
        }

        return text;
    }

    private static string Name(CalibrationMethod method) => method.ToString().ToLowerInvariant();

    /// <summary>The dequantized result of a layer in the quantized plan: its uint8 output, or its float output.</summary>
    private static float[]? Result(Calibrator.SampleRunner runner, Dictionary<string, PlanTensor> tensors, QuantizedLayer layer)
    {
        if (layer.QuantizedOutput is null)
        {
            return tensors.TryGetValue(layer.FloatOutput, out PlanTensor? t) && runner.TryValues(t, out ReadOnlySpan<float> values) ? values.ToArray() : null;
        }

        if (!tensors.TryGetValue(layer.QuantizedOutput, out PlanTensor? q) || !runner.TryBytes(q, out ReadOnlySpan<byte> bytes))
        {
            return null;
        }

        QuantizationParameters p = layer.Output!.Value;
        var result = new float[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
        {
            result[k] = QuantizationMath.Dequantize(bytes[k], p);
        }

        return result;
    }

    private static ReadOnlySpan<float> Output(Calibrator.SampleRunner runner, CompiledPlan plan, int index)
    {
        PlanTensor t = plan.Tensors[plan.Outputs[index].TensorId];
        return t.Type == ElementType.Float32 && runner.TryValues(t, out ReadOnlySpan<float> values) ? values : default;
    }

    private static Dictionary<string, PlanTensor> ByName(CompiledPlan plan)
    {
        var byName = new Dictionary<string, PlanTensor>(StringComparer.Ordinal);
        foreach (PlanTensor t in plan.Tensors)
        {
            byName.TryAdd(t.Name, t);
        }

        return byName;
    }

    /// <summary>Bytes of the distinct constants that the nodes of <paramref name="graph"/> read.</summary>
    public static long ConstantBytes(Ir.Graph graph)
    {
        var seen = new HashSet<Ir.Value>(ReferenceEqualityComparer.Instance);
        long bytes = 0;
        foreach (Ir.Value? v in graph.Nodes.SelectMany(n => n.Inputs))
        {
            if (v is { IsConstant: true } && seen.Add(v))
            {
                bytes += v.Constant!.Bytes.Length;
            }
        }

        return bytes;
    }
}
