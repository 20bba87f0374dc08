using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using ModelSdk.Compiler;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Generators.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Tests;

public class GeneratorTests
{
    [Theory]
    [InlineData("names.onnx", null)]
    [InlineData("two_inputs.onnx", null)]
    [InlineData("dynamic_batch.onnx", "x=4,16")]
    [InlineData("../../../samples/Digits/Models/digits.onnx", null)]
    public void Generated_code_matches_baseline(string model, string? inputShapes)
    {
        PlanInput plan = PlanInput.FromModel(Path.GetFullPath(Repository.Fixture(model)), inputShapes: inputShapes);
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run([plan]);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        GeneratedSourceResult source = Assert.Single(result.Results[0].GeneratedSources);
        Baseline.Verify(Path.GetFileNameWithoutExtension(model), source.HintName, source.SourceText.ToString());
    }

    [Fact]
    public void Colliding_onnx_names_are_disambiguated_in_graph_order()
    {
        PlanInput plan = PlanInput.FromModel(Repository.Fixture("names.onnx"));
        (_, Compilation output) = GeneratorHarness.Run([plan]);
        INamedTypeSymbol type = output.GetTypeByMetadataName("Tests.Names")!;
        INamedTypeSymbol outputType = type.GetTypeMembers("Output").Single();

        Assert.Equal(["Output_2", "Run_2", "SaveInferModelScale0Tmp1"], outputType.GetMembers().OfType<IPropertySymbol>().Select(p => p.Name));
        IMethodSymbol run = type.GetMembers("Run").OfType<IMethodSymbol>().Single(m => m.Parameters.Length == 7);
        Assert.Equal(["input1", "input1_2", "class", "_1x", "output", "run", "saveInferModelScale0Tmp1"], run.Parameters.Select(p => p.Name));
        Assert.Contains(type.GetMembers(), m => m.Name == "Input1_2Length");
    }

    [Fact]
    public void Generated_code_computes_what_the_executor_computes()
    {
        PlanInput plan = PlanInput.FromModel(Repository.Fixture("names.onnx"));
        CompiledPlan compiled = PlanReader.Read(plan.PlanText);
        string harness = GeneratedModelRunner.HarnessSource("Harness", "Tests.Names", compiled);
        (_, Compilation output) = GeneratorHarness.Run([plan], harness);
        var assembly = GeneratorHarness.Load(output, [plan]);
        var rng = new Random(5);
        var inputs = compiled.Inputs.Select(i => RandomFloats(rng, (int)compiled.Tensors[i.TensorId].ElementCount)).ToList();

        byte[][] generated = GeneratedModelRunner.Invoke(assembly, "Harness", compiled, inputs);
        byte[][] executed = Executor.Run(compiled, [], inputs);

        Assert.Equal(executed, generated);
    }

