namespace ModelSdk.Generators.Tests;

public class NamingTests
{
    [Theory]
    [InlineData("input.1", "Input1")]
    [InlineData("save_infer_model/scale_0.tmp_1", "SaveInferModelScale0Tmp1")]
    [InlineData("scores", "Scores")]
    [InlineData("1x", "_1x")]
    [InlineData("class", "Class")]
    [InlineData("conv1_W", "Conv1W")]
    [InlineData("...", "Tensor")]
    [InlineData("données:0", "Données0")]
    public void Members_are_pascal_case(string onnx, string member) => Assert.Equal(member, Naming.ToPascal(onnx));

    [Theory]
    [InlineData("input.1", "input1")]
    [InlineData("Scores", "scores")]
    [InlineData("1x", "_1x")]
    [InlineData("class", "class")]
    public void Parameters_are_camel_case(string onnx, string parameter) => Assert.Equal(parameter, Naming.ToCamel(onnx));

    [Theory]
    [InlineData("class", "@class")]
    [InlineData("int", "@int")]
    [InlineData("value", "value")]
    [InlineData("input", "input")]
    public void Keywords_are_escaped(string identifier, string escaped) => Assert.Equal(escaped, Naming.EscapeKeyword(identifier));

    [Fact]
    public void Collisions_get_numbered_suffixes_in_order()
    {
        var taken = new HashSet<string> { "Run" };
        Assert.Equal("Input1", Naming.Unique("Input1", taken, "Shape", "Length"));
        Assert.Equal("Input1_2", Naming.Unique("Input1", taken, "Shape", "Length"));
        Assert.Equal("Run_2", Naming.Unique("Run", taken, "Shape", "Length"));
        Assert.Equal("Input1_3", Naming.Unique("Input1", taken, "Shape", "Length"));
    }

    [Fact]
    public void A_name_whose_derived_member_is_taken_is_renamed()
    {
        var taken = new HashSet<string>();
        Naming.Unique("X", taken, "Shape", "Length"); // takes X, XShape, XLength
        Assert.Equal("XShape_2", Naming.Unique("XShape", taken, "Shape", "Length"));
    }
}
