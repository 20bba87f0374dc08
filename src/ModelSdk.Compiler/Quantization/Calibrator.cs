using System.Runtime.InteropServices;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Compiler.Operators;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Quantization;

/// <summary>How to calibrate.</summary>
/// <param name="Method">The method whose range <see cref="TensorCalibration.Range"/> returns by default.</param>
/// <param name="Percentile">For <see cref="CalibrationMethod.Percentile"/>: the percentile of |x| kept, in (0, 100].</param>
/// <param name="HistogramBins">Bins of the |x| histogram.</param>
/// <param name="QuantizedBins">Levels of the quantized distribution in the entropy search (128: the magnitudes of int8).</param>
public sealed record CalibrationSettings(
    CalibrationMethod Method = CalibrationMethod.MinMax,
    double Percentile = QuantizationSettings.DefaultPercentile,
    int HistogramBins = AbsHistogram.DefaultBins,
    int QuantizedBins = 128);

/// <summary>
/// What calibration observed of one float32 tensor over every sample, and the range each method derives.
/// A tensor with no finite value has the range (0, 0).
/// </summary>
/// <param name="Name">The tensor's ONNX name.</param>
/// <param name="Count">Finite values observed (elements × samples, NaN and infinities excluded).</param>
/// <param name="NonFinite">NaN and infinite values seen, which are ignored.</param>
/// <param name="Min">Smallest finite value.</param>
/// <param name="Max">Largest finite value.</param>
/// <param name="Histogram">The |x| histogram over [0, max(|Min|, |Max|)].</param>
/// <param name="MinMax">The observed range.</param>
/// <param name="Percentile">The observed range clipped to ±(the requested percentile of |x|).</param>
/// <param name="Entropy">The observed range clipped to ±(the KL-optimal threshold of |x|).</param>
public sealed record TensorCalibration(
    string Name,
    long Count,
    long NonFinite,
    float Min,
    float Max,
    AbsHistogram Histogram,
    CalibrationRange MinMax,
    CalibrationRange Percentile,
    CalibrationRange Entropy)
{
    /// <summary>The range of <paramref name="method"/>.</summary>
    public CalibrationRange Range(CalibrationMethod method) => method switch
    {
        CalibrationMethod.Percentile => Percentile,
        CalibrationMethod.Entropy => Entropy,
        _ => MinMax,
    };
}

/// <summary>The result of <see cref="Calibrator.Run"/>: per tensor statistics and ranges, and the tensors that could not be observed.</summary>
/// <param name="Settings">The settings used.</param>
/// <param name="Samples">Samples run.</param>
/// <param name="Tensors">Calibrated tensors by name, in the order requested.</param>
/// <param name="Skipped">Requested tensors that were not calibrated, with the reason.</param>
public sealed record CalibrationResult(
    CalibrationSettings Settings,
    int Samples,
    IReadOnlyDictionary<string, TensorCalibration> Tensors,
    IReadOnlyList<(string Name, string Reason)> Skipped)
{
    /// <summary>The range of <paramref name="tensor"/> by the settings' method.</summary>
    public CalibrationRange Range(string tensor) => Tensors[tensor].Range(Settings.Method);
}

/// <summary>
/// Runs the float model through the compiler's executor over sample data and collects, per requested
/// float32 tensor, min/max and a histogram of |x|. The model is lowered with a memory plan that never
/// reuses arena space, so every intermediate tensor still holds its value when a sample has run; a
/// tensor counts only when a step that ran touched its storage (not in an If branch that did not run).
/// Two passes over the data: the first finds each tensor's range, the second fills histograms over it,
/// so bins never move. Single-threaded kernels and sequential reductions make the result identical
/// from run to run.
/// </summary>
public static class Calibrator
{
    /// <summary>Operators whose inputs and outputs an int8 rewrite quantizes.</summary>
    public static IReadOnlySet<string> QuantizableOperators { get; } = new HashSet<string>(StringComparer.Ordinal) { "Conv", "Gemm", "MatMul" };

    /// <summary>
    /// The float32 activations a quantizer needs: the inputs and outputs (not constants) of every
    /// default-domain Conv, Gemm and MatMul, except nodes and tensors named in <paramref name="exclude"/>, in graph order.
    /// </summary>
    public static IReadOnlyList<string> DefaultTensors(Graph graph, IReadOnlyCollection<string> exclude)
    {
        var excluded = new HashSet<string>(exclude, StringComparer.Ordinal);
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (Node node in QuantizableNodes(graph, excluded))
        {
            foreach (Value? v in node.Inputs.Concat(node.Outputs))
            {
                if (v is { IsConstant: false, Type: ElementType.Float32 } && !excluded.Contains(v.Name) && seen.Add(v.Name))
                {
                    result.Add(v.Name);
                }
            }
        }

        return result;
    }

