using ModelSdk.Cli;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Cli.Tests;

/// <summary>
/// <c>modelsdk compile --quantize …</c> as the build runs it: options and data are checked, calibration
/// runs, int8 rewrites the model and fp16/bf16 narrow its weights, and each prints a summary line.
/// </summary>
public sealed class QuantizeCompileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "modelsdk-cli-quantize-tests", Guid.NewGuid().ToString("N"));
    private readonly string _model;

    public QuantizeCompileTests()
    {
        Directory.CreateDirectory(_dir);
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 3);
        string w = b.Initializer("w", [3, 2], [1, -1, 0.5f, 2, -2, 0]);
        b.Output(b.Node("Relu", [b.Node("MatMul", [x, w])]), ElementType.Float32);
        _model = Path.Combine(_dir, "small.onnx");
        File.WriteAllBytes(_model, b.Build());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Int8_compiles_an_integer_plan_and_prints_the_quantization_summary()
    {
        string csv = Write("calib.csv", "a,b,c\n" + string.Join("\n", Enumerable.Range(0, 10).Select(i => $"{i},{-i},{i * 0.5}")));

        (int code, string output) = Compile("--quantize", "int8", "--calibration-data", csv, "--calibration-method", "entropy");

        Assert.Equal(CommandLine.Ok, code);
        Assert.DoesNotContain("warning", output);
        Assert.DoesNotContain("error", output);
        Assert.Contains("modelsdk: compiled small.onnx", output);
        Assert.Contains("modelsdk: quantized small.onnx to int8 (entropy): 1 layers, weights 24 → ", output);
        Assert.Contains($"over 10 calibration samples; details in {Path.Combine(_dir, "m.report.md")}", output);
        string plan = File.ReadAllText(Path.Combine(_dir, "m.plan"));
        Assert.Contains("step QuantizedMatMul<uint8,float32>", plan);
        Assert.DoesNotContain("step Gemm", plan);
        string report = File.ReadAllText(Path.Combine(_dir, "m.report.md"));
        Assert.Contains("## Quantization: int8", report);
        Assert.Contains("- Calibration: `entropy` over 10 samples.", report);
        Assert.Contains(csv, File.ReadAllText(Path.Combine(_dir, "m.deps")));
    }

    [Fact]
    public void Data_errors_come_first_with_their_own_codes()
    {
        string badRow = Write("bad.csv", "1,2,3\n4,5\n");
        (int code, string output) = Compile("--quantize", "int8", "--calibration-data", badRow);
        Assert.Equal(CommandLine.Failed, code);
        Assert.Contains($"{badRow} : error MSDK3003 : '{badRow}' line 2 has 2 values; input 'x' (float32[1,3]) needs 3 values per row", output);
        Assert.DoesNotContain("MSDK3007", output);

        string badValue = Write("nan.csv", "1,2,3\n4,x5,6\n");
        Assert.Contains($"{badValue} : error MSDK3004 : '{badValue}' line 2, column 2: 'x5' is not a number.", Compile("--quantize", "int8", "--calibration-data", badValue).Output);

        string missing = Path.Combine(_dir, "missing.csv");
        Assert.Contains($"{missing} : error MSDK3002 : ", Compile("--quantize", "int8", "--calibration-data", missing).Output);
        Assert.Contains("error MSDK3006 : CalibrationData names 'y'", Compile("--quantize", "int8", "--calibration-data", $"y={badRow}").Output);
        Assert.Contains("error MSDK3001 : Quantize='int8' needs CalibrationData", Compile("--quantize", "int8").Output);
    }

    [Fact]
    public void Few_samples_and_unknown_exclusions_warn_before_the_error()
    {
        string csv = Write("few.csv", "1,2,3\n4,5,6\n");

        (int code, string output) = Compile("--quantize", "int8", "--calibration-data", csv, "--quantize-exclude", "nothing_by_this_name");

        Assert.Equal(CommandLine.Ok, code);
        Assert.Contains($"{_model} : warning MSDK3005 : the calibration data ('{csv}') holds 2 samples", output);
        Assert.Contains("warning MSDK3001 : QuantizeExclude names 'nothing_by_this_name'", output);
        Assert.Contains("modelsdk: quantized small.onnx to int8", output);
    }

    [Fact]
    public void Validation_data_is_checked_too()
    {
        string csv = Write("calib.csv", string.Join("\n", Enumerable.Range(0, 8).Select(i => $"{i},1,2")));
        string validation = Write("val.csv", "1,2,3,0\n1,2,3\n");

        string output = Compile("--quantize", "int8", "--calibration-data", csv, "--validation-data", validation).Output;

        Assert.Contains($"{validation} : error MSDK3003 : '{validation}' line 2 has 3 values; input 'x' (float32[1,3]) needs 3 values and a label per row", output);
    }

    [Theory]
    [InlineData("fp16", "float16")]
    [InlineData("bf16", "bfloat16")]
    public void Half_precision_stores_the_weights_at_half_size_and_reports_the_error(string mode, string stored)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 16);
        var random = new Random(5);
        string w = b.Initializer("w", [16, 8], Enumerable.Range(0, 128).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
        b.Output(b.Node("MatMul", [x, w]), ElementType.Float32);
        string model = Path.Combine(_dir, "wide.onnx");
        File.WriteAllBytes(model, b.Build());
        string csv = Write("calib.csv", string.Join("\n", Enumerable.Range(0, 10).Select(i => string.Join(",", Enumerable.Range(0, 16).Select(j => (i - j) * 0.25)))));

        (int code, string output) = CompileModel(model, "--quantize", mode, "--calibration-data", csv);

        Assert.Equal(CommandLine.Ok, code);
        Assert.Contains("modelsdk: compiled wide.onnx", output);
        var line = System.Text.RegularExpressions.Regex.Match(output,
            $@"modelsdk: wide\.onnx: {mode}: weights (\d+),(\d+) → (\d+) bytes \(0\.50×\); max abs output error \d\.\d\de-0\d, top-1 agreement \d+\.\d% over 10 samples of CalibrationData");
        Assert.True(line.Success, output);
        int before = int.Parse(line.Groups[1].Value + line.Groups[2].Value), after = int.Parse(line.Groups[3].Value);
        Assert.Equal(before / 2, after);
        Assert.DoesNotContain("MSDK", output);
        Assert.Contains($"stored={stored}@", File.ReadAllText(Path.Combine(_dir, "m.plan")));
        Assert.Equal(64 + after, new FileInfo(Path.Combine(_dir, "m.weights")).Length);
        Assert.Contains($"## Quantization: {mode}", File.ReadAllText(Path.Combine(_dir, "m.report.md")));
    }

    [Fact]
    public void Invalid_option_values_are_msdk3001_on_the_model()
    {
        (int code, string output) = Compile("--quantize", "int4", "--calibration-method", "kl", "--calibration-percentile", "100.5");

        Assert.Equal(CommandLine.Failed, code);
        Assert.Contains($"{_model} : error MSDK3001 : Quantize 'int4' is not one of none, int8, fp16, bf16.", output);
        Assert.Contains("error MSDK3001 : CalibrationMethod 'kl' is not one of minmax, percentile, entropy.", output);
        Assert.Contains("error MSDK3001 : CalibrationPercentile '100.5' must be a number in (0, 100]", output);
    }

    [Fact]
    public void A_model_with_nothing_to_quantize_warns()
    {
        var b = new OnnxModelBuilder();
        b.Output(b.Node("Relu", [b.Input("x", ElementType.Float32, 1, 3)]), ElementType.Float32);
        string relu = Path.Combine(_dir, "relu.onnx");
        File.WriteAllBytes(relu, b.Build());
        string csv = Write("calib.csv", string.Join("\n", Enumerable.Range(0, 8).Select(i => $"{i},1,2")));

        string int8 = CompileModel(relu, "--quantize", "int8", "--calibration-data", csv).Output;
        string fp16 = CompileModel(relu, "--quantize", "fp16").Output;

        Assert.Contains($"{relu} : warning MSDK3008 : Quantize='int8' was requested, but the model has no float32 Conv, Gemm or MatMul", int8);
        Assert.Contains("modelsdk: quantized relu.onnx to int8 (minmax): 0 layers", int8);
        Assert.Contains($"{relu} : warning MSDK3008 : Quantize='fp16' was requested, but the model has no float32 weights", fp16);
        Assert.DoesNotContain("MSDK3008", Compile("--quantize", "fp16").Output);
    }

    [Fact]
    public void Quantize_none_compiles_as_before()
    {
        (int code, string output) = Compile("--quantize", "none", "--calibration-data", Path.Combine(_dir, "ignored.csv"));
        Assert.Equal(CommandLine.Ok, code);
        Assert.Contains("modelsdk: compiled small.onnx", output);
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private (int Code, string Output) Compile(params string[] options) => CompileModel(_model, options);

    private (int Code, string Output) CompileModel(string model, params string[] options)
    {
        string[] args =
        [
            "compile", "--model", model, "--plan", Path.Combine(_dir, "m.plan"), "--weights", Path.Combine(_dir, "m.weights"),
            "--report", Path.Combine(_dir, "m.report.md"), "--deps", Path.Combine(_dir, "m.deps"), .. options,
        ];
        var writer = new StringWriter();
        int code = CommandLine.Run(args, writer, writer);
        return (code, writer.ToString().Replace("\r\n", "\n"));
    }
}
