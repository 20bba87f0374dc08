using System.Runtime.InteropServices;
using System.Security.Cryptography;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Plan;
using ModelSdk.Runtime;

namespace ModelSdk.Compiler.Quantization;

/// <summary>What the fp16/bf16 rewrite did with one float32 weights buffer (a constant and its views).</summary>
/// <param name="Name">The name of the buffer's first tensor in the plan.</param>
/// <param name="Elements">Number of elements.</param>
/// <param name="StoredType">How the blob stores it: float16, bfloat16, or float32 when kept.</param>
/// <param name="KeptBecause">Why it stays float32; null when narrowed.</param>
/// <param name="MaxAbsError">Largest |w − widen(narrow(w))| over its finite values (0 when kept).</param>
/// <param name="RelativeL2">‖w − widen(narrow(w))‖₂ / ‖w‖₂ (0 when kept or all zero).</param>
public sealed record NarrowedWeight(string Name, long Elements, ElementType StoredType, string? KeptBecause, double MaxAbsError, double RelativeL2);

/// <summary>The plan with narrowed weights, and what happened to each float32 weights buffer.</summary>
/// <param name="Built">The rewritten plan and its payload (the input unchanged when nothing was narrowed).</param>
/// <param name="Format">float16 or bfloat16.</param>
/// <param name="FloatWeightBytes">Payload size of the float plan.</param>
/// <param name="Weights">Every float32 weights buffer, in the float plan's order.</param>
public sealed record HalfPrecisionRewrite(PlanWithWeights Built, ElementType Format, long FloatWeightBytes, IReadOnlyList<NarrowedWeight> Weights)
{
    /// <summary>Number of narrowed buffers.</summary>
    public int NarrowedCount => Weights.Count(w => w.KeptBecause is null);
}

/// <summary>
/// <c>Quantize="fp16|bf16"</c>: stores float32 weights at half size in the blob and widens them to float32 once,
/// when the model loads (<see cref="WeightsBlob.Widen"/>), so the kernels, their speed and the generated API
/// are those of the float model; only the blob (and the assembly that embeds it) shrinks.
/// <para>
/// Which constants: every float32 weights buffer that a Conv, ConvTranspose, Gemm or MatMul reads (packed or
/// transposed forms included), and any other float32 constant of at least <see cref="MinimumElements"/>
/// elements. Smaller constants (biases of small layers, normalisation scales, scalars) stay float32: they save
/// little and some (epsilons, masks) are exact values. A buffer also stays float32 when a node that reads it or
/// one of its tensors is named in <c>QuantizeExclude</c>, or when float16 would turn one of its finite values
/// into infinity (|x| ≥ 65520, e.g. a −1e9 attention mask).
/// </para>
/// <para>
/// Layout: buffers kept as float32 first, at the same offsets in the payload and in memory; then the narrowed
/// ones, at 2 bytes per element in the payload and 4 in memory (64-byte aligned in both). Everything is in the
/// float plan's order, so the result is deterministic.
/// </para>
/// </summary>
public static class HalfPrecision
{
    /// <summary>Constants with at least this many elements are narrowed whichever operator reads them.</summary>
    public const int MinimumElements = 64;

    /// <summary>Operators whose constant inputs are narrowed at any size.</summary>
    public static IReadOnlySet<string> WeightOperators { get; } = new HashSet<string>(StringComparer.Ordinal) { "Conv", "ConvTranspose", "Gemm", "MatMul" };

    /// <summary>The stored type of <paramref name="mode"/>: float16 or bfloat16.</summary>
    public static ElementType FormatOf(QuantizeMode mode) => mode switch
    {
        QuantizeMode.Fp16 => ElementType.Float16,
        QuantizeMode.Bf16 => ElementType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Only fp16 and bf16 store weights at half size."),
    };

    /// <summary>The bits of <paramref name="format"/> nearest to <paramref name="value"/> (ties to even).</summary>
    public static ushort Narrow(float value, ElementType format)
        => format == ElementType.Float16 ? NarrowFloat.ToFloat16Bits(value) : NarrowFloat.ToBFloat16Bits(value);

