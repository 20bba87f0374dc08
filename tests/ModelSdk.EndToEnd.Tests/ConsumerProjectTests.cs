using Google.Protobuf;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.EndToEnd.Tests.Support;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.EndToEnd.Tests;

/// <summary>
/// The user's path: a plain console project references the packed SDK, declares &lt;OnnxModel&gt; items,
/// builds with `dotnet build`, and runs. Outputs must agree with ONNX Runtime; an unchanged model must
/// not be recompiled; a changed one must be.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class ConsumerProjectTests(PackageFeed feed)
{
    private const string CompiledMarker = "modelsdk: compiled ";

    private static readonly (string Model, string[] Inputs, string[] Outputs)[] Models =
    [
        ("mlp", ["x"], ["y"]),
        ("cnn_bn", ["image"], ["logits"]),
        ("two_inputs", ["tokens", "features"], ["logits", "pooled"]),
        ("dynamic_batch", ["x"], ["probs"]),
        ("external_data", ["x"], ["y"]),
        ("digits", ["pixels"], ["scores"]),
    ];

    [Fact]
    public void Consumer_builds_runs_agrees_with_onnxruntime_and_rebuilds_incrementally()
    {
        string project = CreateConsumer("Consumer");

        // First build compiles every model.
        string first = PackageFeed.Build(project).EnsureSuccess("First build").Output;
        Assert.Equal(Models.Length, CountOccurrences(first, CompiledMarker));
        AssertAgreesWithOnnxRuntime(project);

        // A second build with nothing changed skips the compiler entirely.
        var plans = Directory.GetFiles(Path.Combine(project, "obj"), "*.plan", SearchOption.AllDirectories).ToDictionary(p => p, File.GetLastWriteTimeUtc);
        string second = PackageFeed.Build(project).EnsureSuccess("Second build").Output;
        Assert.DoesNotContain(CompiledMarker, second);
        Assert.Contains("Skipping target \"ModelSdk_CompileModels\" because all output files are up-to-date", second);
        Assert.All(plans, p => Assert.Equal(p.Value, File.GetLastWriteTimeUtc(p.Key)));

        // Changing one model recompiles that model only, and the program computes with the new weights.
        string mlp = Path.Combine(project, "Models", "mlp.onnx");
        ScaleWeights(mlp, 2f);
        string third = PackageFeed.Build(project).EnsureSuccess("Build after changing a model").Output;
        Assert.Equal(1, CountOccurrences(third, CompiledMarker));
        Assert.Contains(CompiledMarker + "mlp.onnx", third);
        AssertAgreesWithOnnxRuntime(project);
    }

    [Fact]
    public void Replacing_the_model_file_regenerates_the_class()
    {
        string project = feed.CreateProject("Follows", Csproj("""
                <OnnxModel Include="Models/model.onnx" />
            """), "System.Console.WriteLine(\"shape=\" + string.Join(\",\", Follows.Model.XShape.ToArray()) + \" length=\" + Follows.Model.XLength);",
            [(Path.Combine(RepositoryPaths.Fixtures, "mlp.onnx"), "Models/model.onnx")]);
        PackageFeed.Build(project).EnsureSuccess("Build with the MLP");
        Assert.Contains("shape=1,64 length=64", DotNet.Run(project, TimeSpan.FromMinutes(1), "run", "--no-build").EnsureSuccess("Run").Output);

        File.Copy(Path.Combine(RepositoryPaths.Fixtures, "lenet.onnx"), Path.Combine(project, "Models", "model.onnx"), overwrite: true);
        string rebuild = PackageFeed.Build(project).EnsureSuccess("Build with LeNet").Output;

        Assert.Contains(CompiledMarker + "model.onnx", rebuild);
        Assert.Contains("shape=1,1,28,28 length=784", DotNet.Run(project, TimeSpan.FromMinutes(1), "run", "--no-build").EnsureSuccess("Run").Output);
    }

    [Fact]
    public void Broken_and_unsupported_models_fail_the_build_with_a_diagnostic_and_no_stack_trace()
    {
        string dir = Path.Combine(feed.Root, "broken-inputs");
        Directory.CreateDirectory(dir);
        var random = new byte[2048];
        new Random(3).NextBytes(random);
        File.WriteAllBytes(Path.Combine(dir, "noise.onnx"), random);
        File.WriteAllBytes(Path.Combine(dir, "custom.onnx"), UnknownOperatorModel());

        string project = feed.CreateProject("Broken", Csproj("""
                <OnnxModel Include="Models/noise.onnx" />
                <OnnxModel Include="Models/custom.onnx" />
            """), "System.Console.WriteLine();",
            [(Path.Combine(dir, "noise.onnx"), "Models/noise.onnx"), (Path.Combine(dir, "custom.onnx"), "Models/custom.onnx")]);

        DotNet.Result result = PackageFeed.Build(project);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Matches(@"Models/noise\.onnx : error MSDK100[34]: ", result.Output);
        Assert.Matches(@"Models/custom\.onnx : error MSDK2001: node 'mystery_node': operator 'TotallyCustomOp' is not supported", result.Output);
        Assert.DoesNotContain("   at ", result.Output);
        Assert.DoesNotContain("Exception", result.Output);
    }

    private string CreateConsumer(string name)
    {
        string consumerDir = Path.Combine(RepositoryPaths.Root, "tests", "ModelSdk.EndToEnd.Tests", "Consumer");
        string fixtures = RepositoryPaths.Fixtures;
        var files = new List<(string, string)>
        {
            (Path.Combine(fixtures, "mlp.onnx"), "Models/mlp.onnx"),
            (Path.Combine(fixtures, "cnn_bn.onnx"), "Models/cnn_bn.onnx"),
            (Path.Combine(fixtures, "two_inputs.onnx"), "Models/two_inputs.onnx"),
            (Path.Combine(fixtures, "dynamic_batch.onnx"), "Models/dynamic_batch.onnx"),
            (Path.Combine(fixtures, "external", "external_data.onnx"), "Models/external/external_data.onnx"),
            (Path.Combine(fixtures, "external", "external_data.bin"), "Models/external/external_data.bin"),
            (Path.Combine(RepositoryPaths.Root, "samples", "Digits", "Models", "digits.onnx"), "Models/digits.onnx"),
        };
        return feed.CreateProject(name, File.ReadAllText(Path.Combine(consumerDir, "Consumer.csproj")), File.ReadAllText(Path.Combine(consumerDir, "Program.cs")), files);
    }

    private static void AssertAgreesWithOnnxRuntime(string project)
    {
        string outDir = Path.Combine(project, "out");
        DotNet.Run(project, TimeSpan.FromMinutes(2), "run", "--no-build", "--", outDir).EnsureSuccess("Running the consumer");
        foreach ((string model, string[] inputs, string[] outputs) in Models)
        {
            string modelPath = Directory.GetFiles(Path.Combine(project, "Models"), model + ".onnx", SearchOption.AllDirectories).Single();
            ModelProto proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
            var feeds = inputs.Select(name => (name, ReadTensor(outDir, model, name, proto, isInput: true))).ToList();
            Tensor[] expected = OrtReference.Run(modelPath, feeds); // by path, so ONNX Runtime finds external data
            for (int i = 0; i < outputs.Length; i++)
            {
                Tensor actual = ReadTensor(outDir, model, outputs[i], proto, isInput: false, expected[i].Shape);
                double error = TensorAssert.RelativeL2(actual, expected[i]);
                Assert.True(error < 1e-5, $"{model}.{outputs[i]}: relative L2 error {error:G3} against ONNX Runtime");
            }
        }
    }

    private static Tensor ReadTensor(string dir, string model, string name, ModelProto proto, bool isInput, int[]? shape = null)
    {
        byte[] data = File.ReadAllBytes(Path.Combine(dir, $"{model}.{name}.bin"));
        ValueInfoProto info = (isInput ? proto.Graph.Input : proto.Graph.Output).Single(v => v.Name == name);
        ElementType type = info.Type.TensorType.ElemType == 7 ? ElementType.Int64 : ElementType.Float32;
        shape ??= info.Type.TensorType.Shape.Dim.Select(d => d.DimValue > 0 ? (int)d.DimValue : -1).ToArray();
        if (shape.Contains(-1))
        {
            int known = shape.Where(d => d > 0).Aggregate(1, (a, b) => a * b);
            shape = shape.Select(d => d > 0 ? d : data.Length / type.SizeInBytes() / known).ToArray();
        }

        return new Tensor(type, shape, data);
    }

    private static void ScaleWeights(string path, float factor)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        foreach (TensorProto t in model.Graph.Initializer)
        {
            float[] values = t.RawData.Length > 0
                ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray()
                : t.FloatData.ToArray();
            t.FloatData.Clear();
            t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.Select(v => v * factor).ToArray().AsSpan()));
        }

        File.WriteAllBytes(path, model.ToByteArray());
    }

    private static byte[] UnknownOperatorModel()
    {
        var graph = new GraphProto { Name = "custom" };
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 4 } } } } } });
        graph.Node.Add(new NodeProto { OpType = "TotallyCustomOp", Name = "mystery_node", Input = { "x" }, Output = { "y" } });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        return model.ToByteArray();
    }

    internal static string Csproj(string items) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="ModelSdk" Version="$(ModelSdkVersion)" />
        {items}
          </ItemGroup>
        </Project>
        """;

    private static int CountOccurrences(string text, string marker)
    {
        int count = 0;
        for (int i = text.IndexOf(marker, StringComparison.Ordinal); i >= 0; i = text.IndexOf(marker, i + marker.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
