namespace ModelSdk.Generators.Tests.Support;

/// <summary>
/// Golden files: generated source is compared line by line with Baselines/&lt;Test&gt;/&lt;Hint&gt;.verified.cs.
/// On a difference the actual output is written next to it as .received.cs and the first differing
/// line is reported. Set MODELSDK_ACCEPT=1 to accept new output (rewrites the baselines).
/// </summary>
public static class Baseline
{
    public static void Verify(string testName, string hintName, string actual)
    {
        string dir = Path.Combine(Repository.TestsDirectory(), "Baselines", testName);
        string verified = Path.Combine(dir, Path.GetFileNameWithoutExtension(hintName) + ".verified.cs");
        string received = Path.ChangeExtension(verified, null).Replace(".verified", ".received") + ".cs";
        actual = actual.Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("MODELSDK_ACCEPT") == "1")
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        string expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : string.Empty;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        Directory.CreateDirectory(dir);
        File.WriteAllText(received, actual);
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        int line = 0;
        while (line < Math.Min(e.Length, a.Length) && e[line] == a[line])
        {
            line++;
        }

        Assert.Fail(expected.Length == 0
            ? $"No baseline {verified}. Review {received} and run the tests with MODELSDK_ACCEPT=1 to accept it."
            : $"Generated code differs from {verified} at line {line + 1}:\n  expected: {(line < e.Length ? e[line] : "<end>")}\n  actual:   {(line < a.Length ? a[line] : "<end>")}\n" +
              $"Review {received}; run the tests with MODELSDK_ACCEPT=1 to accept it.");
    }
}
