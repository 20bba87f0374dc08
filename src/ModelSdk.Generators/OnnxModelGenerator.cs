using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ModelSdk.Generators.Model;

namespace ModelSdk.Generators
{
    /// <summary>
    /// The pipeline: plan AdditionalFiles (marked by the build targets) → per-plan generated source
    /// (cached by content) → one output step that checks class names are unique and adds the sources.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class OnnxModelGenerator : IIncrementalGenerator
    {
        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<GeneratedModel> models = context.AdditionalTextsProvider
                .Combine(context.AnalyzerConfigOptionsProvider)
                .Select((pair, _) => (File: pair.Left, Options: ModelParser.ReadOptions(pair.Left, pair.Right.GetOptions(pair.Left), pair.Right.GlobalOptions)))
                .Where(x => x.Options is not null)
                .Select((x, ct) => ModelParser.Generate(x.Options!, x.File.GetText(ct), ct))
                .WithTrackingName("Models");

            context.RegisterSourceOutput(models.Collect(), Emit);
        }

        private static void Emit(SourceProductionContext context, ImmutableArray<GeneratedModel> models)
        {
            var seen = new Dictionary<string, string>(System.StringComparer.OrdinalIgnoreCase); // hint names are case-insensitive
            foreach (GeneratedModel model in models.OrderBy(m => m.ModelPath, System.StringComparer.Ordinal))
            {
                foreach (DiagnosticInfo d in model.Diagnostics)
                {
                    context.ReportDiagnostic(Diagnostic.Create(GeneratorDiagnostics.Descriptor(d.Id), FileLocation(d.FilePath), d.Message));
                }

                if (model.Source is null)
                {
                    continue;
                }

                if (seen.TryGetValue(model.HintName, out string? other))
                {
                    context.ReportDiagnostic(Diagnostic.Create(GeneratorDiagnostics.Descriptor(GeneratorDiagnostics.DuplicateClass), FileLocation(model.ModelPath),
                        $"'{model.ModelPath}' and '{other}' both generate class {model.FullName}. Give one of the <OnnxModel> items another ClassName or Namespace."));
                    continue;
                }

                seen.Add(model.HintName, model.ModelPath);
                context.AddSource(model.HintName, SourceText.From(model.Source, System.Text.Encoding.UTF8));
            }
        }

        private static Location FileLocation(string path) => Location.Create(path, default, default);
    }
}
