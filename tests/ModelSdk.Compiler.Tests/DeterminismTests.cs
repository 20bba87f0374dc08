using ModelSdk.Compiler.Tests.Support;

namespace ModelSdk.Compiler.Tests;

/// <summary>The same inputs give byte-identical plans, weights and reports, wherever the model sits.</summary>
public class DeterminismTests
{
    [Theory]
    [InlineData("cnn_bn.onnx")]
    [InlineData("two_inputs.onnx")]
    [InlineData("lenet.onnx")]
    public void Compiling_twice_from_two_folders_gives_identical_outputs(string model)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(RepositoryPaths.Fixtures, model));
        CompileResult first = ModelRunner.Compile(bytes);
        CompileResult second = ModelRunner.Compile(bytes);

        Assert.Equal(first.PlanText, second.PlanText);
        Assert.Equal(first.WeightsBlob(), second.WeightsBlob());
        Assert.Equal(first.Report, second.Report);
        Assert.DoesNotContain(Path.GetTempPath(), first.PlanText + first.Report);
    }
}
