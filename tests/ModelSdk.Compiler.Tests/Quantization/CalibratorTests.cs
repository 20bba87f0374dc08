using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Quantization;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Quantization;

/// <summary>Calibration runs the float model through the executor and observes every requested tensor.</summary>
public sealed class CalibratorTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "modelsdk-calibrator-tests", Guid.NewGuid().ToString("N"));

    public CalibratorTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Intermediate_tensors_are_observed_even_where_the_memory_plan_reuses_their_space()
    {
        // h3 outlives h1, so a reusing plan puts h3 where h1 was: observing after the run would see -6x for h1.
        (Graph graph, string model) = Chain(2f, -1f, 3f, 0.5f);
        float[][] rows = RandomRows(12, 4, seed: 1);
        string csv = Csv("calib.csv", rows);

        IReadOnlyList<string> tensors = Calibrator.DefaultTensors(graph, []);
        CalibrationResult result = Calibrate(graph, model, csv, tensors, out List<Diagnostic> warnings);

        Assert.Equal(["x", "h1", "h2", "h3", "y"], tensors);
        Assert.Empty(warnings);
        Assert.Equal(12, result.Samples);
        float lo = rows.SelectMany(r => r).Min(), hi = rows.SelectMany(r => r).Max();
        Assert.Equal(new CalibrationRange(lo, hi), result.Tensors["x"].MinMax);
        Assert.Equal(new CalibrationRange(2 * lo, 2 * hi), result.Tensors["h1"].MinMax);
        Assert.Equal(new CalibrationRange(-2 * hi, -2 * lo), result.Tensors["h2"].MinMax);
        Assert.Equal(new CalibrationRange(-6 * hi, -6 * lo), result.Tensors["h3"].MinMax);
        Assert.Equal(new CalibrationRange(-3 * hi, -3 * lo), result.Tensors["y"].MinMax);
        Assert.Equal(12 * 4, result.Tensors["h1"].Count);
        Assert.Equal(12 * 4, result.Tensors["h1"].Histogram.Total);
        Assert.Equal(result.Tensors["h2"].MinMax, result.Range("h2"));
    }

    [Fact]
    public void Calibration_is_identical_from_run_to_run()
    {
        (Graph graph, string model) = Chain(2f, -1f, 3f, 0.5f);
        string csv = Csv("calib.csv", RandomRows(40, 4, seed: 2));
        var settings = new CalibrationSettings(CalibrationMethod.Entropy);

        CalibrationResult a = Calibrate(graph, model, csv, Calibrator.DefaultTensors(graph, []), out _, settings);
        CalibrationResult b = Calibrate(graph, model, csv, Calibrator.DefaultTensors(graph, []), out _, settings);

        foreach (string name in a.Tensors.Keys)
        {
            Assert.Equal(a.Tensors[name].Histogram.Counts, b.Tensors[name].Histogram.Counts);
            Assert.Equal(a.Tensors[name] with { Histogram = null! }, b.Tensors[name] with { Histogram = null! });
            Assert.Equal(a.Tensors[name].Entropy, a.Range(name));
        }
    }

    [Fact]
    public void Excluded_nodes_and_tensors_are_not_requested_and_unknown_tensors_are_skipped_with_a_reason()
    {
        (Graph graph, string model) = Chain(2f, -1f, 3f, 0.5f);
        string csv = Csv("calib.csv", RandomRows(8, 4, seed: 3));

        Assert.Equal(["x", "h1", "h2"], Calibrator.DefaultTensors(graph, ["m2", "m3", "h3"]));

        CalibrationResult result = Calibrate(graph, model, csv, ["h2", "ghost"], out _);
        Assert.Equal(["h2"], result.Tensors.Keys);
        Assert.Equal("ghost", Assert.Single(result.Skipped).Name);
        Assert.Contains("not computed at run time", result.Skipped[0].Reason);
    }

    [Fact]
    public void Fewer_than_eight_samples_warn_and_none_is_an_error()
    {
        (Graph graph, string model) = Chain(2f, -1f, 3f, 0.5f);

        Calibrate(graph, model, Csv("few.csv", RandomRows(3, 4, seed: 4)), ["h1"], out List<Diagnostic> warnings);
        Diagnostic warning = Assert.Single(warnings);
        Assert.Equal((DiagnosticCodes.CalibrationTooFewSamples, DiagnosticSeverity.Warning), (warning.Code, warning.Severity));
        Assert.Contains("holds 3 samples", warning.Message);

        string headerOnly = Path.Combine(_dir, "header.csv");
        File.WriteAllText(headerOnly, "a,b,c,d\n");
        Diagnostic error = Assert.Throws<CompileException>(() => Calibrate(graph, model, headerOnly, ["h1"], out _)).Diagnostic;
        Assert.Equal((DiagnosticCodes.CalibrationTooFewSamples, DiagnosticSeverity.Error), (error.Code, error.Severity));
    }

    [Fact]
    public void Tensors_of_a_branch_that_did_not_run_are_not_counted()
    {
        // y = If(c) then x·2 else x·(−3): with c always true, only the then-branch tensor is observed.
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 2);
        string c = b.Input("c", ElementType.Bool);
        var thenGraph = new OnnxModelBuilder();
        thenGraph.NodeWithOutputs("Mul", [x, thenGraph.Initializer("two", [1], [2f])], ["then_y"]);
        thenGraph.Output("then_y");
        var elseGraph = new OnnxModelBuilder();
        elseGraph.NodeWithOutputs("Mul", [x, elseGraph.Initializer("minus3", [1], [-3f])], ["else_y"]);
        elseGraph.Output("else_y");
        var thenProto = thenGraph.Subgraph("then");
        var elseProto = elseGraph.Subgraph("else");
        string y = b.Node("If", [c], ("then_branch", thenProto), ("else_branch", elseProto));
        b.Output(y, ElementType.Float32, 1, 2);
        string model = Path.Combine(_dir, "if.onnx");
        File.WriteAllBytes(model, b.Build());
        AnalysisResult analysis = ModelCompiler.Analyze(new CompileOptions(model));
        Assert.True(analysis.Succeeded, string.Join("\n", analysis.Diagnostics));
        string xs = Path.Combine(_dir, "x.csv"), cs = Path.Combine(_dir, "c.csv");
        File.WriteAllText(xs, "1,2\n3,-4\n");
        File.WriteAllText(cs, "1\ntrue\n");
        var data = SampleDataSet.Open($"x={xs};c={cs}", DataInput.Of(analysis.Graph!), "CalibrationData", false, model);

        CalibrationResult result = Calibrator.Run(analysis.Graph!, data, ["then_y", "else_y", y], new CalibrationSettings(), model, new List<Diagnostic>());

        Assert.Equal(new CalibrationRange(-8, 6), result.Tensors[y].MinMax);
        Assert.Equal(new CalibrationRange(-8, 6), result.Tensors["then_y"].MinMax);
        Assert.Equal(0, result.Tensors["else_y"].Count);
        Assert.Equal(new CalibrationRange(0, 0), result.Tensors["else_y"].MinMax);
    }

    private (Graph Graph, string Model) Chain(params float[] factors)
    {
        // x[1,4] → MatMul(f0·I) → h1 → MatMul(f1·I) → h2 → … → y
        var b = new OnnxModelBuilder();
        string current = b.Input("x", ElementType.Float32, 1, 4);
        for (int i = 0; i < factors.Length; i++)
        {
            var w = new float[16];
            for (int d = 0; d < 4; d++)
            {
                w[d * 5] = factors[i];
            }

            string weight = b.Initializer($"w{i}", [4, 4], w);
            string output = i == factors.Length - 1 ? "y" : $"h{i + 1}";
            b.RawNode("MatMul", [current, weight], [output], name: $"m{i}");
            current = output;
        }

        b.Output("y", ElementType.Float32, 1, 4);
        string model = Path.Combine(_dir, "chain.onnx");
        File.WriteAllBytes(model, b.Build());
        AnalysisResult analysis = ModelCompiler.Analyze(new CompileOptions(model));
        Assert.True(analysis.Succeeded, string.Join("\n", analysis.Diagnostics));
        return (analysis.Graph!, model);
    }

    private static CalibrationResult Calibrate(Graph graph, string model, string csv, IReadOnlyList<string> tensors, out List<Diagnostic> warnings, CalibrationSettings? settings = null)
    {
        warnings = [];
        var data = SampleDataSet.Open(csv, DataInput.Of(graph), "CalibrationData", false, model);
        return Calibrator.Run(graph, data, tensors, settings ?? new CalibrationSettings(), model, warnings);
    }

    private string Csv(string name, float[][] rows)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, rows.Select(r => string.Join(",", r.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        return path;
    }

    private static float[][] RandomRows(int count, int width, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() * 10 - 4)).ToArray()).ToArray();
    }
}
