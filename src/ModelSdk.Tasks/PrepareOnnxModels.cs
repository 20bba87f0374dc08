using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace ModelSdk.Tasks
{
    /// <summary>
    /// Resolves each <c>&lt;OnnxModel&gt;</c> item: validates its metadata, fixes the paths of its outputs,
    /// writes an options file (rewritten only when an option changes, so a changed option recompiles the
    /// model and nothing else does), and reads the dependency list of the last compile.
    /// </summary>
    public sealed class PrepareOnnxModels : Task
    {
        private static readonly string[] KnownTargets = { "cpu" };
        private static readonly string[] PlannedTargets = { "cuda", "opencl" };
        private static readonly string[] QuantizeModes = { "none", "int8", "fp16", "bf16" };
        private static readonly string[] CalibrationMethods = { "minmax", "percentile", "entropy" };

        /// <summary>The <c>OnnxModel</c> items.</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Where compiled models go (<c>$(IntermediateOutputPath)modelsdk/</c>).</summary>
        [Required]
        public string IntermediateDirectory { get; set; } = string.Empty;

        /// <summary>The project's folder (<c>$(MSBuildProjectDirectory)</c>): data paths are relative to it and must stay inside it.</summary>
        public string ProjectDirectory { get; set; } = string.Empty;

        /// <summary>The project's root namespace: the default <c>Namespace</c>.</summary>
        public string RootNamespace { get; set; } = string.Empty;

        /// <summary>The items with resolved metadata (PlanFile, WeightsFile, …).</summary>
        [Output]
        public ITaskItem[] PreparedModels { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Version of the SDK, part of every model's options so that an SDK update recompiles.</summary>
        public static string SdkVersion { get; } =
            typeof(PrepareOnnxModels).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

        /// <inheritdoc/>
        public override bool Execute()
        {
            var prepared = new List<ITaskItem>();
            foreach (ITaskItem model in Models)
            {
                ITaskItem? item = Prepare(model);
                if (item is not null)
                {
                    prepared.Add(item);
                }
            }

            PreparedModels = prepared.ToArray();
            return !Log.HasLoggedErrors;
        }

        private ITaskItem? Prepare(ITaskItem model)
        {
            string identity = model.ItemSpec;
            string fullPath = model.GetMetadata("FullPath");
            if (!File.Exists(fullPath))
            {
                Error("MSDK1001", identity, $"The model file '{identity}' does not exist.");
                return null;
            }

            string accessibility = Metadata(model, "Accessibility", "public");
            if (accessibility != "public" && accessibility != "internal")
            {
                Error("MSDK2007", identity, $"Accessibility '{accessibility}' must be 'public' or 'internal'.");
            }

            foreach (string target in Metadata(model, "Targets", "cpu").Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim().ToLowerInvariant()))
            {
                if (PlannedTargets.Contains(target))
                {
                    Error("MSDK2007", identity, $"Target '{target}' is not available in this version of ModelSdk; supported targets: {string.Join(", ", KnownTargets)}.");
                }
                else if (!KnownTargets.Contains(target))
                {
                    Error("MSDK2007", identity, $"Unknown target '{target}' in Targets; supported targets: {string.Join(", ", KnownTargets)}.");
                }
            }

            Dictionary<string, string> quantization = QuantizationMetadata(model, identity, out List<string> dataFiles);

            foreach (string unsupported in new[] { "FeatureTensor", "TrainingData" })
            {
                if (Metadata(model, unsupported, string.Empty).Length > 0)
                {
                    Error("MSDK2007", identity, $"{unsupported} (transfer learning) is not available in this version of ModelSdk.");
                }
            }

            string stem = Path.GetFileNameWithoutExtension(fullPath);
            string normalized = identity.Replace('\\', '/');
            string directory = Path.Combine(IntermediateDirectory, $"{stem}.{ShortHash(normalized)}");
            string Output(string extension) => Path.Combine(directory, stem + extension);

            var item = new TaskItem(model);
            item.SetMetadata("ModelSdkClassName", Metadata(model, "ClassName", string.Empty));
            item.SetMetadata("ModelSdkNamespace", Metadata(model, "Namespace", RootNamespace));
            item.SetMetadata("ModelSdkAccessibility", accessibility);
            item.SetMetadata("ModelSdkInputShapes", Metadata(model, "InputShapes", string.Empty));
            item.SetMetadata("ModelSdkResourceName", "ModelSdk/" + normalized + ".weights");
            foreach (KeyValuePair<string, string> option in quantization)
            {
                item.SetMetadata(option.Key, option.Value);
            }

            item.SetMetadata("DataFiles", string.Join(";", dataFiles));
            item.SetMetadata("PlanFile", Output(".plan"));
            item.SetMetadata("WeightsFile", Output(".weights"));
            item.SetMetadata("ReportFile", Output(".report.md"));
            item.SetMetadata("DepsFile", Output(".deps"));
            item.SetMetadata("OptionsFile", Output(".options"));
            (List<string> dependencies, bool changed) = ReadDependencies(Output(".deps"), fullPath);
            item.SetMetadata("Dependencies", string.Join(";", dependencies));
            WriteOptions(Output(".options"), fullPath, item);
            if (changed)
            {
                // Timestamps cannot tell; a missing plan makes the compile target run for this model.
                File.Delete(Output(".plan"));
            }

            return item;
        }

        /// <summary>
    /// Reads the files the last compile read (model and external data), each recorded with its size and
    /// time stamp. Returns the external data files (inputs of the compile target) and whether any file
    /// changed in a way timestamps alone would miss (replaced by an older copy, or removed).
    /// </summary>
    private static (List<string> Files, bool Changed) ReadDependencies(string depsFile, string modelPath)
    {
        var files = new List<string>();
        if (!File.Exists(depsFile))
        {
            return (files, false);
        }

        bool changed = false;
        foreach (string line in File.ReadAllLines(depsFile))
        {
            string[] parts = line.Split(new[] { ' ' }, 3);
            if (parts.Length != 3 || !long.TryParse(parts[0], out long size) || !long.TryParse(parts[1], out long ticks))
            {
                changed = true; // an unreadable record: recompile rather than guess
                continue;
            }

            if (size == -1)
            {
                // A folder of samples: its time changes when a file is added or removed. Not an input of the
                // compile target (its files are); a change deletes the plan instead.
                changed |= !Directory.Exists(parts[2]) || Directory.GetLastWriteTimeUtc(parts[2]).Ticks != ticks;
                continue;
            }

            var info = new FileInfo(parts[2]);
            changed |= !info.Exists || info.Length != size || info.LastWriteTimeUtc.Ticks != ticks;
            if (info.Exists && !string.Equals(info.FullName, Path.GetFullPath(modelPath), StringComparison.Ordinal))
            {
                files.Add(info.FullName);
            }
        }

        return (files, changed);
    }

    private void WriteOptions(string path, string modelPath, ITaskItem item)
        {
            var sb = new StringBuilder();
            sb.Append("sdk=").Append(SdkVersion).Append('\n');
            sb.Append("model=").Append(modelPath).Append('\n');
            foreach (string key in new[] { "ModelSdkInputShapes" }.Concat(QuantizationKeys))
            {
                sb.Append(key).Append('=').Append(item.GetMetadata(key)).Append('\n');
            }

            string content = sb.ToString();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (!File.Exists(path) || File.ReadAllText(path) != content)
            {
                File.WriteAllText(path, content);
            }
        }

        private static readonly string[] QuantizationKeys =
        {
            "ModelSdkQuantize", "ModelSdkCalibrationData", "ModelSdkCalibrationMethod", "ModelSdkCalibrationPercentile",
            "ModelSdkQuantizeExclude", "ModelSdkValidationData",
        };

        /// <summary>
        /// Validates the quantization metadata and resolves its data paths against the project folder. With
        /// Quantize=none the values are still checked (a typo surfaces at once), but the data is not looked
        /// for and nothing is passed on.
        /// </summary>
        private Dictionary<string, string> QuantizationMetadata(ITaskItem model, string identity, out List<string> dataFiles)
        {
            var result = QuantizationKeys.ToDictionary(k => k, _ => string.Empty);
            dataFiles = new List<string>();
            string quantize = Metadata(model, "Quantize", "none").ToLowerInvariant();
            if (!QuantizeModes.Contains(quantize))
            {
                Error("MSDK3001", identity, $"Quantize '{quantize}' is not one of {string.Join(", ", QuantizeModes)}.");
                return result;
            }

            string method = Metadata(model, "CalibrationMethod", "minmax").ToLowerInvariant();
            if (!CalibrationMethods.Contains(method))
            {
                Error("MSDK3001", identity, $"CalibrationMethod '{method}' is not one of {string.Join(", ", CalibrationMethods)}.");
            }

            string percentileText = Metadata(model, "CalibrationPercentile", "99.99");
            if (!double.TryParse(percentileText, NumberStyles.Float, CultureInfo.InvariantCulture, out double percentile) || !(percentile > 0 && percentile <= 100))
            {
                Error("MSDK3001", identity, $"CalibrationPercentile '{percentileText}' must be a number in (0, 100], e.g. 99.99.");
            }

            if (quantize == "none")
            {
                return result;
            }

            string calibration = Metadata(model, "CalibrationData", string.Empty);
            if (quantize == "int8" && calibration.Length == 0)
            {
                Error("MSDK3001", identity, "Quantize='int8' needs CalibrationData: a CSV with one representative input per row, or a folder of raw .bin tensors (CalibrationData=\"x=a.csv;mask=b.csv\" for several inputs).");
            }

            result["ModelSdkQuantize"] = quantize;
            result["ModelSdkCalibrationMethod"] = method;
            result["ModelSdkCalibrationPercentile"] = percentileText;
            result["ModelSdkQuantizeExclude"] = Metadata(model, "QuantizeExclude", string.Empty);
            result["ModelSdkCalibrationData"] = ResolveData(identity, "CalibrationData", calibration, dataFiles);
            result["ModelSdkValidationData"] = ResolveData(identity, "ValidationData", Metadata(model, "ValidationData", string.Empty), dataFiles);
            return result;
        }

        /// <summary>
        /// Resolves each path of a data specification (<c>path</c> or <c>name=path;…</c>) against the project
        /// folder; a path that leaves the folder or does not exist is an error naming it. Adds the files read
        /// (a CSV, or the .bin files of a folder) to <paramref name="files"/>, the compile target's inputs.
        /// </summary>
        private string ResolveData(string identity, string option, string spec, List<string> files)
        {
            string root = Path.GetFullPath(ProjectDirectory.Length > 0 ? ProjectDirectory : Directory.GetCurrentDirectory());
            string rootPrefix = root.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? root : root + Path.DirectorySeparatorChar;
            StringComparison comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            var resolved = new List<string>();
            foreach (string entry in spec.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).Where(e => e.Length > 0))
            {
                int eq = entry.IndexOf('=');
                string name = eq < 0 ? string.Empty : entry.Substring(0, eq).Trim() + "=";
                string path = eq < 0 ? entry : entry.Substring(eq + 1).Trim();
                string full;
                try
                {
                    full = Path.GetFullPath(Path.Combine(root, path));
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
                {
                    Error("MSDK3002", identity, $"{option} path '{path}' is not a valid path: {e.Message}");
                    continue;
                }

                if (!full.StartsWith(rootPrefix, comparison))
                {
                    Error("MSDK3002", identity, $"{option} '{path}' lies outside the project folder '{root}'; keep calibration and validation data inside the project.");
                    continue;
                }

                if (Directory.Exists(full))
                {
                    files.AddRange(Directory.GetFiles(full)
                        .Where(f => string.Equals(Path.GetExtension(f), ".bin", StringComparison.OrdinalIgnoreCase))
                        .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal));
                }
                else if (File.Exists(full))
                {
                    files.Add(full);
                }
                else
                {
                    Error("MSDK3002", identity, $"The {option} file '{path}' does not exist (looked for '{full}').");
                    continue;
                }

                resolved.Add(name + full);
            }

            return string.Join(";", resolved);
        }

        private static string Metadata(ITaskItem item, string name, string fallback)
        {
            string value = item.GetMetadata(name).Trim();
            return value.Length == 0 ? fallback : value;
        }

        private static string ShortHash(string text)
        {
            using var sha = SHA256.Create();
            byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
            return string.Concat(hash.Take(4).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        }

        private void Error(string code, string file, string message)
            => Log.LogError(null, code, null, file, 0, 0, 0, 0, message);
    }
}
