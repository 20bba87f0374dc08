using System.Globalization;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Import;
using ModelSdk.Compiler.Ir;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Conformance;

/// <summary>Outcome of one ONNX backend test case.</summary>
public enum ConformanceStatus
{
    /// <summary>Every output matched.</summary>
    Pass,
    /// <summary>An output differed, or the compiler failed on a model it should handle.</summary>
    Fail,
    /// <summary>The model uses something ModelSdk does not support (operator, type, dynamic shape).</summary>
    Unsupported,
}

/// <summary>The result of one case: its name (e.g. <c>node/test_relu</c>), status, and why.</summary>
public sealed record ConformanceResult(string Name, ConformanceStatus Status, string Detail, double MaxError)
{
    /// <summary>One line: <c>PASS name</c>, <c>FAIL name: detail</c> or <c>UNSUPPORTED name: reason</c>.</summary>
    public override string ToString() => Status switch
    {
        ConformanceStatus.Pass => $"PASS {Name}",
        ConformanceStatus.Fail => $"FAIL {Name}: {Detail}",
        _ => $"UNSUPPORTED {Name}: {Detail}",
    };
}

/// <summary>Runs a compiled plan on raw inputs and returns raw outputs (the executor, or generated code in tests).</summary>
public delegate byte[][] PlanRunner(CompiledPlan plan, byte[] weights, IReadOnlyList<byte[]> inputs);

/// <summary>
/// Runs ONNX backend test cases (a folder with <c>model.onnx</c> and <c>test_data_set_*/input_*.pb</c>,
/// <c>output_*.pb</c>) through the same compiler path as a build, then the executor, and compares
/// the outputs with NumPy's <c>assert_allclose</c> tolerances used by ONNX's own backend tests.
/// </summary>
public static class ConformanceRunner
{
    /// <summary>Relative tolerance (ONNX backend test default).</summary>
    public const double RelativeTolerance = 1e-3;

    /// <summary>Absolute tolerance (ONNX backend test default).</summary>
    public const double AbsoluteTolerance = 1e-7;

    /// <summary>Diagnostics that mean "not supported" rather than "wrong".</summary>
    private static readonly HashSet<string> UnsupportedCodes =
    [
        DiagnosticCodes.UnsupportedOperator, DiagnosticCodes.NotConstant, DiagnosticCodes.UnsupportedType,
        DiagnosticCodes.UnsupportedAttribute, DiagnosticCodes.UnsupportedOpset, DiagnosticCodes.UnsupportedGraphValue,
        DiagnosticCodes.UnsupportedTensorType,
    ];

    /// <summary>The case folders under <paramref name="directory"/> (itself, if it is one), sorted.</summary>
    public static IEnumerable<string> FindCases(string directory)
    {
        if (File.Exists(Path.Combine(directory, "model.onnx")))
        {
            return [directory];
        }

        return Directory.EnumerateDirectories(directory)
            .Where(d => File.Exists(Path.Combine(d, "model.onnx")))
            .OrderBy(d => d, StringComparer.Ordinal);
    }

    /// <summary>Runs one case; <paramref name="name"/> is how it is reported. <paramref name="runner"/> defaults to the executor.</summary>
    public static ConformanceResult Run(string caseDirectory, string name, PlanRunner? runner = null)
    {
        try
        {
            return RunCore(caseDirectory, name, runner ?? ((plan, weights, inputs) => Executor.Run(plan, weights, inputs, Executor.Parallel)));
        }
        catch (CompileException e) when (UnsupportedCodes.Contains(e.Diagnostic.Code))
        {
            return new ConformanceResult(name, ConformanceStatus.Unsupported, $"test data: {e.Diagnostic.Code}: {e.Diagnostic.Describe()}", double.NaN);
        }
        catch (Exception e)
        {
            return new ConformanceResult(name, ConformanceStatus.Fail, $"{e.GetType().Name}: {e.Message}", double.NaN);
        }
    }

