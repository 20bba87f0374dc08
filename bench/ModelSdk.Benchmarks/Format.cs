using System.Globalization;

namespace ModelSdk.Benchmarks;

/// <summary>What the program's reports print: durations and the machine's load.</summary>
internal static class Format
{
    /// <summary>A duration in nanoseconds as ns, µs or ms; "-" when there is none.</summary>
    public static string Time(double? nanoseconds) => nanoseconds switch
    {
        null => "-",
        < 1e3 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:F0} ns"),
        < 1e6 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e3:F1} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e6:F2} ms"),
    };

    /// <summary>The load averages over 1, 5 and 15 minutes (Linux), else "n/a".</summary>
    public static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