    /// <summary>The exact float32 value of <paramref name="bits"/> in <paramref name="format"/>.</summary>
    public static float Widen(ushort bits, ElementType format)
        => format == ElementType.Float16 ? (float)BitConverter.UInt16BitsToHalf(bits) : BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Rewrites <paramref name="built"/> (a float plan and its payload) to store its weights as <paramref name="format"/>.</summary>
    public static HalfPrecisionRewrite Rewrite(PlanWithWeights built, ElementType format, IReadOnlyCollection<string> exclude)
    {
        if (!WeightsLayout.IsNarrowFloat(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Weights are narrowed to float16 or bfloat16 only.");
        }

        CompiledPlan plan = built.Plan;
        if (plan.Tensors.Any(t => t.IsWidened))
        {
            throw new ArgumentException("The plan's weights are already narrowed.", nameof(built));
        }

        var excluded = new HashSet<string>(exclude, StringComparer.Ordinal);
        var readers = new Dictionary<long, List<PlanStep>>();
        foreach (PlanStep step in plan.Steps)
        {
            foreach (PlanArg arg in step.Args)
            {
                if (arg.Kind == PlanArgKind.TensorIn && plan.Tensors[arg.Tensor] is { Storage: StorageKind.Weights } t)
                {
                    if (!readers.TryGetValue(t.Offset, out List<PlanStep>? list))
                    {
                        readers[t.Offset] = list = [];
                    }

                    list.Add(step);
                }
            }
        }

        // A buffer is a constant and its views: the tensors at one weights offset.
        var buffers = plan.Tensors.Where(t => t.Storage == StorageKind.Weights).GroupBy(t => t.Offset).OrderBy(g => g.Key)
            .Select(g => new Buffer(g.Key, g.Max(t => t.ByteCount), g.ToList())).ToList();
        var report = new List<NarrowedWeight>();
        foreach (Buffer b in buffers)
        {
            if (b.Tensors.Any(t => t.Type != ElementType.Float32))
            {
                continue; // not a float32 constant: nothing to narrow, nothing to report
            }

            IReadOnlyList<PlanStep> steps = readers.TryGetValue(b.Offset, out List<PlanStep>? r) ? r : [];
            ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(built.Weights.AsSpan((int)b.Offset, (int)b.Bytes));
            b.KeptBecause =
                b.Tensors.Any(t => excluded.Contains(t.Name)) || steps.Any(s => excluded.Contains(s.NodeName)) ? "named in QuantizeExclude" :
                values.Length < MinimumElements && !steps.Any(s => WeightOperators.Contains(s.OpType)) ? $"fewer than {MinimumElements} elements and not a Conv, Gemm or MatMul weight" :
                Overflows(values, format) ? $"{format.ToPlanName()} would overflow some of its values" :
                null;
            (double maxAbs, double relL2) = b.KeptBecause is null ? RoundingError(values, format) : (0, 0);
            report.Add(new NarrowedWeight(b.Tensors[0].Name, values.Length, b.KeptBecause is null ? format : ElementType.Float32, b.KeptBecause, maxAbs, relL2));
            b.Narrowed = b.KeptBecause is null;
        }

        if (!buffers.Any(b => b.Narrowed))
        {
            return new HalfPrecisionRewrite(built, format, plan.WeightsBytes, report);
        }

        long plainEnd = 0;
        foreach (Buffer b in buffers.Where(b => !b.Narrowed))
        {
            (b.NewOffset, b.StoredOffset) = (plainEnd, plainEnd);
            plainEnd = MemoryPlanner.Align(plainEnd + b.Bytes);
        }

        long loadedEnd = plainEnd, storedEnd = plainEnd;
        foreach (Buffer b in buffers.Where(b => b.Narrowed))
        {
            (b.NewOffset, b.StoredOffset) = (loadedEnd, storedEnd);
            loadedEnd = MemoryPlanner.Align(loadedEnd + b.Bytes);
            storedEnd = MemoryPlanner.Align(storedEnd + (b.Bytes / 2));
        }

        var payload = new byte[storedEnd];
        var byOffset = new Dictionary<long, Buffer>();
        foreach (Buffer b in buffers)
        {
            byOffset[b.Offset] = b;
            ReadOnlySpan<byte> source = built.Weights.AsSpan((int)b.Offset, (int)b.Bytes);
            if (!b.Narrowed)
            {
                source.CopyTo(payload.AsSpan((int)b.StoredOffset));
                continue;
            }

            ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(source);
            Span<ushort> stored = MemoryMarshal.Cast<byte, ushort>(payload.AsSpan((int)b.StoredOffset, values.Length * 2));
            for (int i = 0; i < values.Length; i++)
            {
                stored[i] = Narrow(values[i], format);
            }
        }

        var tensors = plan.Tensors.Select(t =>
        {
            if (t.Storage != StorageKind.Weights)
            {
                return t;
            }

            Buffer b = byOffset[t.Offset];
            return b.Narrowed
                ? new PlanTensor(t.Id, t.Name, t.Type, t.Shape, t.Storage, t.Index, b.NewOffset, format, b.StoredOffset)
                : new PlanTensor(t.Id, t.Name, t.Type, t.Shape, t.Storage, t.Index, b.NewOffset);
        }).ToList();
        var narrowed = new CompiledPlan(plan.CompilerVersion, plan.ModelName, plan.SourceSha256, payload.Length, Convert.ToHexStringLower(SHA256.HashData(payload)),
            loadedEnd, plan.ArenaBytes, tensors, plan.Inputs, plan.Outputs, plan.Steps, plan.Cost);
        return new HalfPrecisionRewrite(new PlanWithWeights(narrowed, payload, built.UnplannedArenaBytes), format, plan.WeightsBytes, report);
    }

    private static bool Overflows(ReadOnlySpan<float> values, ElementType format)
    {
        foreach (float v in values)
        {
            if (float.IsFinite(v) && !float.IsFinite(Widen(Narrow(v, format), format)))
            {
                return true;
            }
        }

        return false;
    }

    private static (double MaxAbs, double RelativeL2) RoundingError(ReadOnlySpan<float> values, ElementType format)
    {
        double maxAbs = 0, error = 0, norm = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                continue;
            }

            double d = Math.Abs((double)v - Widen(Narrow(v, format), format));
            maxAbs = Math.Max(maxAbs, d);
            error += d * d;
            norm += (double)v * v;
        }

