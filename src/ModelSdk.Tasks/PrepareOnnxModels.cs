using System;
using System.Collections.Generic;
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

        /// <summary>The <c>OnnxModel</c> items.</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Where compiled models go (<c>$(IntermediateOutputPath)modelsdk/</c>).</summary>
        [Required]
        public string IntermediateDirectory { get; set; } = string.Empty;

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

            string quantize = Metadata(model, "Quantize", "none");
            if (!string.Equals(quantize, "none", StringComparison.OrdinalIgnoreCase))
            {
                Error("MSDK2007", identity, $"Quantize='{quantize}' is not available in this version of ModelSdk; use Quantize='none'.");
            }

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
            foreach (string key in new[] { "ModelSdkInputShapes" })
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
