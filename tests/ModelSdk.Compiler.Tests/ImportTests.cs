using Google.Protobuf;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests;

/// <summary>Hostile and broken models: each gets its own diagnostic, naming the file and the node or tensor at fault.</summary>
public class ImportTests
{
    private static byte[] ValidModel()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 1, 64);
        string w = b.Initializer("w", TensorAssert.Random([64, 64], 7));
        b.Output(b.Node("Relu", [b.Node("Add", [x, w])]), ElementType.Float32);
        return b.Build();
    }

    [Fact]
    public void Empty_file()
    {
        Diagnostic d = ModelRunner.CompileError([]);
        Assert.Equal(DiagnosticCodes.EmptyModel, d.Code);
        Assert.EndsWith("model.onnx", d.File);
    }

    [Fact]
    public void Missing_file()
    {
        CompileResult r = ModelCompiler.Compile(new CompileOptions("/nonexistent/dir/model.onnx"));
        Assert.Equal(DiagnosticCodes.ModelNotFound, Assert.Single(r.Diagnostics).Code);
    }

    [Fact]
    public void Random_bytes()
    {
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);
        Diagnostic d = ModelRunner.CompileError(bytes);
        Assert.Contains(d.Code, new[] { DiagnosticCodes.MalformedModel, DiagnosticCodes.NoGraph });
    }

    [Fact]
    public void Truncated_model()
    {
        byte[] model = ValidModel();
        Diagnostic d = ModelRunner.CompileError(model[..(model.Length / 2)]);
        Assert.Equal(DiagnosticCodes.MalformedModel, d.Code);
        Assert.Contains("not a valid ONNX model", d.Message);
    }

    [Fact]
    public void Unknown_operator_names_the_operator_and_node()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 4);
        b.Output(b.Node("FrobnicateV2", [x]));
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.UnsupportedOperator, d.Code);
        Assert.Equal("FrobnicateV2_0", d.Node);
        Assert.Contains("'FrobnicateV2'", d.Message);
    }

    [Fact]
    public void Operator_from_another_domain_is_unsupported()
    {
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 4);
        b.RawNode("FusedGemm", ["x"], ["y"], "fg", "com.microsoft");
        b.Output("y");
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.UnsupportedOperator, d.Code);
        Assert.Contains("com.microsoft.FusedGemm", d.Message);
    }

    [Fact]
    public void Node_reading_an_undefined_tensor()
    {
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 4);
        b.RawNode("Add", ["x", "ghost"], ["y"], "adder");
        b.Output("y");
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.UndefinedTensor, d.Code);
        Assert.Equal("adder", d.Node);
        Assert.Equal("ghost", d.Tensor);
    }

    [Fact]
    public void Cyclic_graph()
    {
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 4);
        b.RawNode("Add", ["x", "c"], ["a"], "first");
        b.RawNode("Relu", ["a"], ["b"], "second");
        b.RawNode("Relu", ["b"], ["c"], "third");
        b.Output("b");
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.CyclicGraph, d.Code);
        Assert.Contains(d.Node, new[] { "first", "second", "third" });
    }

    [Fact]
    public void Tensor_defined_twice()
    {
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 4);
        b.RawNode("Relu", ["x"], ["y"], "one");
        b.RawNode("Neg", ["x"], ["y"], "two");
        b.Output("y");
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.DuplicateTensor, d.Code);
        Assert.Equal("y", d.Tensor);
    }

    [Fact]
    public void Initializer_whose_data_does_not_match_its_shape()
    {
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 4);
        b.Output(b.Node("Add", ["x", "w"]));
        ModelProto model = b.Model();
        var w = new TensorProto { Name = "w", DataType = 1, RawData = ByteString.CopyFrom(new byte[12]) };
        w.Dims.Add(4);
        model.Graph.Initializer.Add(w);
        Diagnostic d = ModelRunner.CompileError(model.ToByteArray());
        Assert.Equal(DiagnosticCodes.TensorDataMismatch, d.Code);
        Assert.Equal("w", d.Tensor);
        Assert.Contains("12 bytes", d.Message);
    }

    [Fact]
    public void Huge_dimensions_are_rejected_before_allocating()
    {
        var b = new OnnxModelBuilder();
        b.Input("x", ElementType.Float32, 4);
        b.Output(b.Node("Add", ["x", "w"]));
        ModelProto model = b.Model();
        var w = new TensorProto { Name = "w", DataType = 1 };
        w.Dims.Add(int.MaxValue);
        w.Dims.Add(int.MaxValue);
        model.Graph.Initializer.Add(w);
        Diagnostic d = ModelRunner.CompileError(model.ToByteArray());
        Assert.Equal(DiagnosticCodes.LimitExceeded, d.Code);
        Assert.Equal("w", d.Tensor);
    }

    [Fact]
    public void Deeply_nested_subgraphs_are_an_error_not_a_crash()
    {
        var graph = new GraphProto { Name = "leaf" };
        for (int i = 0; i < 2000; i++)
        {
            var node = new NodeProto { OpType = "If", Name = $"if{i}" };
            node.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = graph });
            graph = new GraphProto { Name = $"g{i}" };
            graph.Node.Add(node);
        }

        var b = new OnnxModelBuilder();
        ModelProto model = b.Model();
        model.Graph = graph;
        Diagnostic d = ModelRunner.CompileError(model.ToByteArray());
        Assert.Contains(d.Code, new[] { DiagnosticCodes.MalformedModel, DiagnosticCodes.LimitExceeded });
    }

    [Theory]
    [InlineData(5)]
    [InlineData(99)]
    public void Opset_outside_the_supported_range(int opset)
    {
        var b = new OnnxModelBuilder(opset);
        string x = b.Input("x", ElementType.Float32, 4);
        b.Output(b.Node("Relu", [x]));
        Diagnostic d = ModelRunner.CompileError(b.Build());
        Assert.Equal(DiagnosticCodes.UnsupportedOpset, d.Code);
        Assert.Contains($"opset {opset}", d.Message);
    }

    [Fact]
    public void Symbolic_dimension_defaults_to_one_with_a_warning()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, null, 8);
        b.Output(b.Node("Relu", [x]));
        CompileResult r = ModelRunner.Compile(b.Build());
        Diagnostic w = Assert.Single(r.Diagnostics);
        Assert.Equal(DiagnosticCodes.SymbolicDimension, w.Code);
        Assert.Equal(DiagnosticSeverity.Warning, w.Severity);
        Assert.Equal([1, 8], r.Plan!.Tensors[r.Plan.Inputs[0].TensorId].Shape);
    }

    [Fact]
    public void InputShapes_fixes_symbolic_dimensions()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, null, 8);
        b.Output(b.Node("Relu", [x]));
        CompileResult r = ModelRunner.Compile(b.Build(), "x=5,8");
        Assert.Empty(r.Diagnostics);
        Assert.Equal([5, 8], r.Plan!.Tensors[r.Plan.Inputs[0].TensorId].Shape);
    }

    [Theory]
    [InlineData("y=1,8", "not a graph input")]
    [InlineData("x=1,2,3", "rank 3")]
    [InlineData("x=4,9", "fixes it to 8")]
    [InlineData("x=a,8", "not a non-negative integer")]
    [InlineData("x", "name=d0")]
    public void InputShapes_mistakes_are_errors(string spec, string message)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, null, 8);
        b.Output(b.Node("Relu", [x]));
        Diagnostic d = ModelRunner.CompileError(b.Build(), spec);
        Assert.Equal(DiagnosticCodes.InvalidInputShapes, d.Code);
        Assert.Contains(message, d.Message);
    }

    [Fact]
    public void External_data_loads_from_the_model_folder()
    {
        string path = Path.Combine(RepositoryPaths.Fixtures, "external", "external_data.onnx");
        CompileResult r = ModelCompiler.Compile(new CompileOptions(path));
        Assert.True(r.Succeeded, string.Join("\n", r.Diagnostics));
        Assert.Contains(r.Dependencies, d => d.EndsWith("external_data.bin", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("../secret.bin")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/../../secret.bin")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("")]
    public void External_data_may_not_leave_the_model_folder(string location)
    {
        byte[] model = ExternalModel(location);
        Diagnostic d = ModelRunner.CompileError(model);
        Assert.Equal(DiagnosticCodes.ExternalDataOutsideModel, d.Code);
        Assert.Equal("w", d.Tensor);
    }

    [Fact]
    public void External_data_through_a_link_that_leaves_the_folder_is_rejected()
    {
        string path = ModelRunner.WriteTemp(ExternalModel("data/weights.bin"));
        string outside = Path.Combine(Path.GetTempPath(), "modelsdk-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(outside);
        File.WriteAllBytes(Path.Combine(outside, "weights.bin"), new byte[16]);
        Directory.CreateSymbolicLink(Path.Combine(Path.GetDirectoryName(path)!, "data"), outside);

        CompileResult r = ModelCompiler.Compile(new CompileOptions(path));

        Assert.Equal(DiagnosticCodes.ExternalDataOutsideModel, Assert.Single(r.Diagnostics).Code);
    }

    [Fact]
    public void External_data_range_outside_the_file_is_rejected()
    {
        string path = ModelRunner.WriteTemp(ExternalModel("w.bin", offset: 8));
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "w.bin"), new byte[16]);
        CompileResult r = ModelCompiler.Compile(new CompileOptions(path));
        Assert.Equal(DiagnosticCodes.ExternalDataUnreadable, Assert.Single(r.Diagnostics).Code);
    }

    [Fact]
    public void External_data_in_a_constant_attribute_is_checked_too()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 4);
        ModelProto model = b.Model();
        var value = new TensorProto { Name = "c", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
        value.Dims.Add(4);
        value.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/shadow" });
        var node = new NodeProto { OpType = "Constant", Name = "k" };
        node.Output.Add("c");
        node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
        model.Graph.Node.Add(node);
        var add = new NodeProto { OpType = "Add", Name = "add" };
        add.Input.Add(x);
        add.Input.Add("c");
        add.Output.Add("y");
        model.Graph.Node.Add(add);
        model.Graph.Output.Add(new ValueInfoProto { Name = "y" });
        Diagnostic d = ModelRunner.CompileError(model.ToByteArray());
        Assert.Equal(DiagnosticCodes.ExternalDataOutsideModel, d.Code);
    }

    private static byte[] ExternalModel(string location, long offset = 0)
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 4);
        b.Output(b.Node("Add", [x, "w"]));
        ModelProto model = b.Model();
        var w = new TensorProto { Name = "w", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.Add(4);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "16" });
        model.Graph.Initializer.Add(w);
        return model.ToByteArray();
    }
}
