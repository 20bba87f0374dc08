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
        var args = new List<string>();
        for (int i = 0; i < plan.Inputs.Count; i++)
        {
            string t = plan.Tensors[plan.Inputs[i].TensorId].Type.ToCSharpName();
            args.Add($"System.Runtime.InteropServices.MemoryMarshal.Cast<byte, {t}>(inputs[{i}])");
        }

        for (int i = 0; i < plan.Outputs.Count; i++)
        {
            string t = plan.Tensors[plan.Outputs[i].TensorId].Type.ToCSharpName();
            args.Add($"System.Runtime.InteropServices.MemoryMarshal.Cast<byte, {t}>(outputs[{i}])");
        }

        var sb = new StringBuilder();
        sb.Append($"public static class {harnessName}\n{{\n");
        sb.Append("    public static void Invoke(byte[][] inputs, byte[][] outputs)\n    {\n");
        sb.Append($"        using var model = new {fullClassName}();\n");
        sb.Append($"        model.Run({string.Join(", ", args)});\n");
        sb.Append("    }\n}\n");
        return sb.ToString();
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