    /// <summary>The default-domain Conv, Gemm and MatMul nodes on float32 that <paramref name="exclude"/> does not name.</summary>
    public static IEnumerable<Node> QuantizableNodes(Graph graph, IReadOnlySet<string> exclude)
        => graph.Nodes.Where(n => n.Domain.Length == 0 && QuantizableOperators.Contains(n.OpType) && !exclude.Contains(n.Name)
            && n.Outputs.Count > 0 && n.Outputs[0].Type == ElementType.Float32);

    /// <summary>
    /// Calibrates <paramref name="tensors"/> of <paramref name="graph"/> (after <see cref="Passes.PassPipeline"/>)
    /// over <paramref name="data"/>. Warnings (few samples, non-finite values) go to <paramref name="warnings"/>;
    /// errors throw <see cref="CompileException"/>.
    /// </summary>
    public static CalibrationResult Run(Graph graph, SampleDataSet data, IReadOnlyList<string> tensors, CalibrationSettings settings, string? modelPath, ICollection<Diagnostic> warnings)
    {
        PlanWithWeights built = PlanBuilder.Build(graph, OperatorRegistry.Default, "calibration", modelPath, reuseArena: false);
        CompiledPlan plan = built.Plan;
        var byName = new Dictionary<string, PlanTensor>(StringComparer.Ordinal);
        foreach (PlanTensor t in plan.Tensors)
        {
            byName.TryAdd(t.Name, t);
        }

        var observed = new List<PlanTensor>();
        var skipped = new List<(string, string)>();
        foreach (string name in tensors.Distinct(StringComparer.Ordinal))
        {
            if (!byName.TryGetValue(name, out PlanTensor? t))
            {
                skipped.Add((name, "it is not computed at run time (folded, fused or removed)"));
            }
            else if (t.Type != ElementType.Float32)
            {
                skipped.Add((name, $"it is {t.Type.ToPlanName()}, not float32"));
            }
            else if (t.ElementCount == 0)
            {
                skipped.Add((name, "it is empty"));
            }
            else
            {
                observed.Add(t);
            }
        }

        var runner = new SampleRunner(plan, built.Weights);
        var min = new float[observed.Count];
        var max = new float[observed.Count];
        var count = new long[observed.Count];
        var nonFinite = new long[observed.Count];
        Array.Fill(min, float.PositiveInfinity);
        Array.Fill(max, float.NegativeInfinity);
        int samples = 0;
        foreach (DataSample sample in data.Read())
        {
            samples++;
            if (observed.Count == 0)
            {
                continue; // still read every sample: the data's errors are reported either way
            }

            runner.Run(sample);
            for (int k = 0; k < observed.Count; k++)
            {
                if (runner.TryValues(observed[k], out ReadOnlySpan<float> values))
                {
                    Accumulate(values, ref min[k], ref max[k], ref count[k], ref nonFinite[k]);
                }
            }
        }

        CheckSampleCount(samples, data, modelPath, warnings);
        var histograms = new AbsHistogram[observed.Count];
        for (int k = 0; k < observed.Count; k++)
        {
            float absMax = count[k] == 0 ? 0 : MathF.Max(MathF.Abs(min[k]), MathF.Abs(max[k]));
            histograms[k] = new AbsHistogram(absMax, settings.HistogramBins);
        }

        if (observed.Count > 0)
        {
            foreach (DataSample sample in data.Read())
            {
                runner.Run(sample);
                for (int k = 0; k < observed.Count; k++)
                {
                    if (runner.TryValues(observed[k], out ReadOnlySpan<float> values))
                    {
                        histograms[k].Add(values);
                    }
                }
            }
        }

        var result = new Dictionary<string, TensorCalibration>(StringComparer.Ordinal);
        for (int k = 0; k < observed.Count; k++)
        {
            string name = observed[k].Name;
            if (nonFinite[k] > 0)
            {
                warnings.Add(new Diagnostic(DiagnosticCodes.CalibrationNonFinite, DiagnosticSeverity.Warning,
                    $"{nonFinite[k]} NaN or infinite values over the calibration data; calibration ignores them.", modelPath, Tensor: name));
            }

            result[name] = Summarize(name, count[k], nonFinite[k], min[k], max[k], histograms[k], settings);
        }

        return new CalibrationResult(settings, samples, result, skipped);
    }

    /// <summary>Fewer than <see cref="MinimumSamples"/> samples is a warning; none is an error.</summary>
    public const int MinimumSamples = 8;