        return (maxAbs, norm > 0 ? Math.Sqrt(error / norm) : 0);
    }

    private sealed class Buffer(long offset, long bytes, List<PlanTensor> tensors)
    {
        public long Offset { get; } = offset;
        public long Bytes { get; } = bytes;
        public List<PlanTensor> Tensors { get; } = tensors;
        public string? KeptBecause { get; set; } = "not float32";
        public bool Narrowed { get; set; }
        public long NewOffset { get; set; }
        public long StoredOffset { get; set; }
    }
}

/// <summary>The fp16/bf16 step of a compile.</summary>
public static class HalfPrecisionStage
{
    /// <summary>
    /// Narrows the weights of <paramref name="floatBuilt"/> as <paramref name="options"/> asks and measures the
    /// outputs against the float model over the calibration and validation data, when given (their files join
    /// <paramref name="dependencies"/>). A model with nothing to narrow gives a warning.
    /// </summary>
    public static HalfPrecisionReport Run(Graph graph, PlanWithWeights floatBuilt, CompileOptions options, ICollection<Diagnostic> diagnostics, ICollection<string> dependencies)
    {
        HalfPrecisionRewrite rewrite = HalfPrecision.Rewrite(floatBuilt, HalfPrecision.FormatOf(options.Quantize), options.QuantizeExclude);
        if (rewrite.NarrowedCount == 0 && !diagnostics.Any(d => d.Code == DiagnosticCodes.NothingToQuantize))
        {
            string mode = options.Quantize.ToString().ToLowerInvariant();
            diagnostics.Add(new Diagnostic(DiagnosticCodes.NothingToQuantize, DiagnosticSeverity.Warning,
                $"Quantize='{mode}' was requested, but no float32 weight qualifies (Conv, Gemm or MatMul weights, or constants of at least {HalfPrecision.MinimumElements} elements, outside QuantizeExclude); the weights stay float32.", options.ModelPath));
        }

        return HalfPrecisionReport.Measure(graph, floatBuilt, rewrite, options, dependencies);
    }
}
