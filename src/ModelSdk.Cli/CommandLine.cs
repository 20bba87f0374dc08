namespace ModelSdk.Cli;

/// <summary>Verb dispatch and the shared exit codes of <c>modelsdk</c>.</summary>
public static class CommandLine
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The model (or a conformance case) failed.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    private const string Help = """
        modelsdk — compile ONNX models into typed .NET code

        Usage:
          modelsdk inspect MODEL [--input-shapes SPEC]
              Validate the model as a build would and print its inputs, outputs,
              operator histogram, parameters and MACs.
          modelsdk run MODEL --input NAME=FILE.bin [--input …] --output DIR [--input-shapes SPEC]
              Run the model on raw little-endian tensors; writes one OUTPUT_NAME.bin per output.
          modelsdk conformance DIR [DIR …] [--quiet]
              Run ONNX backend test cases (folders with model.onnx and test_data_set_*).
          modelsdk operators
              Print the supported operators as a markdown table.
          modelsdk compile --model MODEL --plan FILE --weights FILE --report FILE --deps FILE [--input-shapes SPEC]
                  [--quantize none|int8|fp16|bf16] [--calibration-data DATA] [--calibration-method minmax|percentile|entropy]
                  [--calibration-percentile P] [--quantize-exclude NAME;NAME…] [--validation-data DATA]
              Compile a model to a plan and weights blob (what the MSBuild task runs).
              DATA: a CSV (one sample per row) or a folder of raw .bin tensors; name=DATA;name2=DATA per input.

        SPEC fixes symbolic input dimensions: name=d0,d1,…;name2=…
        Exit codes: 0 success, 1 model error or failed case, 2 usage error.
        """;

    /// <summary>Runs the command line.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Help);
            return args.Length == 0 ? Usage : Ok;
        }

        if (args[0] == "--version")
        {
            stdout.WriteLine(Compiler.Lowering.PlanBuilder.CompilerVersion);
            return Ok;
        }

        try
        {
            var options = Arguments.Parse(args.Skip(1));
            return args[0] switch
            {
                "inspect" => InspectCommand.Run(options, stdout),
                "run" => RunCommand.Run(options, stdout),
                "conformance" => ConformanceCommand.Run(options, stdout),
                "operators" => OperatorsCommand.Run(stdout),
                "compile" => CompileCommand.Run(options, stdout),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"modelsdk: {e.Message}");
            stderr.WriteLine("Run 'modelsdk --help' for usage.");
            return Usage;
        }
    }
}

/// <summary>A command-line mistake.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Parsed arguments: positional values and <c>--name value</c> options (repeatable).</summary>
public sealed class Arguments
{
    private static readonly HashSet<string> Flags = ["--quiet"];

    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);

    /// <summary>Positional arguments.</summary>
    public List<string> Positional { get; } = [];

    /// <summary>Parses everything after the verb.</summary>
    public static Arguments Parse(IEnumerable<string> args)
    {
        var result = new Arguments();
        using IEnumerator<string> e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                result.Positional.Add(arg);
                continue;
            }

            string value = "true";
            if (!Flags.Contains(arg))
            {
                if (!e.MoveNext())
                {
                    throw new UsageException($"option {arg} needs a value");
                }

                value = e.Current;
            }

            if (!result._options.TryGetValue(arg, out List<string>? list))
            {
                result._options[arg] = list = [];
            }

            list.Add(value);
        }

        return result;
    }

    /// <summary>All values of a repeatable option.</summary>
    public IReadOnlyList<string> All(string name) => _options.TryGetValue(name, out List<string>? v) ? v : [];

    /// <summary>The value of an option, or null.</summary>
    public string? Optional(string name) => _options.TryGetValue(name, out List<string>? v) ? v[^1] : null;

    /// <summary>The value of a required option.</summary>
    public string Required(string name) => Optional(name) ?? throw new UsageException($"option {name} is required");

    /// <summary>Whether a flag is set.</summary>
    public bool Flag(string name) => _options.ContainsKey(name);

    /// <summary>Exactly one positional argument.</summary>
    public string Single(string what)
        => Positional.Count == 1 ? Positional[0] : throw new UsageException($"expected one {what}");
}
