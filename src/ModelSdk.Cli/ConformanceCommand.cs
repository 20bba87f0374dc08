using ModelSdk.Compiler.Conformance;

namespace ModelSdk.Cli;

/// <summary><c>modelsdk conformance</c>: one line per case, then the totals; fails only if a case failed.</summary>
internal static class ConformanceCommand
{
    public static int Run(Arguments args, TextWriter stdout)
    {
        if (args.Positional.Count == 0)
        {
            throw new UsageException("expected at least one DIR");
        }

        bool quiet = args.Flag("--quiet");
        int passed = 0, failed = 0, unsupported = 0;
        foreach (string dir in args.Positional)
        {
            if (!Directory.Exists(dir))
            {
                throw new UsageException($"'{dir}' is not a directory");
            }

            string suite = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            foreach (string caseDir in ConformanceRunner.FindCases(dir))
            {
                string name = caseDir == dir ? suite : $"{suite}/{Path.GetFileName(caseDir)}";
                ConformanceResult r = ConformanceRunner.Run(caseDir, name);
                switch (r.Status)
                {
                    case ConformanceStatus.Pass:
                        passed++;
                        break;
                    case ConformanceStatus.Fail:
                        failed++;
                        break;
                    default:
                        unsupported++;
                        break;
                }

                if (!quiet || r.Status == ConformanceStatus.Fail)
                {
                    stdout.WriteLine(r.ToString());
                }
            }
        }

        stdout.WriteLine($"{passed} passed, {failed} failed, {unsupported} unsupported");
        return failed > 0 ? CommandLine.Failed : CommandLine.Ok;
    }
}
