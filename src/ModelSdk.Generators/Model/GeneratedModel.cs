using System;

namespace ModelSdk.Generators.Model
{
    /// <summary>A diagnostic as plain data (no Location), reported at the plan or model file.</summary>
    internal sealed class DiagnosticInfo : IEquatable<DiagnosticInfo>
    {
        public DiagnosticInfo(string id, string message, string filePath)
        {
            Id = id;
            Message = message;
            FilePath = filePath;
        }

        public string Id { get; }

        public string Message { get; }

        public string FilePath { get; }

        public bool Equals(DiagnosticInfo? other) => other is not null && Id == other.Id && Message == other.Message && FilePath == other.FilePath;

        public override bool Equals(object? obj) => Equals(obj as DiagnosticInfo);

        public override int GetHashCode() => (Id, Message, FilePath).GetHashCode();
    }

    /// <summary>What one plan turns into: the class's full name, the source, and any diagnostics.</summary>
    internal sealed class GeneratedModel : IEquatable<GeneratedModel>
    {
        public GeneratedModel(string fullName, string hintName, string? source, string modelPath, EquatableArray<DiagnosticInfo> diagnostics)
        {
            FullName = fullName;
            HintName = hintName;
            Source = source;
            ModelPath = modelPath;
            Diagnostics = diagnostics;
        }

        public string FullName { get; }

        public string HintName { get; }

        public string? Source { get; }

        public string ModelPath { get; }

        public EquatableArray<DiagnosticInfo> Diagnostics { get; }

        public bool Equals(GeneratedModel? other)
            => other is not null && FullName == other.FullName && HintName == other.HintName && Source == other.Source
               && ModelPath == other.ModelPath && Diagnostics.Equals(other.Diagnostics);

        public override bool Equals(object? obj) => Equals(obj as GeneratedModel);

        public override int GetHashCode() => (FullName, HintName, Source).GetHashCode();
    }

    /// <summary>The item metadata of one model, as the build targets pass it.</summary>
    internal sealed class ModelOptions
    {
        public ModelOptions(string planPath, string modelPath, string className, string @namespace, string accessibility, string resourceName)
        {
            PlanPath = planPath;
            ModelPath = modelPath;
            ClassName = className;
            Namespace = @namespace;
            Accessibility = accessibility;
            ResourceName = resourceName;
        }

        public string PlanPath { get; }

        public string ModelPath { get; }

        public string ClassName { get; }

        public string Namespace { get; }

        public string Accessibility { get; }

        public string ResourceName { get; }
    }
}
