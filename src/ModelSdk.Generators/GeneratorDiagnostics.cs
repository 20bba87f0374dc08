using Microsoft.CodeAnalysis;

namespace ModelSdk.Generators
{
    /// <summary>The generator's diagnostics (MSDK5xxx), documented in docs/diagnostics.md.</summary>
    internal static class GeneratorDiagnostics
    {
        public const string UnreadablePlan = "MSDK5001";
        public const string InvalidName = "MSDK5002";
        public const string DuplicateClass = "MSDK5003";
        public const string InternalError = "MSDK5099";

        private const string Category = "ModelSdk";

        public static DiagnosticDescriptor Descriptor(string id)
        {
            string title = id switch
            {
                UnreadablePlan => "The compiled model plan cannot be read",
                InvalidName => "Invalid class name, namespace or accessibility for a model",
                DuplicateClass => "Two models generate the same class",
                _ => "Internal error in the ModelSdk generator",
            };
            return new DiagnosticDescriptor(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
                helpLinkUri: "https://github.com/modelsdk/modelsdk/blob/main/docs/diagnostics.md#" + id.ToLowerInvariant());
        }
    }
}
