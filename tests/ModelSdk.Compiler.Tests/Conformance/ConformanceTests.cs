using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ModelSdk.Compiler.Conformance;

namespace ModelSdk.Compiler.Tests.Conformance;

/// <summary>
/// ONNX's backend test cases (Debian's libonnx-testdata) through the same path as `modelsdk conformance`.
/// The committed baseline lists every case with its expected status and, for unsupported ones, why:
/// a case that passed and no longer does fails the suite, and so does a newly passing case that the
/// baseline does not list yet (so the list grows with the operator set). MODELSDK_ACCEPT=1 rewrites it.
/// </summary>
public class ConformanceTests
{
    private static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator", "simple"];

    [Fact]
    public void Backend_test_cases_match_the_committed_baseline()
    {
        string data = TestDataDirectory();
        var cases = Suites.SelectMany(s => ConformanceRunner.FindCases(Path.Combine(data, s)).Select(dir => (Dir: dir, Name: $"{s}/{Path.GetFileName(dir)}"))).ToList();
        var results = new ConcurrentBag<ConformanceResult>();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c => results.Add(ConformanceRunner.Run(c.Dir, c.Name)));
        var byName = results.ToDictionary(r => r.Name);
        string baselinePath = BaselinePath();

        if (Environment.GetEnvironmentVariable("MODELSDK_ACCEPT") == "1")
        {
            File.WriteAllLines(baselinePath, results.OrderBy(r => r.Name, StringComparer.Ordinal).Select(Line));
        }

        var failures = results.Where(r => r.Status == ConformanceStatus.Fail).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        Assert.True(failures.Count == 0, "Failing cases:\n" + string.Join("\n", failures));

        var expected = File.ReadAllLines(baselinePath).Where(l => l.Length > 0).ToDictionary(l => l.Split(' ', 3)[1].TrimEnd(':'), l => l.Split(' ')[0]);
        var regressed = expected.Where(e => e.Value == "PASS" && (!byName.TryGetValue(e.Key, out var r) || r.Status != ConformanceStatus.Pass))
            .Select(e => byName.TryGetValue(e.Key, out var r) ? r.ToString() : $"MISSING {e.Key}").ToList();
        Assert.True(regressed.Count == 0, "Cases that passed before and do not now:\n" + string.Join("\n", regressed));

        var unlisted = results.Where(r => r.Status == ConformanceStatus.Pass && expected.GetValueOrDefault(r.Name) != "PASS").Select(r => r.Name).Order(StringComparer.Ordinal).ToList();
        Assert.True(unlisted.Count == 0,
            $"Newly passing cases are not in {baselinePath}; run the tests with MODELSDK_ACCEPT=1 to add them:\n" + string.Join("\n", unlisted));

        int passed = results.Count(r => r.Status == ConformanceStatus.Pass);
        Assert.True(passed >= 240, $"Only {passed} conformance cases pass; at least 240 must.");
    }

    private static string Line(ConformanceResult r) => r.Status switch
    {
        ConformanceStatus.Pass => $"PASS {r.Name}",
        ConformanceStatus.Fail => $"FAIL {r.Name}: {r.Detail}",
        _ => $"UNSUPPORTED {r.Name}: {Shorten(r.Detail)}",
    };

    /// <summary>The reason without the absolute path of the case, so the baseline is the same on every machine.</summary>
    private static string Shorten(string detail)
    {
        string text = detail.Replace('\n', ' ');
        int at = text.IndexOf("/model.onnx", StringComparison.Ordinal);
        return at < 0 ? text : text[(at + "/model.onnx".Length)..].TrimStart(' ', ':');
    }

    /// <summary>The libonnx-testdata folder: $MODELSDK_ONNX_TESTDATA, or where Debian installs it.</summary>
    public static string TestDataDirectory()
    {
        string dir = Environment.GetEnvironmentVariable("MODELSDK_ONNX_TESTDATA") is { Length: > 0 } env ? env : "/usr/share/libonnx-testdata/data";
        Assert.True(Directory.Exists(Path.Combine(dir, "node")),
            $"ONNX backend test data not found in '{dir}'. On Debian/Ubuntu: apt-get install libonnx-testdata (./build.cmd test does this). " +
            "Elsewhere set MODELSDK_ONNX_TESTDATA to a folder with node/, pytorch-converted/, pytorch-operator/ and simple/ from onnx 1.12.");
        return dir;
    }

    private static string BaselinePath([CallerFilePath] string path = "") => Path.Combine(Path.GetDirectoryName(path)!, "conformance-baseline.txt");
}
