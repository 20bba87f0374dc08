using ModelSdk.Compiler.Diagnostics;

namespace ModelSdk.Compiler.Import;

/// <summary>
/// Reads tensor data stored outside the model file, and only inside the model's own folder:
/// absolute locations, '..' segments and links whose target leaves the folder are rejected before
/// anything is opened. Every file read is recorded so the build can track it as a dependency.
/// </summary>
internal sealed class ExternalData(string modelPath)
{
    private readonly string _modelPath = modelPath;
    private readonly string _root = RealPath(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? Path.GetPathRoot(Path.GetFullPath(modelPath))!);
    private readonly SortedSet<string> _files = new(StringComparer.Ordinal);

    /// <summary>Full paths of the external data files read so far.</summary>
    public IReadOnlyCollection<string> Files => _files;

    /// <summary>Checks a location string without reading it (also used for tensors the compiler never loads).</summary>
    public string Resolve(string location, string tensorName)
    {
        string fail(string why) => throw Error(DiagnosticCodes.ExternalDataOutsideModel, tensorName,
            $"external data location '{location}' {why}. External data must be a relative path to a file inside the model's folder.");

        if (string.IsNullOrWhiteSpace(location))
        {
            fail("is empty");
        }

        if (location.IndexOf('\0') >= 0 || location.Length > 1024)
        {
            fail("is not a valid path");
        }

        if (Path.IsPathRooted(location) || location.StartsWith('/') || location.StartsWith('\\') || (location.Length >= 2 && location[1] == ':'))
        {
            fail("is an absolute path");
        }

        string[] segments = location.Split('/', '\\');
        if (segments.Any(s => s == ".."))
        {
            fail("contains '..'");
        }

        string candidate = Path.GetFullPath(Path.Combine(_root, location.Replace('\\', '/')));
        if (!IsInside(candidate, _root))
        {
            fail("leaves the model's folder");
        }

        // Follow links component by component: a link anywhere on the way may point elsewhere.
        string real;
        try
        {
            real = RealPath(candidate);
        }
        catch (IOException)
        {
            real = string.Empty;
            fail("is a link that cannot be resolved");
        }

        if (!IsInside(real, _root))
        {
            fail($"is a link to '{real}', outside the model's folder");
        }

        return real;
    }

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> (-1: to the end of the file).</summary>
    public byte[] Read(string location, long offset, long length, long expectedBytes, string tensorName)
    {
        string path = Resolve(location, tensorName);
        if (!File.Exists(path))
        {
            throw Error(DiagnosticCodes.ExternalDataUnreadable, tensorName, $"external data file '{location}' does not exist next to the model.");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long fileLength = stream.Length;
            if (offset < 0 || offset > fileLength)
            {
                throw Error(DiagnosticCodes.ExternalDataUnreadable, tensorName, $"external data offset {offset} lies outside '{location}' ({fileLength} bytes).");
            }

            long available = fileLength - offset;
            long toRead = length < 0 ? available : length;
            if (toRead > available)
            {
                throw Error(DiagnosticCodes.ExternalDataUnreadable, tensorName, $"external data range {offset}+{toRead} lies outside '{location}' ({fileLength} bytes).");
            }

            if (toRead != expectedBytes)
            {
                throw Error(DiagnosticCodes.TensorDataMismatch, tensorName, $"external data holds {toRead} bytes, but the tensor's shape and type need {expectedBytes}.");
            }

            var data = new byte[toRead];
            stream.Position = offset;
            stream.ReadExactly(data);
            _files.Add(path);
            return data;
        }
        catch (IOException e)
        {
            throw Error(DiagnosticCodes.ExternalDataUnreadable, tensorName, $"cannot read external data file '{location}': {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw Error(DiagnosticCodes.ExternalDataUnreadable, tensorName, $"cannot read external data file '{location}': {e.Message}");
        }
    }

    private CompileException Error(string code, string tensor, string message)
        => new(new Diagnostic(code, DiagnosticSeverity.Error, message, _modelPath, Tensor: tensor));

    private static bool IsInside(string path, string root)
    {
        string prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        StringComparison cmp = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return path.StartsWith(prefix, cmp);
    }

    /// <summary>The path with every link along it resolved (like realpath(3)); missing parts are kept as they are.</summary>
    internal static string RealPath(string path, int depth = 0)
    {
        if (depth > 40)
        {
            throw new IOException("too many levels of links");
        }

        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? "/";
        string current = root;
        string[] parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is not null)
            {
                FileSystemInfo? target = info.ResolveLinkTarget(returnFinalTarget: true);
                next = target is null ? next : RealPath(target.FullName, depth + 1);
            }

            current = next;
        }

        return current;
    }
}
