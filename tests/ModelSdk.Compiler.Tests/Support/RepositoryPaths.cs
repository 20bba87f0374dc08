using System.Runtime.CompilerServices;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Paths in the repository, found from this source file.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Find();

    public static string Fixtures => Path.Combine(Root, "tests", "fixtures", "models");

    private static string Find([CallerFilePath] string path = "")
    {
        string? dir = Path.GetDirectoryName(path);
        while (dir is not null && !File.Exists(Path.Combine(dir, "ModelSdk.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Repository root not found.");
    }
}
