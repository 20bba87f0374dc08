using ModelSdk.Compiler;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Quantization;

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
        if (!TryQuantizationOptions(args, model, stdout, out CompileOptions? options))
        {
            foreach (string path in new[] { plan, weights, report })
            {
                File.Delete(path);
            }

            return CommandLine.Failed;
        }

        CompileResult result = ModelCompiler.Compile(options);
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
        if (result.QuantizationSummary is { } summary)
        {
            stdout.WriteLine($"{summary}; details in {report}");
        }
        return CommandLine.Ok;
    }

    /// <summary>
    /// Reads the quantization options; a bad value is reported like a model error (MSDK3001 on the model),
    /// because the build passes them from the project's metadata.
    /// </summary>
    private static bool TryQuantizationOptions(Arguments args, string model, TextWriter stdout, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CompileOptions? options)
    {
        options = null;
        var errors = new List<string>();
        if (!QuantizationSettings.TryParseMode(args.Optional("--quantize"), out QuantizeMode mode))
        {
            errors.Add($"Quantize '{args.Optional("--quantize")}' is not one of none, int8, fp16, bf16.");
        }

        if (!QuantizationSettings.TryParseMethod(args.Optional("--calibration-method"), out CalibrationMethod method))
        {
            errors.Add($"CalibrationMethod '{args.Optional("--calibration-method")}' is not one of minmax, percentile, entropy.");
        }

        if (!QuantizationSettings.TryParsePercentile(args.Optional("--calibration-percentile"), out double percentile))
        {
            errors.Add($"CalibrationPercentile '{args.Optional("--calibration-percentile")}' must be a number in (0, 100], e.g. 99.99.");
        }

        foreach (string error in errors)
        {
            stdout.WriteLine(new Diagnostic(DiagnosticCodes.InvalidQuantizationOptions, DiagnosticSeverity.Error, error, model).ToCanonicalString());
        }

        if (errors.Count > 0)
        {
            return false;
        }

        options = new CompileOptions(model)
        {
            InputShapes = args.Optional("--input-shapes"),
            Quantize = mode,
            CalibrationData = args.Optional("--calibration-data"),
            CalibrationMethod = method,
            CalibrationPercentile = percentile,
            QuantizeExclude = QuantizationSettings.ParseNames(args.Optional("--quantize-exclude")),
            ValidationData = args.Optional("--validation-data"),
        };
        return true;
    }

    /// <summary>
    /// One line per file the compile read: size, last-write time (UTC ticks) and path. The build compares
    /// them with the files' current ones, so replacing a model by an older copy still recompiles it.
    /// </summary>
    private static string DependencyStamps(IEnumerable<string> files)
        => string.Concat(files.Select(f =>
        {
            // A folder of samples is stamped with size -1 and its own time, which changes when a file is added or removed.
            if (Directory.Exists(f))
            {
                return $"-1 {Directory.GetLastWriteTimeUtc(f).Ticks} {Path.GetFullPath(f)}\n";
            }

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