    [Fact]
    public void A_long_model_runs_in_several_methods_and_computes_the_same()
    {
        var b = new OnnxModelBuilder();
        string x = b.Input("x", ElementType.Float32, 8);
        string current = x;
        for (int i = 0; i < 600; i++)
        {
            // Max is not an elementwise-chain step, so no two neighbours fuse and the plan keeps 600 steps.
            current = b.Node(i % 2 == 0 ? "Max" : "Mul", [current, b.Initializer($"c{i}", [8], Enumerable.Range(0, 8).Select(k => 1f + (k + i) % 3 * 0.001f).ToArray())]);
        }

        b.Output(current);
        string path = Path.Combine(Path.GetTempPath(), "modelsdk-tests", Guid.NewGuid().ToString("N"), "long.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, b.Build());
        PlanInput plan = PlanInput.FromModel(path);
        CompiledPlan compiled = PlanReader.Read(plan.PlanText);
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run([plan], GeneratedModelRunner.HarnessSource("Harness", "Tests.Long", compiled));

        Assert.Contains("private void RunPart2(", result.Results[0].GeneratedSources[0].SourceText.ToString());
        var assembly = GeneratorHarness.Load(output, [plan]);
        byte[][] input = [RandomFloats(new Random(2), 8)];
        Assert.Equal(Executor.Run(compiled, PayloadOf(plan), input), GeneratedModelRunner.Invoke(assembly, "Harness", compiled, input));
    }

    [Fact]
    public void Nested_conditionals_become_if_else_blocks_that_match_the_executor()
    {
        string path = Path.Combine(Path.GetTempPath(), "modelsdk-tests", Guid.NewGuid().ToString("N"), "branches.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TestModels.NestedIf());
        PlanInput plan = PlanInput.FromModel(path);
        CompiledPlan compiled = PlanReader.Read(plan.PlanText);
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run([plan], GeneratedModelRunner.HarnessSource("Harness", "Tests.Branches", compiled));
        Assert.Empty(GeneratorHarness.Errors(output));
        var assembly = GeneratorHarness.Load(output, [plan]);
        byte[] x = MemoryMarshal.AsBytes(new float[] { -2, -1, 0, 1, 2 }.AsSpan()).ToArray();

        foreach ((byte c1, byte c2) in new[] { ((byte)1, (byte)1), ((byte)1, (byte)0), ((byte)0, (byte)1), ((byte)0, (byte)0) })
        {
            byte[][] inputs = [x, [c1], [c2]];
            Assert.Equal(Executor.Run(compiled, [], inputs), GeneratedModelRunner.Invoke(assembly, "Harness", compiled, inputs));
        }
    }

    private static byte[] PayloadOf(PlanInput plan) => plan.WeightsBlob![ModelSdk.Runtime.WeightsBlob.HeaderSize..];

    [Fact]
    public void Hostile_tensor_names_never_break_the_generated_source()
    {
        string[] names = ["a\"b\\c", "*/ x /*", "line\nbreak", "</summary><c>", "@int", "\u202Eevil", "名前", "#if false", "string"];
        var b = new OnnxModelBuilder();
        var inputs = names.Select(n => b.Input(n, ElementType.Float32, 2)).ToList();
        string sum = inputs.Aggregate((x, y) => b.Node("Add", [x, y]));
        b.Output(b.Node("Relu", [sum]));
        string path = Path.Combine(Path.GetTempPath(), "modelsdk-tests", Guid.NewGuid().ToString("N"), "hostile.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, b.Build());

        PlanInput plan = PlanInput.FromModel(path);
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run([plan]);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        var assembly = GeneratorHarness.Load(output, [plan]);
        var info = (ModelSdk.Runtime.ModelInfo)assembly.GetType("Tests.Hostile")!.GetProperty("Info")!.GetValue(null)!;
        Assert.Equal(names, info.Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Invalid_class_name_is_a_diagnostic_not_broken_code()
    {
        PlanInput plan = PlanInput.FromModel(Repository.Fixture("names.onnx"), className: "1 Bad");
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run([plan]);

        Diagnostic d = Assert.Single(result.Diagnostics);
        Assert.Equal("MSDK5002", d.Id);
        Assert.Contains("1 Bad", d.GetMessage());
        Assert.Empty(result.Results[0].GeneratedSources);
    }

    [Theory]
    [InlineData("")]
    [InlineData("modelsdk-plan 99\nend\n")]
    [InlineData("not a plan at all")]
    public void Unreadable_plan_is_a_diagnostic(string text)
    {
        var plan = new PlanInput("/x/broken.plan", text, "/x/broken.onnx");
        (GeneratorDriverRunResult result, _) = GeneratorHarness.Run([plan]);

        Diagnostic d = Assert.Single(result.Diagnostics);
        Assert.Equal("MSDK5001", d.Id);
    }

    [Fact]
    public void Two_models_with_one_class_name_are_reported()
    {
        PlanInput a = PlanInput.FromModel(Repository.Fixture("names.onnx"), className: "Same");
        PlanInput b = a with { PlanPath = "/other/names.plan", ModelPath = "/other/names.onnx" };
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run([a, b]);

        Assert.Equal("MSDK5003", Assert.Single(result.Diagnostics).Id);
        Assert.Empty(GeneratorHarness.Errors(output));
    }

    [Fact]
    public void Unrelated_edit_leaves_the_model_step_cached()
    {
        PlanInput plan = PlanInput.FromModel(Repository.Fixture("names.onnx"));
        GeneratorDriver driver = GeneratorHarness.CreateDriver([plan]);
        Compilation compilation = GeneratorHarness.EmptyCompilation("class A {}");
        driver = driver.RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class B {}", (Microsoft.CodeAnalysis.CSharp.CSharpParseOptions)compilation.SyntaxTrees.First().Options)));

        var steps = driver.GetRunResult().Results[0].TrackedSteps["Models"];
        Assert.All(steps.SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    private static byte[] RandomFloats(Random rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
