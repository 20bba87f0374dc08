using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace ModelSdk.Benchmarks;

/// <summary>
/// One model, run by ONNX Runtime (the baseline) and by the class ModelSdk generated from the same file, on
/// the same inputs, at 1 and 2 threads. Each side is set up only for its own benchmark, so the other side's
/// threads are not alive (or spinning) while it is measured.
/// </summary>
[MemoryDiagnoser]
public abstract class ModelBenchmark : IDisposable
{
    private InferenceSession? _session;
    private RunOptions? _runOptions;
    private OrtValue[] _ortInputs = [];
    private OrtValue[] _ortOutputs = [];
    private string[] _inputNames = [];
    private string[] _outputNames = [];

    /// <summary>Threads a run may use: ONNX Runtime's intra-op threads, the generated class's thread count.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>The ONNX file, in models/ next to the program.</summary>
    protected abstract string ModelFile { get; }

    /// <summary>The graph inputs in graph order: ONNX name, shape, and the array holding the data.</summary>
    protected abstract IReadOnlyList<(string Name, long[] Shape, Array Data)> Inputs { get; }

    /// <summary>The graph outputs in graph order: ONNX name, shape, and the array receiving the data.</summary>
    protected abstract IReadOnlyList<(string Name, long[] Shape, Array Data)> Outputs { get; }

    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetupOnnxRuntime()
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Threads,
            InterOpNumThreads = 1,
        };
        _session = new InferenceSession(Path.Combine(AppContext.BaseDirectory, "models", ModelFile), options);
        _runOptions = new RunOptions();
        _inputNames = Inputs.Select(i => i.Name).ToArray();
        _outputNames = Outputs.Select(o => o.Name).ToArray();
        _ortInputs = Inputs.Select(i => CreateOrtValue(i.Data, i.Shape)).ToArray();
        _ortOutputs = Outputs.Select(o => CreateOrtValue(o.Data, o.Shape)).ToArray();
        OnnxRuntime(); // the first run is slower (memory patterns, thread start)
    }

    [GlobalCleanup(Target = nameof(OnnxRuntime))]
    public void CleanupOnnxRuntime() => DisposeOnnxRuntime();

    /// <summary>
    /// ONNX Runtime's fastest C# path: OrtValues created once over pinned arrays, outputs preallocated,
    /// names and values passed as arrays.
    /// </summary>
    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _session!.Run(_runOptions!, _inputNames, _ortInputs, _outputNames, _ortOutputs);

    [GlobalSetup(Target = nameof(ModelSdk))]
    public void SetupModelSdk()
    {
        CreateModelSdk(Threads);
        ModelSdk();
    }

    [GlobalCleanup(Target = nameof(ModelSdk))]
    public void CleanupModelSdk() => DisposeModelSdk();

    /// <summary>The generated class's allocation-free <c>Run</c> overload, into the same output arrays.</summary>
    [Benchmark]
    public void ModelSdk() => RunModelSdk();

    /// <summary>
    /// Whether the outputs are dequantized uint8 (a QDQ model): <see cref="CompareOutputs"/> then measures the
    /// largest difference in quanta of the output (the model's <c>output_scale</c> metadata, written by ModelGen).
    /// </summary>
    protected virtual bool QuantizedOutput => false;

    /// <summary>
    /// The largest <see cref="CompareOutputs"/> result that passes <c>--check</c>: relative L2 1e-4 for float
    /// models; one quantum for QDQ models (the two sides may round a tie differently); int8 classes override it.
    /// </summary>
    public virtual double Tolerance => QuantizedOutput ? 1.001 : 1e-4;

    /// <summary>What <see cref="CompareOutputs"/> measures, for the program's report.</summary>
    public string Measure => QuantizedOutput ? "max difference in output quanta" : "relative L2 difference";

    /// <summary>Calls the generated class's span overload.</summary>
    protected abstract void RunModelSdk();

    /// <summary>Creates the generated model instance with <paramref name="threads"/> threads.</summary>
    protected abstract void CreateModelSdk(int threads);

    /// <summary>Disposes the generated model instance.</summary>
    protected abstract void DisposeModelSdk();

    /// <summary>
    /// Runs both sides once and returns the largest relative L2 difference over the outputs, so a run of
    /// the benchmarks can first check that both compute the same thing.
    /// </summary>
    public double CompareOutputs()
    {
        Threads = 1;
        SetupOnnxRuntime();
        float[][] expected = Outputs.Select(o => ((float[])o.Data).ToArray()).ToArray();
        double quantum = QuantizedOutput
            ? double.Parse(_session!.ModelMetadata.CustomMetadataMap["output_scale"], System.Globalization.CultureInfo.InvariantCulture)
            : 0;
        CleanupOnnxRuntime();
        foreach (var o in Outputs)
        {
            Array.Clear(o.Data);
        }

        SetupModelSdk();
        CleanupModelSdk();
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float[] actual = (float[])Outputs[i].Data;
            if (QuantizedOutput)
            {
                for (int j = 0; j < actual.Length; j++)
                {
                    worst = Math.Max(worst, Math.Abs(actual[j] - (double)expected[i][j]) / quantum);
                }

                continue;
            }

            double diff = 0, norm = 0;
            for (int j = 0; j < actual.Length; j++)
            {
                diff += (actual[j] - (double)expected[i][j]) * (actual[j] - (double)expected[i][j]);
                norm += (double)expected[i][j] * expected[i][j];
            }

            if (norm == 0)
            {
                return double.PositiveInfinity; // an all-zero reference proves nothing
            }

            worst = Math.Max(worst, Math.Sqrt(diff / norm));
        }

        return worst;
    }

    public void Dispose()
    {
        DisposeOnnxRuntime();
        DisposeModelSdk();
        GC.SuppressFinalize(this);
    }

    private void DisposeOnnxRuntime()
    {
        foreach (OrtValue v in _ortInputs.Concat(_ortOutputs))
        {
            v.Dispose();
        }

        _ortInputs = [];
        _ortOutputs = [];
        _runOptions?.Dispose();
        _runOptions = null;
        _session?.Dispose();
        _session = null;
    }

    private static OrtValue CreateOrtValue(Array data, long[] shape) => data switch
    {
        float[] f => OrtValue.CreateTensorValueFromMemory(f, shape),
        long[] l => OrtValue.CreateTensorValueFromMemory(l, shape),
        _ => throw new NotSupportedException(data.GetType().Name),
    };

    /// <summary>Seeded uniform values in [0, 1).</summary>
    protected static float[] UnitFloats(int count, int seed) => RandomFloats(count, seed).Select(v => (v + 1) / 2).ToArray();

    /// <summary>Seeded uniform values in [-1, 1).</summary>
    protected static float[] RandomFloats(int count, int seed)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        return values;
    }
}
