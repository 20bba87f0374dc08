using System.Reflection;
using System.Text;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Tests.Support;

/// <summary>
/// Calls generated model classes through a small harness compiled next to them: reflection cannot pass
/// spans, so the harness takes raw byte arrays and calls the allocation-free <c>Run</c> positionally.
/// </summary>
public static class GeneratedModelRunner
{
    /// <summary>C# source of a static <c>Harness_N.Invoke(byte[][] inputs, byte[][] outputs)</c> for the class.</summary>
    public static string HarnessSource(string harnessName, string fullClassName, CompiledPlan plan)
    {
        var sb = new StringBuilder();
        sb.Append($"public static class {harnessName}\n{{\n");
        sb.Append("    public static void Invoke(byte[][] inputs, byte[][] outputs)\n    {\n");
        sb.Append($"        using var model = new {fullClassName}();\n");
        sb.Append($"        model.Run({RunArguments(plan)});\n");
        sb.Append("    }\n}\n");
        return sb.ToString();
    }

    /// <summary>
    /// C# source of a static <c>Harness_N.Measure(byte[][] inputs, byte[][] outputs, int threads, int runs)</c>
    /// that warms an instance up, then returns two counts over <c>runs</c> further runs of its span <c>Run</c>:
    /// the bytes allocated on the calling thread, and the bytes allocated by the whole process (the model's
    /// worker threads included).
    /// </summary>
    public static string AllocationHarnessSource(string harnessName, string fullClassName, CompiledPlan plan)
    {
        var sb = new StringBuilder();
        sb.Append($"public static class {harnessName}\n{{\n");
        sb.Append("    public static long[] Measure(byte[][] inputs, byte[][] outputs, int threads, int runs)\n    {\n");
        sb.Append($"        using var model = new {fullClassName}(global::ModelSdk.Runtime.ModelTarget.Cpu, threads);\n");
        sb.Append("        for (int i = 0; i < 3; i++)\n        {\n");
        sb.Append($"            model.Run({RunArguments(plan)});\n");
        sb.Append("        }\n");
        sb.Append("        long totalBefore = System.GC.GetTotalAllocatedBytes(precise: true);\n");
        sb.Append("        long threadBefore = System.GC.GetAllocatedBytesForCurrentThread();\n");
        sb.Append("        for (int i = 0; i < runs; i++)\n        {\n");
        sb.Append($"            model.Run({RunArguments(plan)});\n");
        sb.Append("        }\n");
        sb.Append("        long thread = System.GC.GetAllocatedBytesForCurrentThread() - threadBefore;\n");
        sb.Append("        long total = System.GC.GetTotalAllocatedBytes(precise: true) - totalBefore;\n");
        sb.Append("        return new long[] { thread, total };\n");
        sb.Append("    }\n}\n");
        return sb.ToString();
    }

    /// <summary>The arguments of the allocation-free <c>Run</c>: each input, then each output, as a span over the byte arrays.</summary>
    private static string RunArguments(CompiledPlan plan)
    {
        var args = new List<string>();
        foreach (var tensorId in plan.Inputs.Select(i => i.TensorId).Concat(plan.Outputs.Select(o => o.TensorId)))
        {
            string t = plan.Tensors[tensorId].Type.ToCSharpName();
            string array = args.Count < plan.Inputs.Count ? $"inputs[{args.Count}]" : $"outputs[{args.Count - plan.Inputs.Count}]";
            args.Add($"System.Runtime.InteropServices.MemoryMarshal.Cast<byte, {t}>({array})");
        }

        return string.Join(", ", args);
    }

    /// <summary>Runs the harness of a loaded assembly; returns the raw outputs.</summary>
    public static byte[][] Invoke(Assembly assembly, string harnessName, CompiledPlan plan, IReadOnlyList<byte[]> inputs)
    {
        byte[][] outputs = plan.Outputs.Select(o => new byte[plan.Tensors[o.TensorId].ByteCount]).ToArray();
        MethodInfo invoke = assembly.GetType(harnessName)!.GetMethod("Invoke")!;
        try
        {
            invoke.Invoke(null, [inputs.ToArray(), outputs]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }

        return outputs;
    }
}
