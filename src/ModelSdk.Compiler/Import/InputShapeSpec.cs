using System.Globalization;
using ModelSdk.Compiler.Diagnostics;

namespace ModelSdk.Compiler.Import;

/// <summary>
/// The <c>InputShapes</c> option: <c>name=d0,d1,…;name2=…</c>, fixing the symbolic dimensions of graph
/// inputs. Parsed strictly so a typo is an error, not a silently ignored setting.
/// </summary>
public static class InputShapeSpec
{
    /// <summary>Parses the option; <paramref name="source"/> names the file the option came from in errors.</summary>
    public static IReadOnlyDictionary<string, int[]> Parse(string? text, string? source)
    {
        var result = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
        {
            return result;
        }

        foreach (string rawEntry in text.Split(';'))
        {
            string entry = rawEntry.Trim();
            if (entry.Length == 0)
            {
                continue;
            }

            int eq = entry.LastIndexOf('=');
            if (eq <= 0)
            {
                throw Error(source, $"InputShapes entry '{entry}' is not of the form name=d0,d1,… (for example x=1,3,224,224).");
            }

            string name = entry[..eq].Trim();
            string dimsText = entry[(eq + 1)..].Trim();
            string[] dims = dimsText.Length == 0 ? [] : dimsText.Split(','); // "name=" is a scalar
            var shape = new int[dims.Length];
            for (int i = 0; i < dims.Length; i++)
            {
                if (!int.TryParse(dims[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                {
                    throw Error(source, $"InputShapes entry '{entry}': dimension '{dims[i].Trim()}' is not a non-negative integer.");
                }
            }

            if (!result.TryAdd(name, shape))
            {
                throw Error(source, $"InputShapes names input '{name}' twice.");
            }
        }

        return result;
    }

    private static CompileException Error(string? source, string message)
        => new(new Diagnostic(DiagnosticCodes.InvalidInputShapes, DiagnosticSeverity.Error, message, source));
}
