using System.Runtime.CompilerServices;
using ModelSdk.Compiler.Tests.Support;

namespace ModelSdk.Generators.Tests.Support;

/// <summary>Paths of this test project and of the shared fixtures.</summary>
public static class Repository
{
    public static string TestsDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(Path.GetDirectoryName(path))!;

    public static string Fixture(string relative) => Path.Combine(RepositoryPaths.Fixtures, relative);
}
