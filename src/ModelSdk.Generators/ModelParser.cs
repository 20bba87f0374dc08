using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelSdk.Generators.Emitter;
using ModelSdk.Generators.Model;
using ModelSdk.Plan;

namespace ModelSdk.Generators
{
    /// <summary>Turns one plan AdditionalFile and its item metadata into a <see cref="GeneratedModel"/>. Never throws.</summary>
    internal static class ModelParser
    {
        /// <summary>Metadata prefix the build targets use on plan AdditionalFiles.</summary>
        private const string Prefix = "build_metadata.AdditionalFiles.ModelSdk_";

        public static string GeneratorVersion { get; } =
            typeof(ModelParser).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

        /// <summary>The options of a plan file, or null when the file is not a ModelSdk plan.</summary>
        public static ModelOptions? ReadOptions(AdditionalText file, AnalyzerConfigOptions options, AnalyzerConfigOptions global)
        {
            if (!options.TryGetValue(Prefix + "Plan", out string? isPlan) || !string.Equals(isPlan, "true", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            string Get(string key, string fallback) => options.TryGetValue(Prefix + key, out string? v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : fallback;

            global.TryGetValue("build_property.RootNamespace", out string? rootNamespace);
            string modelPath = Get("ModelPath", file.Path);
            string defaultClass = Naming.ToPascal(Path.GetFileNameWithoutExtension(modelPath));
            return new ModelOptions(
                file.Path,
                modelPath,
                Get("ClassName", defaultClass),
                Get("Namespace", rootNamespace ?? string.Empty),
                Get("Accessibility", "public"),
                Get("ResourceName", Path.GetFileName(file.Path) + ".weights"));
        }

        public static GeneratedModel Generate(ModelOptions options, SourceText? text, CancellationToken cancellationToken)
        {
            string fullName = options.Namespace.Length == 0 ? options.ClassName : options.Namespace + "." + options.ClassName;
            string hint = SafeHint(fullName) + ".g.cs";
            var diagnostics = new List<DiagnosticInfo>();
            string? source = null;
            try
            {
                if (!Naming.IsValidIdentifier(options.ClassName))
                {
                    diagnostics.Add(new DiagnosticInfo(GeneratorDiagnostics.InvalidName,
                        $"ClassName '{options.ClassName}' is not a valid C# identifier. Set the ClassName metadata of the <OnnxModel> item to a valid class name.", options.ModelPath));
                }
                else if (options.Namespace.Length > 0 && !IsValidNamespace(options.Namespace))
                {
                    diagnostics.Add(new DiagnosticInfo(GeneratorDiagnostics.InvalidName,
                        $"Namespace '{options.Namespace}' is not a valid C# namespace. Set the Namespace metadata of the <OnnxModel> item.", options.ModelPath));
                }
                else if (options.Accessibility != "public" && options.Accessibility != "internal")
                {
                    diagnostics.Add(new DiagnosticInfo(GeneratorDiagnostics.InvalidName,
                        $"Accessibility '{options.Accessibility}' must be 'public' or 'internal'.", options.ModelPath));
                }
                else if (text is null)
                {
                    diagnostics.Add(new DiagnosticInfo(GeneratorDiagnostics.UnreadablePlan,
                        $"The compiled plan '{options.PlanPath}' cannot be read. Rebuild the project.", options.ModelPath));
                }
                else
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    CompiledPlan plan = PlanReader.Read(text.ToString());
                    string? problem = PlanChecks.Find(plan);
                    if (problem is not null)
                    {
                        throw new PlanFormatException(0, problem);
                    }

                    source = ModelEmitter.Emit(plan, options, GeneratorVersion);
                }
            }
            catch (PlanFormatException e)
            {
                diagnostics.Add(new DiagnosticInfo(GeneratorDiagnostics.UnreadablePlan,
                    $"The compiled plan '{options.PlanPath}' is invalid ({e.Message}). Rebuild the project; if this persists, the plan was written by another ModelSdk version.", options.ModelPath));
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception e)
            {
                diagnostics.Add(new DiagnosticInfo(GeneratorDiagnostics.InternalError,
                    $"Internal error generating the model class: {e.GetType().Name}: {e.Message}. Please report it.", options.ModelPath));
            }

            return new GeneratedModel(fullName, hint, source, options.ModelPath, new EquatableArray<DiagnosticInfo>(diagnostics));
        }

        private static bool IsValidNamespace(string ns)
        {
            foreach (string part in ns.Split('.'))
            {
                if (!Naming.IsValidIdentifier(part))
                {
                    return false;
                }
            }

            return true;
        }

        private static string SafeHint(string fullName)
        {
            var chars = fullName.ToCharArray();
            for (int i = 0; i < chars.Length; i++)
            {
                char c = chars[i];
                if (!(char.IsLetterOrDigit(c) || c == '.' || c == '_') || c > 0x7F)
                {
                    chars[i] = '_';
                }
            }

            string safe = new string(chars);
            if (safe == fullName)
            {
                return safe;
            }

            // Keep names that differ only in replaced characters apart (FNV-1a: stable across runtimes).
            uint hash = 2166136261;
            foreach (char c in fullName)
            {
                hash = unchecked((hash ^ c) * 16777619);
            }

            return safe + "_" + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Consistency checks the generated code relies on, beyond what the plan reader checks.</summary>
    internal static class PlanChecks
    {
        public static string? Find(CompiledPlan plan)
        {
            foreach (PlanStep step in plan.Steps)
            {
                foreach (PlanArg arg in step.Args)
                {
                    if (arg.Kind == PlanArgKind.TensorOut)
                    {
                        StorageKind storage = plan.Tensors[arg.Tensor].Storage;
                        if (storage == StorageKind.Input || storage == StorageKind.Weights)
                        {
                            return $"step {step.Kernel} writes tensor {arg.Tensor}, which is read-only";
                        }
                    }
                }
            }

            return null;
        }
    }
}
