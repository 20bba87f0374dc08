using ModelSdk.Compiler.Tests.Support;
using ModelSdk.EndToEnd.Tests.Support;

namespace ModelSdk.EndToEnd.Tests;

/// <summary>
/// The quantization metadata of &lt;OnnxModel&gt; through a real build: PrepareOnnxModels validates it, the
/// compile task passes it to the compiler, and int8, fp16 and bf16 models are built, summarised in the build
/// output and run in the consumer.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class QuantizationBuildTests(PackageFeed feed)
{
    [Fact]
    public void Invalid_quantization_metadata_fails_in_the_prepare_step_with_one_error_each()
    {
        string outside = Path.Combine(feed.Root, "outside.csv");
        File.WriteAllText(outside, "1\n");
        string mlp = Path.Combine(RepositoryPaths.Fixtures, "mlp.onnx");
        string project = feed.CreateProject("QuantizeOptions", ConsumerProjectTests.Csproj("""
                <OnnxModel Include="Models/a.onnx" Quantize="int9" />
                <OnnxModel Include="Models/b.onnx" Quantize="int8" CalibrationMethod="kl" CalibrationPercentile="0" CalibrationData="../outside.csv" />
                <OnnxModel Include="Models/c.onnx" Quantize="int8" CalibrationData="Data/missing.csv" />
                <OnnxModel Include="Models/d.onnx" Quantize="INT8" />
                <OnnxModel Include="Models/e.onnx" Quantize="none" CalibrationData="Data/ignored-when-none.csv" />
                <OnnxModel Include="Models/f.onnx" CalibrationMethod="maxmin" />
            """), "System.Console.WriteLine();",
            [(mlp, "Models/a.onnx"), (mlp, "Models/b.onnx"), (mlp, "Models/c.onnx"), (mlp, "Models/d.onnx"), (mlp, "Models/e.onnx"), (mlp, "Models/f.onnx")]);

        DotNet.Result result = PackageFeed.Build(project);

        Assert.NotEqual(0, result.ExitCode);
        string output = result.Output;
        Assert.Contains("Models/a.onnx : error MSDK3001: Quantize 'int9' is not one of none, int8, fp16, bf16.", output);
        Assert.Contains("Models/b.onnx : error MSDK3001: CalibrationMethod 'kl' is not one of minmax, percentile, entropy.", output);
        Assert.Contains("Models/b.onnx : error MSDK3001: CalibrationPercentile '0' must be a number in (0, 100]", output);
        Assert.Contains("Models/b.onnx : error MSDK3002: CalibrationData '../outside.csv' lies outside the project folder", output);
        Assert.Contains("Models/c.onnx : error MSDK3002: The CalibrationData file 'Data/missing.csv' does not exist", output);
        Assert.Contains("Models/d.onnx : error MSDK3001: Quantize='int8' needs CalibrationData", output);
        Assert.DoesNotContain("Models/e.onnx : error", output);
        Assert.Contains("Models/f.onnx : error MSDK3001: CalibrationMethod 'maxmin' is not one of minmax, percentile, entropy.", output);
        Assert.DoesNotContain("MSDK2007", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void Int8_builds_a_class_that_runs_and_agrees_with_the_float_model()
    {
        string data = Path.Combine(feed.Root, "quantize-data");
        Directory.CreateDirectory(data);
        var random = new Random(7);
        File.WriteAllLines(Path.Combine(data, "calib.csv"), Enumerable.Range(0, 64).Select(_ => string.Join(",", Enumerable.Range(0, 64).Select(_ => (random.NextDouble() - 0.5).ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        string mlp = Path.Combine(RepositoryPaths.Fixtures, "mlp.onnx");
        // Both classes run the calibration rows and print how often their top-1 agrees.
        const string Program = """
            using QuantizeInt8;

            var rows = System.IO.File.ReadAllLines("Data/calib.csv");
            using var f = new FloatMlp();
            using var q = new Int8Mlp();
            int agree = 0;
            double worst = 0;
            foreach (string row in rows)
            {
                float[] x = System.Array.ConvertAll(row.Split(','), v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture));
                float[] a = f.Run(x).Y, b = q.Run(x).Y;
                agree += System.Array.IndexOf(a, System.Linq.Enumerable.Max(a)) == System.Array.IndexOf(b, System.Linq.Enumerable.Max(b)) ? 1 : 0;
                for (int i = 0; i < a.Length; i++) worst = System.Math.Max(worst, System.Math.Abs(a[i] - b[i]) / (System.Math.Abs(a[i]) + 1));
            }

            System.Console.WriteLine($"agree={agree}/{rows.Length} worst={worst:R}");
            """;
        string project = feed.CreateProject("QuantizeInt8", ConsumerProjectTests.Csproj("""
                <OnnxModel Include="Models/mlp.onnx" ClassName="FloatMlp" />
                <OnnxModel Include="Models/mlp_int8.onnx" ClassName="Int8Mlp" Quantize="int8" CalibrationData="Data/calib.csv" CalibrationMethod="percentile" CalibrationPercentile="99.9" />
                <None Include="Data/calib.csv" CopyToOutputDirectory="PreserveNewest" />
            """), Program,
            [(mlp, "Models/mlp.onnx"), (mlp, "Models/mlp_int8.onnx"), (Path.Combine(data, "calib.csv"), "Data/calib.csv")]);

        DotNet.Result result = PackageFeed.Build(project).EnsureSuccess("Build with an int8 model");

        Assert.Matches(@"modelsdk: quantized mlp_int8\.onnx to int8 \(percentile\): \d+ layers, weights [\d,]+ → [\d,]+ bytes", result.Output);
        Assert.DoesNotContain("MSDK3007", result.Output);
        string run = DotNet.Run(project, TimeSpan.FromMinutes(1), "run", "--no-build").EnsureSuccess("Run").Output;
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(run, @"agree=(\d+)/64 worst=(\S+)");
        Assert.True(m.Success, run);
        Assert.True(int.Parse(m.Groups[1].Value) >= 60, run);
        Assert.True(double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) < 0.25, run);

        // The calibration data is an input of the build: unchanged, nothing recompiles; edited, the int8
        // model (and only it) is calibrated again and gets new scales.
        string unchanged = PackageFeed.Build(project).EnsureSuccess("Build with nothing changed").Output;
        Assert.DoesNotContain("modelsdk: compiled", unchanged);
        string planPath = Directory.GetFiles(Path.Combine(project, "obj"), "*.plan", SearchOption.AllDirectories).Single(p => Path.GetFileName(p).Contains("int8", StringComparison.OrdinalIgnoreCase));
        string planBefore = File.ReadAllText(planPath);
        string calib = Path.Combine(project, "Data", "calib.csv");
        File.WriteAllLines(calib, File.ReadAllLines(calib).Select(row => string.Join(",", row.Split(',').Select(v => (3 * double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        string edited = PackageFeed.Build(project).EnsureSuccess("Build after editing the calibration data").Output;
        Assert.Contains("modelsdk: compiled mlp_int8.onnx", edited);
        Assert.DoesNotContain("modelsdk: compiled mlp.onnx", edited);
        Assert.Matches(@"modelsdk: quantized mlp_int8\.onnx to int8 \(percentile\)", edited);
        Assert.NotEqual(planBefore, File.ReadAllText(planPath));
    }

    [Fact]
    public void Fp16_and_bf16_digits_build_smaller_and_classify_like_the_float_model()
    {
        string digits = Path.Combine(RepositoryPaths.Root, "samples", "Digits", "Models", "digits.onnx");
        string test = Path.Combine(RepositoryPaths.Root, "samples", "Digits", "Data", "digits-test.csv");
        string project = feed.CreateProject("QuantizeHalf", ConsumerProjectTests.Csproj("""
                <OnnxModel Include="Models/digits.onnx" />
                <OnnxModel Include="Models/digits_fp16.onnx" Quantize="fp16" ValidationData="Data/test.csv" />
                <OnnxModel Include="Models/digits_bf16.onnx" Quantize="bf16" />
                <None Include="Data/test.csv" CopyToOutputDirectory="PreserveNewest" />
            """), """
            using System;
            using System.Globalization;
            using System.IO;
            using System.Linq;
            using QuantizeHalf;

            var rows = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "test.csv")).Skip(1)
                .Select(l => l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
            using var f32 = new Digits();
            using var f16 = new DigitsFp16();
            using var b16 = new DigitsBf16();
            int[] correct = new int[3];
            float maxDiff16 = 0, maxDiffB16 = 0;
            foreach (float[] row in rows)
            {
                float[] pixels = row[..^1];
                float[] a = f32.Run(pixels).Scores, b = f16.Run(pixels).Scores, c = b16.Run(pixels).Scores;
                int label = (int)row[^1];
                correct[0] += ArgMax(a) == label ? 1 : 0;
                correct[1] += ArgMax(b) == label ? 1 : 0;
                correct[2] += ArgMax(c) == label ? 1 : 0;
                for (int i = 0; i < a.Length; i++)
                {
                    maxDiff16 = MathF.Max(maxDiff16, MathF.Abs(a[i] - b[i]));
                    maxDiffB16 = MathF.Max(maxDiffB16, MathF.Abs(a[i] - c[i]));
                }
            }

            long Resource(string name) => typeof(Digits).Assembly.GetManifestResourceNames().Where(n => n.Contains(name + ".")).Select(n => typeof(Digits).Assembly.GetManifestResourceStream(n)!.Length).Single();
            Console.WriteLine(FormattableString.Invariant($"accuracy {correct[0]} {correct[1]} {correct[2]} of {rows.Count}"));
            Console.WriteLine(FormattableString.Invariant($"maxdiff {maxDiff16} {maxDiffB16}"));
            Console.WriteLine(FormattableString.Invariant($"resources {Resource("digits")} {Resource("digits_fp16")} {Resource("digits_bf16")}"));
            Console.WriteLine(FormattableString.Invariant($"same api {Digits.PixelsLength == DigitsFp16.PixelsLength && DigitsBf16.ScoresLength == Digits.ScoresLength}"));

            static int ArgMax(float[] v) => Array.IndexOf(v, v.Max());
            """,
            [(digits, "Models/digits.onnx"), (digits, "Models/digits_fp16.onnx"), (digits, "Models/digits_bf16.onnx"), (test, "Data/test.csv")]);

        DotNet.Result build = PackageFeed.Build(project);
        build.EnsureSuccess("Building the fp16/bf16 consumer");
        Assert.Matches(@"modelsdk: digits_fp16\.onnx: fp16: weights [\d,]+ → [\d,]+ bytes \(0\.5\d×\); max abs output error .*; accuracy \d+\.\d% float, \d+\.\d% fp16", build.Output);
        Assert.Matches(@"modelsdk: digits_bf16\.onnx: bf16: weights .*output error not measured", build.Output);

        string output = DotNet.Run(project, TimeSpan.FromMinutes(2), "run", "--no-build").EnsureSuccess("Running the fp16/bf16 consumer").Output;
        long[] accuracy = Numbers(output, "accuracy");
        Assert.True(Math.Abs(accuracy[1] - accuracy[0]) <= accuracy[3] * 0.005, output); // within 0.5 points of float
        Assert.True(Math.Abs(accuracy[2] - accuracy[0]) <= accuracy[3] * 0.01, output);
        Assert.True(accuracy[0] >= accuracy[3] * 0.95, output);
        long[] resources = Numbers(output, "resources");
        Assert.InRange((double)resources[1] / resources[0], 0.45, 0.55);
        Assert.InRange((double)resources[2] / resources[0], 0.45, 0.55);
        Assert.Contains("same api True", output);
    }

    private static long[] Numbers(string output, string label)
        => output.Split('\n').Single(l => l.StartsWith(label + " ", StringComparison.Ordinal))[(label.Length + 1)..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => long.TryParse(w, out _)).Select(long.Parse).ToArray();
}
