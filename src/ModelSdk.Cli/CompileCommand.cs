using ModelSdk.Compiler;
using ModelSdk.Compiler.Diagnostics;

namespace ModelSdk.Cli;

/// <summary>
/// <c>modelsdk compile</c>: what the MSBuild task runs, out of process. Diagnostics go to stdout in
/// MSBuild's canonical format; outputs are written only on success (stale ones are removed on failure).
/// </summary>
internal static class CompileCommand
{
    public static int Run(Arguments args, TextWriter stdout)
    {
        string model = args.Required("--model");
        string plan = args.Required("--plan");
        string weights = args.Required("--weights");
        string report = args.Required("--report");
        string deps = args.Required("--deps");
        CompileResult result = ModelCompiler.Compile(new CompileOptions(model) { InputShapes = args.Optional("--input-shapes") });
        foreach (Diagnostic d in result.Diagnostics)
        {
            stdout.WriteLine(d.ToCanonicalString());
        }

        if (!result.Succeeded)
        {
            foreach (string path in new[] { plan, weights, report })
            {
                File.Delete(path);
            }

            return CommandLine.Failed;
        }

        WriteAtomically(weights, result.WeightsBlob());
        WriteAtomically(report, System.Text.Encoding.UTF8.GetBytes(result.Report!));
        WriteAtomically(deps, System.Text.Encoding.UTF8.GetBytes(DependencyStamps(result.Dependencies)));
        WriteAtomically(plan, System.Text.Encoding.UTF8.GetBytes(result.PlanText!)); // last: the plan's time stamp marks a complete compile
        stdout.WriteLine($"modelsdk: compiled {Path.GetFileName(model)}: {result.Plan!.Cost.Parameters:N0} parameters, {result.Plan.Cost.Macs:N0} MACs, {result.Plan.ArenaBytes:N0}-byte arena");
        return CommandLine.Ok;
    }

    /// <summary>
    /// One line per file the compile read: size, last-write time (UTC ticks) and path. The build compares
    /// them with the files' current ones, so replacing a model by an older copy still recompiles it.
    /// </summary>
    private static string DependencyStamps(IEnumerable<string> files)
        => string.Concat(files.Select(f =>
        {
            var info = new FileInfo(f);
            return $"{info.Length} {info.LastWriteTimeUtc.Ticks} {info.FullName}\n";
        }));

    private static void WriteAtomically(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, content);
        File.Move(temp, path, overwrite: true);
    }
}
