using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelSdk.Generators.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Tests;

/// <summary>
/// The span overload of a generated <c>Run</c> allocates nothing once the instance is warm: every kernel
/// of a model family (dense, convolutional, transformer, recurrent) runs on preallocated memory, on the
/// calling thread and on the model's worker threads alike. The consumer is compiled optimized, as a
/// released app is: unoptimized C# allocates an array for each collection-expression argument (the
/// kernels' list parameters) on every call.
/// </summary>
/// <remarks>
/// Two counters: the calling thread's (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) and the whole
/// process's (<see cref="GC.GetTotalAllocatedBytes"/>, precise), which also sees the worker threads. The test
/// host's own threads allocate a few hundred bytes every few tens of milliseconds, which the process
/// counter cannot tell from the model's, so the models run in a console program of their own, built from
/// the same generated code and started by the test. Each count is the smallest of a few windows: an
/// allocation <c>Run</c> makes shows in every window, the runtime's occasional background one (tiering)
/// in few.
/// </remarks>
public class AllocationTests
{
    private const int Runs = 4;
    private const int Windows = 5;

    [Fact]
    public void Warm_span_Run_allocates_nothing()
    {
        string[] models = ["mlp.onnx", "cnn_bn.onnx", "lenet.onnx", "real/mobilenetv3_small.onnx", "real/bert_tiny.onnx", "real/lstm_tagger.onnx", "real/gru_stream.onnx"];
        var plans = new List<PlanInput>();
        var compiled = new List<CompiledPlan>();
        var sources = new List<string>();
        for (int i = 0; i < models.Length; i++)
        {
            PlanInput plan = PlanInput.FromModel(Repository.Fixture(models[i]), className: "Model", ns: $"Alloc{i}");
            plans.Add(plan);
            compiled.Add(PlanReader.Read(plan.PlanText));
            sources.Add(GeneratedModelRunner.AllocationHarnessSource($"Harness{i}", $"Alloc{i}.Model", compiled[i]));
        }

        sources.Add(ProgramSource(compiled));
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(plans, OptimizationLevel.Release, [.. sources]);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));

        DirectoryInfo dir = Directory.CreateTempSubdirectory("modelsdk-alloc-");
        try
        {
            for (int i = 0; i < compiled.Count; i++)
            {
                for (int j = 0; j < compiled[i].Inputs.Count; j++)
                {
                    File.WriteAllBytes(Path.Combine(dir.FullName, $"in{i}_{j}.bin"), Input(compiled[i].Tensors[compiled[i].Inputs[j].TensorId]));
                }
            }

            string exe = Path.Combine(dir.FullName, "Consumer.dll");
            using (var stream = File.Create(exe))
            {
                var console = ((CSharpCompilation)output).WithOptions(((CSharpCompilation)output).Options.WithOutputKind(OutputKind.ConsoleApplication));
                var emit = GeneratorHarness.Emit(console, plans, stream);
                Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
            }

            string runtime = typeof(ModelSdk.Runtime.Arena).Assembly.Location;
            File.Copy(runtime, Path.Combine(dir.FullName, Path.GetFileName(runtime)));
            File.WriteAllText(Path.Combine(dir.FullName, "Consumer.runtimeconfig.json"), $$"""
                { "runtimeOptions": { "tfm": "net10.0", "framework": { "name": "Microsoft.NETCore.App", "version": "{{Environment.Version}}" } } }
                """);

            string[] lines = RunConsumer(exe, dir.FullName);
            var allocations = new List<string>();
            int measured = 0;
            foreach (string line in lines)
            {
                // "<model> <threads> <calling-thread bytes> <process bytes>"
                string[] f = line.Split(' ');
                if (f.Length != 4 || !int.TryParse(f[0], out int model))
                {
                    continue;
                }

                measured++;
                long thread = long.Parse(f[2], CultureInfo.InvariantCulture), total = long.Parse(f[3], CultureInfo.InvariantCulture);
                if (thread != 0 || total != 0)
                {
                    allocations.Add($"{models[model]} ({f[1]} threads): {thread} bytes on the calling thread, {total} in the process over {Runs} runs");
                }
            }

            Assert.Equal(2 * models.Length, measured);
            Assert.True(allocations.Count == 0, "Run(spans) allocated after warm-up:\n" + string.Join("\n", allocations));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The consumer's entry point: for each model, reads its inputs, then prints the smallest counts over
    /// <see cref="Windows"/> windows of <see cref="Runs"/> warm runs, at one thread and at two.
    /// </summary>
    private static string ProgramSource(IReadOnlyList<CompiledPlan> plans)
    {
        var sb = new StringBuilder();
        sb.Append("public static class Program\n{\n");
        sb.Append("    public static int Main(string[] args)\n    {\n");
        for (int i = 0; i < plans.Count; i++)
        {
            string inputs = string.Join(", ", Enumerable.Range(0, plans[i].Inputs.Count)
                .Select(j => $"System.IO.File.ReadAllBytes(System.IO.Path.Combine(args[0], \"in{i}_{j}.bin\"))"));
            string outputs = string.Join(", ", plans[i].Outputs.Select(o => $"new byte[{plans[i].Tensors[o.TensorId].ByteCount}]"));
            sb.Append($"        Report({i}, new byte[][] {{ {inputs} }}, new byte[][] {{ {outputs} }}, Harness{i}.Measure);\n");
        }

        sb.Append("        return 0;\n    }\n\n");
        sb.Append("    private static void Report(int model, byte[][] inputs, byte[][] outputs, System.Func<byte[][], byte[][], int, int, long[]> measure)\n    {\n");
        sb.Append("        foreach (int threads in new[] { 1, 2 })\n        {\n");
        sb.Append("            long thread = long.MaxValue, total = long.MaxValue;\n");
        sb.Append($"            for (int w = 0; w < {Windows} && (thread != 0 || total != 0); w++)\n            {{\n");
        sb.Append($"                long[] bytes = measure(inputs, outputs, threads, {Runs});\n");
        sb.Append("                thread = System.Math.Min(thread, bytes[0]);\n");
        sb.Append("                total = System.Math.Min(total, bytes[1]);\n");
        sb.Append("            }\n\n");
        sb.Append("            System.Console.WriteLine($\"{model} {threads} {thread} {total}\");\n");
        sb.Append("        }\n    }\n}\n");
        return sb.ToString();
    }

    private static string[] RunConsumer(string exe, string dir)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "exec", exe, dir })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "The allocation consumer did not finish in 5 minutes.");
        Assert.True(process.ExitCode == 0, $"The allocation consumer failed ({process.ExitCode}):\n{stdout}\n{stderr.Result}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Seeded data: floats in [-1, 1), integers small enough to be valid token ids and masks.</summary>
    private static byte[] Input(PlanTensor tensor)
    {
        var rng = new Random(17);
        var bytes = new byte[tensor.ByteCount];
        switch (tensor.Type)
        {
            case ElementType.Float32:
                var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
                for (int i = 0; i < floats.Length; i++)
                {
                    floats[i] = (float)(rng.NextDouble() * 2 - 1);
                }

                break;
            case ElementType.Int64:
                var longs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes.AsSpan());
                for (int i = 0; i < longs.Length; i++)
                {
                    longs[i] = rng.Next(2);
                }

                break;
            default:
                throw new NotSupportedException($"No test data for {tensor.Type}.");
        }

        return bytes;
    }
}