    private static ConformanceResult RunCore(string caseDirectory, string name, PlanRunner runner)
    {
        string modelPath = Path.Combine(caseDirectory, "model.onnx");
        var dataSets = Directory.EnumerateDirectories(caseDirectory, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (dataSets.Count == 0)
        {
            return new ConformanceResult(name, ConformanceStatus.Unsupported, "no test data sets", 0);
        }

        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        if (NonTensorInput(model) is { } reason)
        {
            return new ConformanceResult(name, ConformanceStatus.Unsupported, reason, double.NaN);
        }

        var decoder = new TensorDecoder(modelPath, null);
        double maxError = 0;
        string? compiledShapes = null;
        CompileResult? compiled = null;
        foreach (string dataSet in dataSets)
        {
            List<Tensor> inputs = ReadTensors(dataSet, "input", decoder);
            List<Tensor> expected = ReadTensors(dataSet, "output", decoder);
            if (ContradictedInputShape(model, inputs) is { } contradiction)
            {
                return new ConformanceResult(name, ConformanceStatus.Unsupported, $"test data: {contradiction}", double.NaN);
            }

            string? shapes = InputShapesFor(model, inputs);
            if (compiled is null || shapes != compiledShapes)
            {
                compiled = ModelCompiler.Compile(new CompileOptions(modelPath) { InputShapes = shapes });
                compiledShapes = shapes;
                Diagnostic? error = compiled.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
                if (error is not null)
                {
                    ConformanceStatus status = UnsupportedCodes.Contains(error.Code) ? ConformanceStatus.Unsupported : ConformanceStatus.Fail;
                    return new ConformanceResult(name, status, $"{error.Code}: {error.Describe()}", double.NaN);
                }
            }

            CompiledPlan plan = compiled.Plan!;
            if (inputs.Count != plan.Inputs.Count || expected.Count != plan.Outputs.Count)
            {
                return new ConformanceResult(name, ConformanceStatus.Fail,
                    $"the test has {inputs.Count} inputs and {expected.Count} outputs; the plan has {plan.Inputs.Count} and {plan.Outputs.Count}", double.NaN);
            }

            for (int i = 0; i < inputs.Count; i++)
            {
                PlanTensor t = plan.Tensors[plan.Inputs[i].TensorId];
                inputs[i] = AsBFloat16Bits(inputs[i], t.Type);
                if (t.Type != inputs[i].Type)
                {
                    return new ConformanceResult(name, ConformanceStatus.Fail, $"input {i} is {inputs[i].Type.ToPlanName()}, the plan expects {t.Type.ToPlanName()}", double.NaN);
                }
            }

            byte[][] actual = runner(plan, compiled.Weights!, inputs.Select(t => t.Bytes.ToArray()).ToList());
            for (int o = 0; o < expected.Count; o++)
            {
                PlanTensor t = plan.Tensors[plan.Outputs[o].TensorId];
                Tensor want = AsBFloat16Bits(expected[o], t.Type);
                if (t.Type != want.Type || !Shapes.Equal(t.Shape, want.Shape))
                {
                    return new ConformanceResult(name, ConformanceStatus.Fail,
                        $"output {o} is {t.Type.ToPlanName()}{Shapes.Format(t.Shape)}, expected {want.Type.ToPlanName()}{Shapes.Format(want.Shape)}", double.NaN);
                }

                (bool ok, double error, int index) = Compare(new Tensor(t.Type, t.Shape, actual[o]), want);
                maxError = Math.Max(maxError, error);
                if (!ok)
                {
                    return new ConformanceResult(name, ConformanceStatus.Fail,
                        $"output {o} ('{plan.Outputs[o].Name}') differs at element {index}: largest error {error.ToString("G4", CultureInfo.InvariantCulture)}", error);
                }
            }
        }

        return new ConformanceResult(name, ConformanceStatus.Pass, string.Empty, maxError);
    }

    /// <summary>
    /// Pins every graph input to the shape of its test tensor, so symbolic dimensions resolve as the test
    /// intends. Null when an input is not a tensor (sequences, optionals, maps are not supported).
    /// </summary>
    private static string? InputShapesFor(ModelProto model, List<Tensor> inputs)
    {
        var initializers = new HashSet<string>(model.Graph.Initializer.Select(i => i.Name));
        var declared = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        var parts = new List<string>();
        for (int i = 0; i < Math.Min(declared.Count, inputs.Count); i++)
        {
            string name = declared[i].Name;
            TensorShapeProto? shape = declared[i].Type?.TensorType?.Shape;
            if (name.Contains('=') || name.Contains(';') || (shape is not null && shape.Dim.Count != inputs[i].Shape.Length))
            {
                continue;
            }

            parts.Add($"{name}={string.Join(",", inputs[i].Shape)}");
        }

        return string.Join(";", parts);
    }

    /// <summary>
    /// ONNX 1.12 saved its bfloat16 test tensors as uint16 (NumPy has no bfloat16): where the model says
    /// bfloat16, such a tensor is read as the raw bfloat16 bits it holds.
    /// </summary>
    private static Tensor AsBFloat16Bits(Tensor tensor, ElementType declared)
        => declared == ElementType.BFloat16 && tensor.Type == ElementType.UInt16 ? new Tensor(ElementType.BFloat16, tensor.Shape, tensor.Bytes.ToArray()) : tensor;

    /// <summary>
    /// A test input whose shape contradicts the shape the model fixes for it (ONNX 1.12's CastLike bfloat16
    /// cases feed a [1] tensor to a [3,4] input): the case cannot be run as written; ONNX Runtime rejects it too.
    /// </summary>
    private static string? ContradictedInputShape(ModelProto model, List<Tensor> inputs)
    {
        var initializers = new HashSet<string>(model.Graph.Initializer.Select(i => i.Name));
        var declared = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        for (int i = 0; i < Math.Min(declared.Count, inputs.Count); i++)
        {
            if (declared[i].Type?.TensorType?.Shape is not { } shape)
            {
                continue;
            }

            bool fits = shape.Dim.Count == inputs[i].Shape.Length && shape.Dim.Select((d, k) =>
                d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue == inputs[i].Shape[k]).All(ok => ok);
            if (!fits)
            {
                string declaredShape = "[" + string.Join(",", shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(CultureInfo.InvariantCulture) : "?")) + "]";
                return $"input '{declared[i].Name}' has shape {Shapes.Format(inputs[i].Shape)}, but the model declares {declaredShape}";
            }
        }

        return null;
    }

