using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Quantization;

/// <summary>A graph input that sample data fills: its name, element type and static shape.</summary>
public sealed record DataInput(string Name, ElementType Type, int[] Shape)
{
    /// <summary>Values per sample (the product of the shape).</summary>
    public int ElementCount => Shapes.ElementCount(Shape);

    /// <summary>Bytes per sample.</summary>
    public int ByteCount => checked(ElementCount * Type.SizeInBytes());

    /// <summary>The inputs of an inferred graph.</summary>
    public static IReadOnlyList<DataInput> Of(Graph graph) => graph.Inputs.Select(v => new DataInput(v.Name, v.Type, v.KnownShape)).ToList();

    /// <summary>For messages: <c>'x' (float32[1,784])</c>.</summary>
    public override string ToString() => $"'{Name}' ({Type.ToPlanName()}{Shapes.Format(Shape)})";
}

/// <summary>One sample: the raw little-endian bytes of every input, in the order of the inputs, and its label (validation data only).</summary>
/// <param name="Index">0-based position in the data.</param>
/// <param name="Inputs">One buffer per input.</param>
/// <param name="Label">The last CSV column of labelled data, otherwise NaN.</param>
public sealed record DataSample(int Index, byte[][] Inputs, double Label);

/// <summary>
/// Sample data for calibration or validation, read as a stream: per input a CSV file (one sample per row,
/// the flattened tensor in row-major order, an optional header row recognised by a first field that is not
/// a number, comma-separated, invariant culture) or a folder of raw little-endian <c>.bin</c> tensors (one
/// file per sample, in ordinal order of file names). Only one sample per input is held in memory at a time
/// and a CSV is tokenised field by field, so neither the file size nor the length of a row bounds memory.
/// Every problem is a <see cref="CompileException"/> naming the file (and line and column), never a raw exception.
/// </summary>
public sealed class SampleDataSet
{
    /// <summary>Longest CSV field accepted; a longer one is not a number of any supported type.</summary>
    private const int MaxFieldLength = 128;

    private readonly (DataInput Input, string Path, bool Folder)[] _sources;
    private readonly string _option;
    private readonly bool _labelled;
    private readonly string? _modelPath;

    private SampleDataSet((DataInput, string, bool)[] sources, string option, bool labelled, string? modelPath)
    {
        _sources = sources;
        _option = option;
        _labelled = labelled;
        _modelPath = modelPath;
    }

    /// <summary>The inputs, in graph order.</summary>
    public IReadOnlyList<DataInput> Inputs => _sources.Select(s => s.Input).ToList();

    /// <summary>The file or folder of each input, in the order of <see cref="Inputs"/>.</summary>
    public IReadOnlyList<string> Sources => _sources.Select(s => s.Path).ToList();

    /// <summary>
    /// Every file and folder this data set reads (for the build's incremental checks): each CSV, each
    /// folder, and each <c>.bin</c> file in it.
    /// </summary>
    public IReadOnlyList<string> Dependencies
    {
        get
        {
            var result = new List<string>();
            foreach ((_, string path, bool folder) in _sources)
            {
                result.Add(Path.GetFullPath(path));
                if (folder)
                {
                    result.AddRange(BinFiles(path).Select(Path.GetFullPath));
                }
            }

            return result;
        }
    }

    /// <summary>
    /// Checks <paramref name="spec"/> against the model's inputs and that every file or folder exists.
    /// </summary>
    /// <param name="spec"><c>path</c> for a one-input model, or <c>name=path;name2=path2</c>.</param>
    /// <param name="inputs">The model's inputs.</param>
    /// <param name="option">The option's name for messages (<c>CalibrationData</c>, <c>ValidationData</c>).</param>
    /// <param name="labelled">Whether each CSV row ends with a label column (validation data).</param>
    /// <param name="modelPath">The model, for diagnostics that concern it rather than a data file.</param>
    public static SampleDataSet Open(string spec, IReadOnlyList<DataInput> inputs, string option, bool labelled, string? modelPath)
    {
        var entries = spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
        {
            throw Error(DiagnosticCodes.InvalidQuantizationOptions, $"{option} is empty.", modelPath);
        }

        string inputList = string.Join(", ", inputs.Select(i => $"'{i.Name}'"));
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            int eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                if (entries.Length != 1 || inputs.Count != 1)
                {
                    throw Error(DiagnosticCodes.CalibrationInputsMismatch,
                        $"{option} must name the data of each input of the model ({inputList}), e.g. {option}=\"{string.Join(";", inputs.Select(i => i.Name + "=" + i.Name + ".csv"))}\".", modelPath);
                }

                byName[inputs[0].Name] = entry;
                continue;
            }

