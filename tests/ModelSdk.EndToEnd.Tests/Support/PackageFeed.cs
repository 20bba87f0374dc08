using ModelSdk.Compiler.Tests.Support;

namespace ModelSdk.EndToEnd.Tests.Support;

/// <summary>
/// Packs the SDK once per test run into a temporary local feed, and creates consumer projects that
/// restore from it into their own package folder (so the global NuGet cache never holds a dev build).
/// </summary>
public sealed class PackageFeed : IDisposable
{
    public PackageFeed()
    {
        Root = Path.Combine(Path.GetTempPath(), "modelsdk-e2e", Guid.NewGuid().ToString("N"));
        Feed = Path.Combine(Root, "feed");
        Directory.CreateDirectory(Feed);
        DotNet.Run(RepositoryPaths.Root, TimeSpan.FromMinutes(10),
                "pack", Path.Combine(RepositoryPaths.Root, "nuget", "ModelSdk.Package.csproj"), "-c", "Release", "-o", Feed, "-nodeReuse:false")
            .EnsureSuccess("Packing the SDK");
        string package = Directory.GetFiles(Feed, "ModelSdk.*.nupkg").Single();
        Version = Path.GetFileNameWithoutExtension(package)["ModelSdk.".Length..];
    }

    public string Root { get; }

    public string Feed { get; }

    public string Version { get; }

    /// <summary>Creates a consumer project folder from <c>Consumer/</c> (or only a csproj) with the given models.</summary>
    public string CreateProject(string name, string csproj, string program, IEnumerable<(string Source, string Target)> files)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), csproj);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        File.WriteAllText(Path.Combine(dir, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), $"""
            <Project>
              <PropertyGroup>
                <ModelSdkVersion>{Version}</ModelSdkVersion>
                <RestorePackagesPath>{Path.Combine(Root, "packages")}</RestorePackagesPath>
                <UseSharedCompilation>false</UseSharedCompilation>
              </PropertyGroup>
            </Project>
            """);
        foreach ((string source, string target) in files)
        {
            string path = Path.Combine(dir, target);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Copy(source, path, overwrite: true);
        }

        return dir;
    }

    public static DotNet.Result Build(string project, params string[] extra)
        => DotNet.Run(project, TimeSpan.FromMinutes(5), ["build", "-nodeReuse:false", "-v:n", .. extra]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }
}
