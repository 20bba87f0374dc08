using System.Runtime.CompilerServices;

namespace ModelSdk.Generators.Tests.Support;

/// <summary>Paths inside the repository, found from this source file so tests run from any folder.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string TestsDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(Path.GetDirectoryName(path))!;

    public static string Fixture(string relative) => Path.Combine(Root, "tests", "fixtures", "models", relative);

    private static string FindRoot([CallerFilePath] string path = "")
    {
        string? dir = Path.GetDirectoryName(path);
        while (dir is not null && !File.Exists(Path.Combine(dir, "ModelSdk.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Repository root not found.");
    }
}