            string name = entry[..eq].Trim();
            string path = entry[(eq + 1)..].Trim();
            if (!inputs.Any(i => i.Name == name))
            {
                throw Error(DiagnosticCodes.CalibrationInputsMismatch, $"{option} names '{name}', which is not an input of the model. The inputs are: {inputList}.", modelPath);
            }

            if (path.Length == 0 || !byName.TryAdd(name, path))
            {
                throw Error(DiagnosticCodes.InvalidQuantizationOptions, path.Length == 0
                    ? $"{option} gives no file for input '{name}'."
                    : $"{option} names input '{name}' twice.", modelPath);
            }
        }

        string[] missing = inputs.Where(i => !byName.ContainsKey(i.Name)).Select(i => $"'{i.Name}'").ToArray();
        if (missing.Length > 0)
        {
            throw Error(DiagnosticCodes.CalibrationInputsMismatch,
                $"{option} has no data for input{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing)}; the model's inputs are {inputList}; name each: name=file.csv;name2=file2.csv.", modelPath);
        }

        var sources = new List<(DataInput, string, bool)>();
        foreach (DataInput input in inputs)
        {
            string path = byName[input.Name];
            bool folder = Directory.Exists(path);
            if (!folder && !File.Exists(path))
            {
                throw Error(DiagnosticCodes.CalibrationDataUnreadable, $"The {option} file '{path}' for input '{input.Name}' does not exist.", path);
            }

            if (folder && labelled)
            {
                throw Error(DiagnosticCodes.InvalidQuantizationOptions, $"{option} '{path}' is a folder; labelled data must be a CSV whose last column is the label.", path);
            }

            sources.Add((input, path, folder));
        }

        return new SampleDataSet([.. sources], option, labelled, modelPath);
    }

    /// <summary>
    /// Reads the samples in order. Every input's source must hold the same number of samples.
    /// </summary>
    public IEnumerable<DataSample> Read()
    {
        var readers = new ISampleReader[_sources.Length];
        try
        {
            for (int i = 0; i < readers.Length; i++)
            {
                (DataInput input, string path, bool folder) = _sources[i];
                readers[i] = folder ? new BinFolderReader(input, path) : new CsvReader(input, path, _labelled);
            }

            for (int index = 0; ; index++)
            {
                var buffers = new byte[readers.Length][];
                double label = double.NaN;
                int ended = -1, read = -1;
                for (int i = 0; i < readers.Length; i++)
                {
                    buffers[i] = new byte[_sources[i].Input.ByteCount];
                    if (readers[i].TryRead(buffers[i], out double l))
                    {
                        read = i;
                        if (i == 0)
                        {
                            label = l;
                        }
                    }
                    else
                    {
                        ended = i;
                    }
                }

                if (read < 0)
                {
                    yield break;
                }

                if (ended >= 0)
                {
                    throw Error(DiagnosticCodes.CalibrationInputsMismatch,
                        $"{_option} for input '{_sources[ended].Input.Name}' ('{_sources[ended].Path}') has {index} samples, but the data for input '{_sources[read].Input.Name}' ('{_sources[read].Path}') has more; every input needs the same number of samples.",
                        _sources[ended].Path);
                }

                yield return new DataSample(index, buffers, label);
            }
        }
        finally
        {
            foreach (ISampleReader? r in readers)
            {
                r?.Dispose();
            }
        }
    }

    private static string[] BinFiles(string folder)
        => Directory.GetFiles(folder)
            .Where(f => string.Equals(Path.GetExtension(f), ".bin", StringComparison.OrdinalIgnoreCase))
            .OrderBy(Path.GetFileName, StringComparer.Ordinal)
            .ToArray();

    private static CompileException Error(string code, string message, string? file)
        => new(new Diagnostic(code, DiagnosticSeverity.Error, message, file));

    private static CompileException Unreadable(string path, Exception e)
        => Error(DiagnosticCodes.CalibrationDataUnreadable, $"The file '{path}' cannot be read: {e.Message}", path);

    private interface ISampleReader : IDisposable
    {
        bool TryRead(Span<byte> destination, out double label);
    }

    /// <summary>One raw little-endian tensor per <c>.bin</c> file, in ordinal order of file names.</summary>
    private sealed class BinFolderReader(DataInput input, string folder) : ISampleReader
    {
        private readonly string[] _files = ListFiles(folder);
        private int _next;

        private static string[] ListFiles(string folder)
        {
            try
            {
                return BinFiles(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unreadable(folder, e);
            }
        }

        public bool TryRead(Span<byte> destination, out double label)
        {
            label = double.NaN;
            if (_next == _files.Length)
            {
                return false;
            }

            string file = _files[_next++];
            try
            {
                using FileStream stream = File.OpenRead(file);
                if (stream.Length != destination.Length)
                {
                    throw Error(DiagnosticCodes.CalibrationSampleSize,
                        $"'{file}' holds {stream.Length} bytes; input {input} needs {destination.Length} (one raw little-endian tensor per file).", file);
                }

                stream.ReadExactly(destination);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unreadable(file, e);
            }
        }

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// One sample per row. Parses field by field straight into the sample's buffer: a row is never held
    /// as a string, so a huge or malformed line costs no memory.
    /// </summary>
    private sealed class CsvReader : ISampleReader
    {
        private readonly DataInput _input;
        private readonly string _path;
        private readonly bool _labelled;
        private readonly StreamReader _reader;
        private readonly StringBuilder _field = new();
        private int _line;
        private bool _seenRow;

        public CsvReader(DataInput input, string path, bool labelled)
        {
            _input = input;
            _path = path;
            _labelled = labelled;
            try
            {
                _reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unreadable(path, e);
            }
        }

        public void Dispose() => _reader.Dispose();

        public bool TryRead(Span<byte> destination, out double label)
        {
            try
            {
                return ReadRow(destination, out label);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unreadable(_path, e);
            }
        }

        private bool ReadRow(Span<byte> destination, out double label)
        {
            label = double.NaN;
            int expected = _input.ElementCount;
            int fieldsPerRow = expected + (_labelled ? 1 : 0);
            while (true)
            {
                _line++;
                (bool end, bool eof) = NextField();
                string text = _field.ToString().Trim();
                if (end && text.Length == 0)
                {
                    if (eof)
                    {
                        return false;
                    }

                    continue; // a blank line
                }

                bool header = false;
                if (!_seenRow)
                {
                    _seenRow = true;
                    header = !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
                }

                int column = 1;
                while (true)
                {
                    if (!header)
                    {
                        if (column <= expected)
                        {
                            Store(text, destination, column);
                        }
                        else if (column == fieldsPerRow && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out label))
                        {
                            throw Invalid(column, text, "is not a number (the label)");
                        }
                    }

                    if (end)
                    {
                        break;
                    }

                    (end, _) = NextField();
                    text = _field.ToString().Trim();
                    column++;
                }

                if (header)
                {
                    continue;
                }

                if (column != fieldsPerRow)
                {
                    string need = _labelled ? $"{expected} values and a label" : $"{expected} values";
                    throw Error(DiagnosticCodes.CalibrationSampleSize,
                        $"'{_path}' line {_line} has {column} values; input {_input} needs {need} per row (one sample per row, flattened in row-major order).", _path);
                }

                return true;
            }
        }

        /// <summary>Reads one field into <see cref="_field"/>: whether it ended the line, and the file.</summary>
        private (bool EndOfLine, bool EndOfFile) NextField()
        {
            _field.Clear();
            while (true)
            {
                int c = _reader.Read();
                if (c < 0)
                {
                    return (true, true);
                }

                switch (c)
                {
                    case ',':
                        return (false, false);
                    case '\n':
                        return (true, false);
                    case '\r':
                        continue;
                }

                if (_field.Length == MaxFieldLength)
                {
                    continue; // too long to be a number: reported when parsed
                }

                _field.Append((char)c);
            }
        }

        private void Store(string text, Span<byte> destination, int column)
        {
            int i = column - 1;
            if (text.Length == 0)
            {
                throw Invalid(column, text, "is empty");
            }

            if (text.Length >= MaxFieldLength)
            {
                throw Invalid(column, text[..16] + "…", "is not a number");
            }

            bool ok;
            const NumberStyles Real = NumberStyles.Float;
            const NumberStyles Whole = NumberStyles.AllowLeadingSign;
            CultureInfo inv = CultureInfo.InvariantCulture;
            switch (_input.Type)
            {
                case ElementType.Float32:
                    ok = float.TryParse(text, Real, inv, out float f32);
                    Write(destination, i, f32);
                    break;
                case ElementType.Float64:
                    ok = double.TryParse(text, Real, inv, out double f64);
                    Write(destination, i, f64);
                    break;
                case ElementType.Float16:
                    ok = double.TryParse(text, Real, inv, out double h);
                    Write(destination, i, (Half)h);
                    break;
                case ElementType.BFloat16:
                    ok = float.TryParse(text, Real, inv, out float b);
                    Write(destination, i, ((Runtime.BFloat16)b).Bits);
                    break;
                case ElementType.Bool:
                    ok = text is "0" or "1" || bool.TryParse(text, out _);
                    Write(destination, i, (byte)(text is "1" || string.Equals(text, "true", StringComparison.OrdinalIgnoreCase) ? 1 : 0));
                    break;
                case ElementType.UInt64:
                    ok = ulong.TryParse(text, Whole, inv, out ulong u64);
                    Write(destination, i, u64);
                    break;
                default:
                    if (!long.TryParse(text, Whole, inv, out long v))
                    {
                        throw Invalid(column, text, double.TryParse(text, Real, inv, out _)
                            ? $"is not an integer; input '{_input.Name}' is {_input.Type.ToPlanName()}"
                            : "is not a number");
                    }

                    ok = _input.Type switch
                    {
                        ElementType.Int8 => Fits(v, sbyte.MinValue, sbyte.MaxValue) && Write(destination, i, (sbyte)v),
                        ElementType.UInt8 => Fits(v, byte.MinValue, byte.MaxValue) && Write(destination, i, (byte)v),
                        ElementType.Int16 => Fits(v, short.MinValue, short.MaxValue) && Write(destination, i, (short)v),
                        ElementType.UInt16 => Fits(v, ushort.MinValue, ushort.MaxValue) && Write(destination, i, (ushort)v),
                        ElementType.Int32 => Fits(v, int.MinValue, int.MaxValue) && Write(destination, i, (int)v),
                        ElementType.UInt32 => Fits(v, uint.MinValue, uint.MaxValue) && Write(destination, i, (uint)v),
                        ElementType.Int64 => Write(destination, i, v),
                        _ => throw new InvalidOperationException($"Sample data of type {_input.Type} is not handled."),
                    };
                    if (!ok)
                    {
                        throw Invalid(column, text, $"is out of the range of {_input.Type.ToPlanName()} (input '{_input.Name}')");
                    }

                    return;
            }

            if (!ok)
            {
                throw Invalid(column, text, _input.Type == ElementType.Bool ? "is not a bool (0, 1, true or false)" : "is not a number");
            }
        }

        private static bool Fits(long v, long min, long max) => v >= min && v <= max;

        private static bool Write<T>(Span<byte> destination, int index, T value) where T : unmanaged
        {
            MemoryMarshal.Cast<byte, T>(destination)[index] = value;
            return true;
        }

        private CompileException Invalid(int column, string text, string problem)
            => Error(DiagnosticCodes.CalibrationValueInvalid, $"'{_path}' line {_line}, column {column}: '{text}' {problem}.", _path);
    }
}