    private static string? NonTensorInput(ModelProto model)
        => model.Graph?.Input.Concat(model.Graph.Output).FirstOrDefault(i => i.Type is not null && i.Type.ValueCase != TypeProto.ValueOneofCase.TensorType) is { } v
            ? $"graph value '{v.Name}' is a {v.Type.ValueCase}; only tensors are supported"
            : null;

    private static List<Tensor> ReadTensors(string dataSet, string prefix, TensorDecoder decoder)
    {
        var result = new List<Tensor>();
        for (int i = 0; ; i++)
        {
            string path = Path.Combine(dataSet, $"{prefix}_{i}.pb");
            if (!File.Exists(path))
            {
                return result;
            }

            TensorProto proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
            result.Add(decoder.Decode(proto, $"{prefix}_{i}"));
        }
    }

    /// <summary>Compares two tensors of the same type and shape: floats with the tolerances above, the rest exactly.</summary>
    public static (bool Ok, double MaxError, int FirstBad) Compare(Tensor actual, Tensor expected)
    {
        bool isFloat = expected.Type is ElementType.Float32 or ElementType.Float64 or ElementType.Float16 or ElementType.BFloat16;
        if (!isFloat)
        {
            ReadOnlySpan<byte> a = actual.Bytes, e = expected.Bytes;
            int size = expected.Type.SizeInBytes();
            for (int i = 0; i < e.Length; i += size)
            {
                if (!a.Slice(i, size).SequenceEqual(e.Slice(i, size)))
                {
                    return (false, double.PositiveInfinity, i / size);
                }
            }

            return (true, 0, -1);
        }

        double[] av = ToDoubles(actual), ev = ToDoubles(expected);

        // bfloat16 has 8 significant bits: 1e-3 is below its resolution and would demand identical bits,
        // so it is compared to within one unit of its last place (its epsilon, 2^-7).
        double relative = expected.Type == ElementType.BFloat16 ? Math.Max(RelativeTolerance, 1.0 / 128) : RelativeTolerance;
        double maxError = 0;
        int firstBad = -1;
        for (int i = 0; i < ev.Length; i++)
        {
            if (double.IsNaN(ev[i]) && double.IsNaN(av[i]))
            {
                continue;
            }

            if (ev[i] == av[i])
            {
                continue; // also equal infinities
            }

            double error = Math.Abs(av[i] - ev[i]);
            if (double.IsNaN(error))
            {
                error = double.PositiveInfinity;
            }

            maxError = Math.Max(maxError, error);
            if (error > AbsoluteTolerance + relative * Math.Abs(ev[i]) && firstBad < 0)
            {
                firstBad = i;
            }
        }

        return (firstBad < 0, maxError, firstBad);
    }

    private static double[] ToDoubles(Tensor t) => t.Type == ElementType.Float64
        ? t.Span<double>().ToArray()
        : t.ToFloats().Select(f => (double)f).ToArray();
}
