using System.Runtime.InteropServices;
using Google.Protobuf;
using ModelSdk.Cli;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.Cli.Tests;

public class CommandLineTests
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "modelsdk-cli-tests", Guid.NewGuid().ToString("N"));

    public CommandLineTests() => Directory.CreateDirectory(_dir);

    [Fact]
    public void Inspect_prints_the_model()
    {
        (int code, string output) = Run("inspect", Path.Combine(RepositoryPaths.Fixtures, "cnn_bn.onnx"));

        Assert.Equal(0, code);
        Assert.Contains("image  float32[1,3,16,16]", output);
        Assert.Contains("logits  float32[1,5]", output);
        Assert.Matches(@"BatchNormalization\s+1", output);
        Assert.Matches(@"Conv\s+2", output);
        Assert.Matches(@"Parameters: [\d,]+", output);
        Assert.Matches(@"MACs: [1-9][\d,]+", output);
    }

    [Fact]
    public void Inspect_rejects_what_the_build_rejects_with_the_same_diagnostic()
    {
        string path = Path.Combine(_dir, "broken.onnx");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

        (int code, string output) = Run("inspect", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path} : error MSDK1003 : ", output);
    }

    [Fact]
    public void Run_writes_raw_outputs()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 2, 3);
        b.Output(b.Node("Relu", [x]), ElementType.Float32);
        string model = Path.Combine(_dir, "relu.onnx");
        File.WriteAllBytes(model, b.Build());
        string input = Path.Combine(_dir, "x.bin");
        File.WriteAllBytes(input, MemoryMarshal.AsBytes(new float[] { -1, 2, -3, 4, -5, 6 }.AsSpan()).ToArray());

        (int code, string output) = Run("run", model, "--input", $"x={input}", "--output", Path.Combine(_dir, "out"));

        Assert.Equal(0, code);
        string result = Directory.GetFiles(Path.Combine(_dir, "out")).Single();
        Assert.Equal([0, 2, 0, 4, 0, 6], MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(result)).ToArray());
        Assert.Contains("float32[2,3]", output);
    }

    [Fact]
    public void Run_reports_a_wrongly_sized_input()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 4);
        b.Output(b.Node("Relu", [x]), ElementType.Float32);
        string model = Path.Combine(_dir, "relu.onnx");
        File.WriteAllBytes(model, b.Build());
        File.WriteAllBytes(Path.Combine(_dir, "x.bin"), new byte[3]);

        (int code, string output) = Run("run", model, "--input", $"x={Path.Combine(_dir, "x.bin")}", "--output", _dir);

        Assert.Equal(2, code);
        Assert.Contains("needs 16", output);
    }

    [Fact]
    public void Conformance_prints_one_line_per_case_and_the_totals()
    {
        WriteCase("good", new float[] { -1, 2 }, expected: [0, 2]);
        WriteCase("bad", new float[] { -1, 2 }, expected: [0, 3]);
        WriteCase("custom", new float[] { 1 }, expected: [1], op: "NoSuchOp");

        (int code, string output) = Run("conformance", Path.Combine(_dir, "cases"));

        Assert.Equal(1, code);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("PASS cases/good", lines);
        Assert.Contains(lines, l => l.StartsWith("FAIL cases/bad: ", StringComparison.Ordinal) && l.Contains("largest error 1"));
        Assert.Contains(lines, l => l.StartsWith("UNSUPPORTED cases/custom: MSDK2001", StringComparison.Ordinal));
        Assert.Equal("1 passed, 1 failed, 1 unsupported", lines[^1]);
    }

    [Fact]
    public void Conformance_exits_zero_when_nothing_failed()
    {
        WriteCase("good", new float[] { -1, 2 }, expected: [0, 2]);
        (int code, string output) = Run("conformance", Path.Combine(_dir, "cases"));
        Assert.Equal(0, code);
        Assert.EndsWith("1 passed, 0 failed, 0 unsupported", output.Trim());
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("run")]
    [InlineData("inspect")]
    public void Usage_errors_exit_with_two(string verb)
    {
        (int code, string output) = Run(verb);
        Assert.Equal(2, code);
        Assert.Contains("modelsdk --help", output);
    }

    private (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        int code = CommandLine.Run(args, writer, writer);
        return (code, writer.ToString().Replace("\r\n", "\n"));
    }

    private void WriteCase(string name, float[] input, float[] expected, string op = "Relu")
    {
        string dir = Path.Combine(_dir, "cases", name);
        Directory.CreateDirectory(Path.Combine(dir, "test_data_set_0"));
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, input.Length);
        b.Output(b.Node(op, [x]), ElementType.Float32);
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), b.Build());
        File.WriteAllBytes(Path.Combine(dir, "test_data_set_0", "input_0.pb"), OnnxModelBuilder.ToProto("x", Tensor.FromFloats([input.Length], input)).ToByteArray());
        File.WriteAllBytes(Path.Combine(dir, "test_data_set_0", "output_0.pb"), OnnxModelBuilder.ToProto("y", Tensor.FromFloats([expected.Length], expected)).ToByteArray());
    }
}
