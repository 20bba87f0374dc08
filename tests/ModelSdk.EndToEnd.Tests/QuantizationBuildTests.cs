using ModelSdk.Compiler.Tests.Support;
using ModelSdk.EndToEnd.Tests.Support;

namespace ModelSdk.EndToEnd.Tests;

/// <summary>
/// The quantization metadata of &lt;OnnxModel&gt; through a real build: PrepareOnnxModels validates it, the
/// compile task passes it to the compiler, and the build fails honestly (MSDK3007) while the rewrite does not exist.
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
    public void Int8_with_calibration_data_reaches_the_compiler_which_checks_the_data_and_stops_with_msdk3007()
    {
        string data = Path.Combine(feed.Root, "quantize-data");
        Directory.CreateDirectory(data);
        var random = new Random(7);
        File.WriteAllLines(Path.Combine(data, "calib.csv"), Enumerable.Range(0, 3).Select(_ => string.Join(",", Enumerable.Range(0, 64).Select(_ => (random.NextDouble() - 0.5).ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        string project = feed.CreateProject("QuantizeInt8", ConsumerProjectTests.Csproj("""
                <OnnxModel Include="Models/mlp.onnx" Quantize="int8" CalibrationData="Data/calib.csv" CalibrationMethod="percentile" CalibrationPercentile="99.9" />
            """), "System.Console.WriteLine();",
            [(Path.Combine(RepositoryPaths.Fixtures, "mlp.onnx"), "Models/mlp.onnx"), (Path.Combine(data, "calib.csv"), "Data/calib.csv")]);

        DotNet.Result result = PackageFeed.Build(project);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Matches(@"mlp\.onnx : warning MSDK3005: the calibration data \('[^']*Data[/\\]calib\.csv'\) holds 3 samples", result.Output);
        Assert.Matches(@"mlp\.onnx : error MSDK3007: Quantize='int8' is not available yet: .* \(3 samples; \d+ tensors calibrated with percentile\)", result.Output);
        Assert.DoesNotContain("   at ", result.Output);
    }
}
