using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelSdk.Compiler;

namespace ModelSdk.Generators.Tests.Support;

/// <summary>A plan file with the item metadata the build targets would give it.</summary>
public sealed record PlanInput(string PlanPath, string PlanText, string ModelPath, string? ClassName = null, string? Namespace = "Tests", string Accessibility = "public", byte[]? WeightsBlob = null)
{
    public string ResourceName => "ModelSdk/" + Path.GetFileName(ModelPath) + ".weights";

    /// <summary>Compiles an ONNX model to a plan, as the build would.</summary>
    public static PlanInput FromModel(string modelPath, string? className = null, string? inputShapes = null, string? ns = "Tests")
    {
        CompileResult result = ModelCompiler.Compile(new CompileOptions(modelPath) { InputShapes = inputShapes });
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return new PlanInput(Path.ChangeExtension(modelPath, ".plan"), result.PlanText!, modelPath, className, ns, WeightsBlob: result.WeightsBlob());
    }
}

/// <summary>Runs the generator the way the compiler does, and compiles its output.</summary>
public static class GeneratorHarness
{
    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(ModelSdk.Runtime.Arena).Assembly.Location),
    ];

    /// <summary>C# 12 (the oldest the generated code needs) with XML documentation checked, as a consumer with GenerateDocumentationFile has.</summary>
    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.CSharp12, DocumentationMode.Diagnose);

    public static CSharpCompilation EmptyCompilation(params string[] sources)
        => CSharpCompilation.Create(
            "Consumer",
            sources.Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(IEnumerable<PlanInput> plans, string rootNamespace = "Root")
    {
        var texts = plans.Select(p => (AdditionalText)new InMemoryText(p.PlanPath, p.PlanText)).ToImmutableArray();
        var options = new OptionsProvider(plans.ToDictionary(p => p.PlanPath), rootNamespace);
        return CSharpGeneratorDriver.Create(
            [new OnnxModelGenerator().AsSourceGenerator()],
            texts,
            ParseOptions,
            options,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    /// <summary>Runs the generator; returns its result and the compilation with the generated sources.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(IEnumerable<PlanInput> plans, params string[] sources)
        => Run(plans, OptimizationLevel.Debug, sources);

    /// <summary>Runs the generator; the consumer compiles with <paramref name="optimization"/> (Release: what a published app runs).</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(IEnumerable<PlanInput> plans, OptimizationLevel optimization, params string[] sources)
    {
        CSharpCompilation compilation = EmptyCompilation(sources);
        compilation = compilation.WithOptions(compilation.Options.WithOptimizationLevel(optimization));
        GeneratorDriver driver = CreateDriver(plans).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>Emits the compilation with the plans' weights embedded as the build would, and loads it.</summary>
    public static Assembly Load(Compilation compilation, IEnumerable<PlanInput> plans)
    {
        using var pe = new MemoryStream();
        var emit = Emit(compilation, plans, pe);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
        pe.Position = 0;
        return new AssemblyLoadContext(null, isCollectible: true).LoadFromStream(pe);
    }

    /// <summary>Emits the compilation to <paramref name="pe"/> with the plans' weights embedded as the build would.</summary>
    public static Microsoft.CodeAnalysis.Emit.EmitResult Emit(Compilation compilation, IEnumerable<PlanInput> plans, Stream pe)
    {
        var resources = plans.Where(p => p.WeightsBlob is not null)
            .Select(p => new ResourceDescription(p.ResourceName, () => new MemoryStream(p.WeightsBlob!), isPublic: true));
        return compilation.Emit(pe, manifestResources: resources);
    }

    /// <summary>
    /// Errors of the compilation, and warnings in generated code (a consumer building with
    /// TreatWarningsAsErrors and documentation files must not break on generated code).
    /// </summary>
    public static IReadOnlyList<Diagnostic> Errors(Compilation compilation)
        => compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error
                || (d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true))
            .ToList();

    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text, Encoding.UTF8);
    }

    private sealed class OptionsProvider(Dictionary<string, PlanInput> plans, string rootNamespace) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new() { ["build_property.RootNamespace"] = rootNamespace });

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options([]);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile)
        {
            if (!plans.TryGetValue(textFile.Path, out PlanInput? p))
            {
                return new Options([]);
            }

            const string prefix = "build_metadata.AdditionalFiles.ModelSdk_";
            var values = new Dictionary<string, string>
            {
                [prefix + "Plan"] = "true",
                [prefix + "ModelPath"] = p.ModelPath,
                [prefix + "Accessibility"] = p.Accessibility,
                [prefix + "ResourceName"] = p.ResourceName,
            };
            if (p.ClassName is not null)
            {
                values[prefix + "ClassName"] = p.ClassName;
            }

            if (p.Namespace is not null)
            {
                values[prefix + "Namespace"] = p.Namespace;
            }

            return new Options(values);
        }
    }

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}
