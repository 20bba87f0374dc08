using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Operators;

public class BatchNormalizationTests
{
    [Theory]
    [InlineData(7, new[] { 2, 3, 4, 5 })]
    [InlineData(9, new[] { 2, 3, 4, 5 })]
    [InlineData(14, new[] { 4, 6 })]
    [InlineData(15, new[] { 1, 2, 3, 4, 5 })]
    [InlineData(15, new[] { 3, 5, 17 })]
    public void Constant_parameters_fold_into_one_affine_step(int opset, int[] shape)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, shape.Select(d => (int?)d).ToArray());
        string[] parameters = Parameters(shape[1]).Select(p => b.Initializer(p.Name, p.Value)).ToArray();
        b.Output(b.Node("BatchNormalization", [x, .. parameters], ("epsilon", 1e-3f)));
        byte[] model = b.Build();

        PlanStep step = Assert.Single(ModelRunner.Compile(model).Plan!.Steps);
        Assert.Equal("ChannelAffine", step.Kernel);
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random(shape, 1, -2, 2))]);
    }

    [Fact]
    public void Runtime_parameters_match_onnxruntime()
    {
        int[] shape = [2, 4, 3, 3];
        var b = new OnnxModelBuilder(15);
        string x = b.Input("x", ElementType.Float32, 2, 4, 3, 3);
        (string Name, Tensor Value)[] parameters = Parameters(shape[1]);
        foreach ((string name, _) in parameters)
        {
            b.Input(name, ElementType.Float32, shape[1]);
        }

        b.Output(b.Node("BatchNormalization", [x, .. parameters.Select(p => p.Name)]));

        OrtAgreement.AssertMatches(b.Build(), [("x", TensorAssert.Random(shape, 1, -2, 2)), .. parameters]);
    }

    [Fact]
    public void Per_activation_statistics_are_MSDK2006()
    {
        var b = new OnnxModelBuilder(7);
        string x = b.Input("x", ElementType.Float32, 2, 3);
        string[] parameters = Parameters(3).Select(p => b.Initializer(p.Name, p.Value)).ToArray();
        b.Output(b.Node("BatchNormalization", [x, .. parameters], ("spatial", 0)));

        Assert.Equal(DiagnosticCodes.UnsupportedAttribute, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Training_mode_is_MSDK2006()
    {
        var b = new OnnxModelBuilder(15);
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string[] parameters = Parameters(3).Select(p => b.Initializer(p.Name, p.Value)).ToArray();
        b.Output(b.Node("BatchNormalization", [x, .. parameters], ("training_mode", 1)));

        Diagnostic error = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.UnsupportedAttribute, error.Code);
        Assert.Contains("training", error.Message);
    }

    [Fact]
    public void Training_statistics_outputs_are_MSDK2006()
    {
        var b = new OnnxModelBuilder(9);
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string[] parameters = Parameters(3).Select(p => b.Initializer(p.Name, p.Value)).ToArray();
        string[] outputs = b.NodeMulti("BatchNormalization", [x, .. parameters], 3);
        b.Output(outputs[0]);
        b.Output(outputs[1]);

        Assert.Equal(DiagnosticCodes.UnsupportedAttribute, ModelRunner.CompileError(b.Build()).Code);
    }

    [Fact]
    public void Parameters_of_the_wrong_length_are_MSDK2003()
    {
        var b = new OnnxModelBuilder(15);
        string x = b.Input("x", ElementType.Float32, 2, 3, 4);
        string[] parameters = Parameters(4).Select(p => b.Initializer(p.Name, p.Value)).ToArray();
        b.Output(b.Node("BatchNormalization", [x, .. parameters]));

        Assert.Equal(DiagnosticCodes.ShapeMismatch, ModelRunner.CompileError(b.Build()).Code);
    }

    /// <summary>scale, B, mean and a positive variance for <paramref name="channels"/> channels.</summary>
    private static (string Name, Tensor Value)[] Parameters(int channels) =>
    [
        ("scale", TensorAssert.Random([channels], 2, 0.5f, 2)),
        ("bias", TensorAssert.Random([channels], 3)),
        ("mean", TensorAssert.Random([channels], 4)),
        ("var", TensorAssert.Random([channels], 5, 0.1f, 2)),
    ];
}
