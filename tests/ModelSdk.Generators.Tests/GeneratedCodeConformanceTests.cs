using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using ModelSdk.Compiler.Conformance;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Generators.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Tests;

/// <summary>
/// "One set of kernels, two callers": every ONNX backend case that passes through the executor must
/// also pass through generated code. All plans are generated and compiled into one assembly (one
/// Roslyn compilation instead of hundreds), then each case runs again with the generated class in
/// place of the executor. The second compile of each case must also give a byte-identical plan.
/// </summary>
public class GeneratedCodeConformanceTests
{
    [Fact]
    public void Every_passing_conformance_case_passes_through_generated_code()
    {
        string data = Environment.GetEnvironmentVariable("MODELSDK_ONNX_TESTDATA") is { Length: > 0 } env ? env : "/usr/share/libonnx-testdata/data";
        Assert.True(Directory.Exists(Path.Combine(data, "node")), $"ONNX backend test data not found in '{data}' (apt-get install libonnx-testdata, or set MODELSDK_ONNX_TESTDATA).");
        string baseline = Path.Combine(RepositoryPaths.Root, "tests", "ModelSdk.Compiler.Tests", "Conformance", "conformance-baseline.txt");
        var cases = File.ReadLines(baseline).Where(l => l.StartsWith("PASS ", StringComparison.Ordinal)).Select(l => l[5..]).ToList();
        Assert.NotEmpty(cases);

        // Pass 1: the executor runs each case; every distinct plan is recorded.
        var plans = new ConcurrentDictionary<string, (string Text, byte[] Weights)>();
        Parallel.ForEach(cases, name =>
        {
            ConformanceResult r = ConformanceRunner.Run(Path.Combine(data, name), name, (plan, weights, inputs) =>
            {
                string text = PlanWriter.Write(plan);
                plans.TryAdd(Key(text), (text, weights));
                return Compiler.Execution.Executor.Run(plan, weights, inputs);
            });
            Assert.True(r.Status == ConformanceStatus.Pass, r.ToString());
        });

        // One compilation with a generated class and a harness per plan.
        var ordered = plans.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var inputs = ordered.Select((p, i) => new PlanInput($"/plans/p{i}.plan", p.Value.Text, $"/plans/p{i}.onnx", ClassName: "Model", Namespace: $"Case{i}",
            WeightsBlob: [.. ModelSdk.Runtime.WeightsBlob.CreateHeader(p.Value.Weights), .. p.Value.Weights])).ToList();
        var harnesses = ordered.Select((p, i) => GeneratedModelRunner.HarnessSource($"Harness{i}", $"Case{i}.Model", PlanReader.Read(p.Value.Text))).ToArray();
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(inputs, harnesses);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        Assembly assembly = GeneratorHarness.Load(output, inputs);
        var index = ordered.Select((p, i) => (p.Key, i)).ToDictionary(x => x.Key, x => x.i);

        // Pass 2: the same cases with the generated classes doing the work.
        var failures = new ConcurrentBag<string>();
        Parallel.ForEach(cases, name =>
        {
            ConformanceResult r = ConformanceRunner.Run(Path.Combine(data, name), name, (plan, weights, caseInputs) =>
            {
                string text = PlanWriter.Write(plan);
                Assert.True(index.TryGetValue(Key(text), out int i), $"{name}: compiling twice gave a different plan");
                return GeneratedModelRunner.Invoke(assembly, $"Harness{i}", plan, caseInputs);
            });
            if (r.Status != ConformanceStatus.Pass)
            {
                failures.Add(r.ToString());
            }
        });

        Assert.True(failures.IsEmpty, "Cases that pass through the executor but not through generated code:\n" + string.Join("\n", failures.Order()));
    }

    private static string Key(string planText) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(planText)));
}
