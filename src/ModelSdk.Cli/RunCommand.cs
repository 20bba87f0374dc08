using System.Text;
using ModelSdk.Compiler;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Cli;

/// <summary><c>modelsdk run</c>: compiles the model and runs it on raw tensors with the executor.</summary>
internal static class RunCommand
{
    public static int Run(Arguments args, TextWriter stdout)
    {
        string model = args.Single("MODEL");
        string outputDir = args.Required("--output");
        CompileResult compiled = ModelCompiler.Compile(new CompileOptions(model) { InputShapes = args.Optional("--input-shapes") });
        foreach (Diagnostic d in compiled.Diagnostics)
        {
            stdout.WriteLine(d.ToCanonicalString());
        }

        if (compiled.Plan is not { } plan)
        {
            return CommandLine.Failed;
        }

        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string spec in args.All("--input"))
        {
            int eq = spec.LastIndexOf('=');
            if (eq <= 0)
            {
                throw new UsageException($"--input '{spec}' is not NAME=FILE.bin");
            }

            files[spec[..eq]] = spec[(eq + 1)..];
        }

        var inputs = new List<byte[]>();
        foreach (PlanValue input in plan.Inputs)
        {
            PlanTensor t = plan.Tensors[input.TensorId];
            if (!files.Remove(input.Name, out string? file))
            {
                throw new UsageException($"no --input for model input '{input.Name}' ({t.Type.ToPlanName()}{Shapes.Format(t.Shape)})");
            }

            byte[] data = File.ReadAllBytes(file);
            if (data.LongLength != t.ByteCount)
            {
                throw new UsageException($"'{file}' has {data.LongLength} bytes; input '{input.Name}' ({t.Type.ToPlanName()}{Shapes.Format(t.Shape)}) needs {t.ByteCount}");
            }

            inputs.Add(data);
        }

        if (files.Count > 0)
        {
            throw new UsageException($"the model has no input named '{files.Keys.First()}'");
        }

        byte[][] outputs = Executor.Run(plan, compiled.Weights, inputs, Executor.Parallel);
        Directory.CreateDirectory(outputDir);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < outputs.Length; i++)
        {
            PlanTensor t = plan.Tensors[plan.Outputs[i].TensorId];
            string name = FileName(plan.Outputs[i].Name, i, used);
            File.WriteAllBytes(Path.Combine(outputDir, name), outputs[i]);
            stdout.WriteLine($"{plan.Outputs[i].Name}  {t.Type.ToPlanName()}{Shapes.Format(t.Shape)}  -> {Path.Combine(outputDir, name)}");
        }

        return CommandLine.Ok;
    }

    /// <summary>A safe file name for an output: only letters, digits, '.', '_' and '-'; unique in the folder.</summary>
    private static string FileName(string outputName, int index, HashSet<string> used)
    {
        var sb = new StringBuilder();
        foreach (char c in outputName)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        string stem = sb.Length == 0 ? $"output_{index}" : sb.ToString();
        string name = stem + ".bin";
        for (int n = 2; !used.Add(name); n++)
        {
            name = $"{stem}_{n}.bin";
        }

        return name;
    }
}