    private static void CheckSampleCount(int samples, SampleDataSet data, string? modelPath, ICollection<Diagnostic> warnings)
    {
        string files = string.Join(", ", data.Sources.Select(f => $"'{f}'"));
        if (samples == 0)
        {
            throw new CompileException(new Diagnostic(DiagnosticCodes.CalibrationTooFewSamples, DiagnosticSeverity.Error,
                $"the calibration data ({files}) holds no sample; calibration needs at least one, and {MinimumSamples} or more for useful ranges.", modelPath));
        }

        if (samples < MinimumSamples)
        {
            warnings.Add(new Diagnostic(DiagnosticCodes.CalibrationTooFewSamples, DiagnosticSeverity.Warning,
                $"the calibration data ({files}) holds {samples} sample{(samples == 1 ? "" : "s")}; ranges from fewer than {MinimumSamples} are unreliable. Add representative samples.", modelPath));
        }
    }

    /// <summary>Min/max and the derived ranges; public so that tests and the quantizer can summarise their own statistics.</summary>
    public static TensorCalibration Summarize(string name, long count, long nonFinite, float min, float max, AbsHistogram histogram, CalibrationSettings settings)
    {
        if (count == 0)
        {
            var zero = new CalibrationRange(0, 0);
            return new TensorCalibration(name, 0, nonFinite, 0, 0, histogram, zero, zero, zero);
        }

        var minMax = new CalibrationRange(min, max);
        return new TensorCalibration(name, count, nonFinite, min, max, histogram, minMax,
            Clip(minMax, histogram.PercentileThreshold(settings.Percentile)),
            Clip(minMax, histogram.EntropyThreshold(settings.QuantizedBins)));
    }

    /// <summary>Min, max, finite count and non-finite count of <paramref name="values"/>, folded into the running totals.</summary>
    public static void Accumulate(ReadOnlySpan<float> values, ref float min, ref float max, ref long count, ref long nonFinite)
    {
        float lo = min, hi = max;
        long bad = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                bad++;
                continue;
            }

            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }

        min = lo;
        max = hi;
        count += values.Length - bad;
        nonFinite += bad;
    }

    /// <summary>
    /// Clips the range to ±threshold. A threshold below every |x| (possible for the entropy search on a
    /// tensor far from zero) would leave nothing; the observed range is kept then.
    /// </summary>
    private static CalibrationRange Clip(CalibrationRange range, float threshold)
    {
        var clipped = new CalibrationRange(MathF.Max(range.Min, -threshold), MathF.Min(range.Max, threshold));
        return clipped.Min <= clipped.Max ? clipped : range;
    }

    /// <summary>Runs one sample at a time on buffers it keeps, and tracks which storage the steps that ran touched.</summary>
    internal sealed class SampleRunner
    {
        private readonly CompiledPlan _plan;
        private readonly byte[] _weights;
        private readonly byte[] _arena;
        private readonly byte[][] _outputs;
        private readonly HashSet<(StorageKind, long)> _touched = [];
        private byte[][] _inputs = [];

        public SampleRunner(CompiledPlan plan, byte[] weights)
        {
            _plan = plan;
            _weights = weights;
            _arena = new byte[plan.ArenaBytes];
            _outputs = plan.Outputs.Select(o => new byte[plan.Tensors[o.TensorId].ByteCount]).ToArray();
        }

        public void Run(DataSample sample)
        {
            _inputs = sample.Inputs;
            _touched.Clear();
            Execution.Executor.Run(_plan.Steps, Resolve, Runtime.KernelContext.SingleThreaded);
        }

        /// <summary>The tensor's values after the last run; false when no step that ran computed it.</summary>
        public bool TryValues(PlanTensor t, out ReadOnlySpan<float> values)
        {
            bool computed = t.Storage is StorageKind.Input or StorageKind.Weights || _touched.Contains(Key(t));
            values = computed ? MemoryMarshal.Cast<byte, float>(Buffer(t)) : default;
            return computed;
        }

        /// <summary>The tensor's bytes after the last run (any element type); false when no step that ran computed it.</summary>
        public bool TryBytes(PlanTensor t, out ReadOnlySpan<byte> bytes)
        {
            bool computed = t.Storage is StorageKind.Input or StorageKind.Weights || _touched.Contains(Key(t));
            bytes = computed ? Buffer(t) : default;
            return computed;
        }

        private Span<byte> Resolve(int id)
        {
            PlanTensor t = _plan.Tensors[id];
            _touched.Add(Key(t));
            return Buffer(t);
        }

        private Span<byte> Buffer(PlanTensor t)
        {
            int count = checked((int)t.ByteCount);
            return t.Storage switch
            {
                StorageKind.Input => _inputs[t.Index].AsSpan(0, count),
                StorageKind.Output => _outputs[t.Index].AsSpan(0, count),
                StorageKind.Weights => _weights.AsSpan((int)t.Offset, count),
                _ => _arena.AsSpan((int)t.Offset, count),
            };
        }

        // Without arena reuse, one storage key is one buffer: a tensor and its views.
        private static (StorageKind, long) Key(PlanTensor t) => (t.Storage, t.Storage is StorageKind.Input or StorageKind.Output ? t.Index : t.Offset);
    }
}
