using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using ModelSdk.Compiler;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Quantization;
using ModelSdk.Generators.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Tests;

/// <summary>
/// Quantize="fp16|bf16" through generated code: the class loads the half-size blob, widens the weights as the
/// compiler's executor does, and computes exactly what the executor computes; its API is the float model's.
/// </summary>
public class HalfPrecisionGeneratedCodeTests
{
    [Fact]
    public void Generated_classes_widen_the_weights_and_match_the_executor()
    {
        var cases = new List<(string Name, QuantizeMode Mode, string Model)>();
        foreach (string model in new[] { "mlp.onnx", "cnn_bn.onnx", "lenet.onnx" })
        {
            cases.Add((Path.GetFileNameWithoutExtension(model).Replace("_", "") + "Fp16", QuantizeMode.Fp16, model));
            cases.Add((Path.GetFileNameWithoutExtension(model).Replace("_", "") + "Bf16", QuantizeMode.Bf16, model));
        }

        var plans = new List<PlanInput>();
        var harnesses = new List<string>();
        var floatSources = new List<string>();
        foreach ((string name, QuantizeMode mode, string model) in cases)
        {
            string path = Copy(model, name);
            CompileResult result = ModelCompiler.Compile(new CompileOptions(path) { Quantize = mode });
            Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
            Assert.Contains(result.Plan!.Tensors, t => t.IsWidened);
            var plan = new PlanInput(Path.ChangeExtension(path, ".plan"), result.PlanText!, path, name, WeightsBlob: result.WeightsBlob());
            plans.Add(plan);
            harnesses.Add(GeneratedModelRunner.HarnessSource($"Harness{name}", $"Tests.{name}", PlanReader.Read(plan.PlanText)));
        }

        (GeneratorDriverRunResult run, Compilation output) = GeneratorHarness.Run(plans, [.. harnesses]);
        Assert.Empty(run.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        Assert.All(run.Results[0].GeneratedSources, s => Assert.Contains("global::ModelSdk.Runtime.NarrowWeights(", s.SourceText.ToString()));
        var assembly = GeneratorHarness.Load(output, plans);

        var random = new Random(3);
        for (int i = 0; i < cases.Count; i++)
        {
            CompiledPlan compiled = PlanReader.Read(plans[i].PlanText);
            byte[][] inputs = compiled.Inputs.Select(v =>
            {
                float[] values = Enumerable.Range(0, (int)compiled.Tensors[v.TensorId].ElementCount).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
                return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            }).ToArray();
            byte[] payload = plans[i].WeightsBlob![ModelSdk.Runtime.WeightsBlob.HeaderSize..];
            byte[][] expected = Executor.Run(compiled, payload, inputs);
            Assert.Equal(expected, GeneratedModelRunner.Invoke(assembly, $"Harness{cases[i].Name}", compiled, inputs));
        }
    }

    [Fact]
    public void The_generated_api_is_the_float_models()
    {
        var plans = new[] { QuantizeMode.None, QuantizeMode.Fp16 }.Select(mode =>
        {
            string path = Copy("cnn_bn.onnx", mode.ToString());
            CompileResult result = ModelCompiler.Compile(new CompileOptions(path) { Quantize = mode });
            return new PlanInput(Path.ChangeExtension(path, ".plan"), result.PlanText!, path, "CnnBn", Namespace: mode.ToString(), WeightsBlob: result.WeightsBlob());
        }).ToList();

        (GeneratorDriverRunResult run, Compilation output) = GeneratorHarness.Run(plans);
        Assert.Empty(GeneratorHarness.Errors(output));
        string[] members = plans.Select(p => string.Join("\n", output.GetTypeByMetadataName($"{p.Namespace}.CnnBn")!.GetMembers()
            .Where(m => m.DeclaredAccessibility == Accessibility.Public).Select(m => m.ToDisplayString().Replace(p.Namespace + ".", string.Empty)).Order())).ToArray();
        Assert.Equal(members[0], members[1]);
        Assert.DoesNotContain("NarrowWeights", run.Results[0].GeneratedSources.Single(s => s.HintName.StartsWith("None", StringComparison.Ordinal)).SourceText.ToString());
    }

    /// <summary>A copy of a fixture under its own name: the weights resource is named after the model file.</summary>
    private static string Copy(string fixture, string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "modelsdk-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name + ".onnx");
        File.Copy(Repository.Fixture(fixture), path);
        return path;
    }
}
