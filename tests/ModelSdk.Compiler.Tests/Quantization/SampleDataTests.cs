using System.Runtime.InteropServices;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Quantization;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Quantization;

/// <summary>Reading calibration and validation data: CSV and .bin folders, and every error as its own diagnostic.</summary>
public sealed class SampleDataTests : IDisposable
{
    private static readonly DataInput X = new("x", ElementType.Float32, [1, 3]);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "modelsdk-sampledata-tests", Guid.NewGuid().ToString("N"));

    public SampleDataTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Csv_rows_become_samples_with_header_blank_lines_crlf_and_spaces()
    {
        string csv = Write("a.csv", "p0,p1,p2\r\n1,2.5,-3e2\r\n\r\n 0.125 , -0 ,1E-3\n4,5,6");

        float[][] samples = ReadFloats(csv, X);

        Assert.Equal(3, samples.Length);
        Assert.Equal([1f, 2.5f, -300f], samples[0]);
        Assert.Equal([0.125f, -0f, 0.001f], samples[1]);
        Assert.Equal([4f, 5f, 6f], samples[2]);
    }

    [Fact]
    public void A_first_row_of_numbers_is_data_not_a_header()
    {
        string csv = Write("a.csv", "1,2,3\n4,5,6\n");
        Assert.Equal(2, ReadFloats(csv, X).Length);
    }

    [Fact]
    public void Values_are_parsed_in_the_invariant_culture_whatever_the_current_one()
    {
        string csv = Write("a.csv", "1.5,2,3\n");
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal(1.5f, ReadFloats(csv, X)[0][0]);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Several_inputs_read_one_file_each_in_lockstep_including_int64_from_integers()
    {
        var tokens = new DataInput("tokens", ElementType.Int64, [1, 2]);
        string a = Write("x.csv", "1,2,3\n4,5,6\n");
        string b = Write("t.csv", "id0,id1\n9007199254740993,-7\n0,42\n");

        List<DataSample> samples = SampleDataSet.Open($"tokens={b}; x={a}", [X, tokens], "CalibrationData", false, null).Read().ToList();

        Assert.Equal(2, samples.Count);
        Assert.Equal([4f, 5f, 6f], MemoryMarshal.Cast<byte, float>(samples[1].Inputs[0]).ToArray());
        Assert.Equal([9007199254740993L, -7L], MemoryMarshal.Cast<byte, long>(samples[0].Inputs[1]).ToArray());
        Assert.Equal([0L, 42L], MemoryMarshal.Cast<byte, long>(samples[1].Inputs[1]).ToArray());
    }

    [Fact]
    public void Other_element_types_are_stored_in_their_own_encoding()
    {
        string csv = Write("a.csv", "1.5,-2,0.1\n");
        Assert.Equal([(Half)1.5, (Half)(-2), (Half)0.1], MemoryMarshal.Cast<byte, Half>(Single(csv, new DataInput("h", ElementType.Float16, [3]))).ToArray());
        Assert.Equal([1.5, -2, 0.1], MemoryMarshal.Cast<byte, double>(Single(csv, new DataInput("d", ElementType.Float64, [3]))).ToArray());
        Assert.Equal([(byte)1, 0, 1], Single(Write("b.csv", "1,false,True\n"), new DataInput("b", ElementType.Bool, [3])));
        Assert.Equal([(sbyte)-128, 127, 0], MemoryMarshal.Cast<byte, sbyte>(Single(Write("i.csv", "-128,127,0\n"), new DataInput("i", ElementType.Int8, [3]))).ToArray());
    }

    [Fact]
    public void A_folder_of_bin_files_gives_one_sample_per_file_in_ordinal_name_order()
    {
        string folder = Path.Combine(_dir, "bins");
        Directory.CreateDirectory(folder);
        WriteBin(folder, "b.bin", [3, 3, 3]);
        WriteBin(folder, "a.bin", [1, 1, 1]);
        WriteBin(folder, "B.bin", [2, 2, 2]); // 'B' < 'a' < 'b' in ordinal order
        File.WriteAllText(Path.Combine(folder, "README.txt"), "not a sample");

        float[][] samples = ReadFloats(folder, X);

        Assert.Equal([2f, 1f, 3f], samples.Select(s => s[0]));
    }

    [Fact]
    public void A_bin_file_of_the_wrong_size_is_named()
    {
        string folder = Path.Combine(_dir, "bins");
        Directory.CreateDirectory(folder);
        WriteBin(folder, "0.bin", [1, 1, 1]);
        WriteBin(folder, "1.bin", [1, 1]);

        Diagnostic d = ReadError(folder, X);

        Assert.Equal(DiagnosticCodes.CalibrationSampleSize, d.Code);
        Assert.Contains("1.bin' holds 8 bytes; input 'x' (float32[1,3]) needs 12", d.Message);
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_values_names_the_file_and_line()
    {
        string csv = Write("a.csv", "h0,h1,h2\n1,2,3\n\n4,5\n");

        Diagnostic d = ReadError(csv, X);

        Assert.Equal(DiagnosticCodes.CalibrationSampleSize, d.Code);
        Assert.Equal(csv, d.File);
        Assert.Contains($"'{csv}' line 4 has 2 values; input 'x' (float32[1,3]) needs 3 values per row", d.Message);
        Assert.Contains("line 2 has 4 values", ReadError(Write("b.csv", "1,2,3\n1,2,3,4\n"), X).Message);
    }

    [Theory]
    [InlineData("1,2,3\n4,abc,6\n", "line 2, column 2: 'abc' is not a number")]
    [InlineData("1,2,3\n4,,6\n", "line 2, column 2: '' is empty")]
    [InlineData("1,2,3\n4,5,\"6\"\n", "line 2, column 3: '\"6\"' is not a number")]
    [InlineData("1,2,3\n1;2;3\n", "line 2, column 1: '1;2;3' is not a number")]
    public void A_non_numeric_field_names_the_file_line_and_column(string content, string expected)
    {
        string csv = Write("a.csv", content);

        Diagnostic d = ReadError(csv, X);

        Assert.Equal(DiagnosticCodes.CalibrationValueInvalid, d.Code);
        Assert.Contains($"'{csv}' {expected}", d.Message);
    }

    [Fact]
    public void Integer_inputs_reject_fractions_and_values_out_of_range()
    {
        var tokens = new DataInput("t", ElementType.Int64, [2]);
        Diagnostic fraction = ReadError(Write("a.csv", "1,2.5\n"), tokens);
        Assert.Equal(DiagnosticCodes.CalibrationValueInvalid, fraction.Code);
        Assert.Contains("line 1, column 2: '2.5' is not an integer; input 't' is int64", fraction.Message);

        Diagnostic range = ReadError(Write("b.csv", "1,200\n"), new DataInput("u", ElementType.Int8, [2]));
        Assert.Equal(DiagnosticCodes.CalibrationValueInvalid, range.Code);
        Assert.Contains("'200' is out of the range of int8", range.Message);
    }

    [Fact]
    public void Missing_files_and_folders_are_reported_with_their_path()
    {
        string missing = Path.Combine(_dir, "nope.csv");
        Diagnostic d = OpenError(missing, [X]);
        Assert.Equal(DiagnosticCodes.CalibrationDataUnreadable, d.Code);
        Assert.Equal(missing, d.File);
        Assert.Contains($"'{missing}' for input 'x' does not exist", d.Message);
    }

    [Fact]
    public void Data_must_cover_exactly_the_models_inputs()
    {
        var mask = new DataInput("mask", ElementType.Int64, [1, 3]);
        string a = Write("a.csv", "1,2,3\n");

        Diagnostic unnamed = OpenError(a, [X, mask]);
        Assert.Equal(DiagnosticCodes.CalibrationInputsMismatch, unnamed.Code);
        Assert.Contains("must name the data of each input of the model ('x', 'mask')", unnamed.Message);

        Diagnostic uncovered = OpenError($"x={a}", [X, mask]);
        Assert.Equal(DiagnosticCodes.CalibrationInputsMismatch, uncovered.Code);
        Assert.Contains("has no data for input 'mask'", uncovered.Message);

        Diagnostic unknown = OpenError($"x={a};y={a}", [X]);
        Assert.Equal(DiagnosticCodes.CalibrationInputsMismatch, unknown.Code);
        Assert.Contains("names 'y', which is not an input of the model", unknown.Message);

        Assert.Equal(DiagnosticCodes.InvalidQuantizationOptions, OpenError($"x={a};x={a}", [X]).Code);
        Assert.Equal(DiagnosticCodes.InvalidQuantizationOptions, OpenError(" ; ", [X]).Code);
    }

    [Fact]
    public void Inputs_with_different_sample_counts_are_an_error()
    {
        var mask = new DataInput("mask", ElementType.Int64, [1, 3]);
        string a = Write("a.csv", "1,2,3\n4,5,6\n");
        string b = Write("b.csv", "1,2,3\n");

        Diagnostic d = Assert.Throws<CompileException>(() => SampleDataSet.Open($"x={a};mask={b}", [X, mask], "CalibrationData", false, null).Read().ToList()).Diagnostic;

        Assert.Equal(DiagnosticCodes.CalibrationInputsMismatch, d.Code);
        Assert.Contains("for input 'mask'", d.Message);
        Assert.Contains("has 1 samples", d.Message);
    }

    [Fact]
    public void Validation_data_carries_a_label_in_the_last_column()
    {
        string csv = Write("v.csv", "a,b,c,label\n1,2,3,7\n4,5,6,2\n");

        List<DataSample> samples = SampleDataSet.Open(csv, [X], "ValidationData", labelled: true, null).Read().ToList();

        Assert.Equal([7.0, 2.0], samples.Select(s => s.Label));
        Assert.Equal([4f, 5f, 6f], MemoryMarshal.Cast<byte, float>(samples[1].Inputs[0]).ToArray());
        Assert.Contains("needs 3 values and a label", Assert.Throws<CompileException>(() =>
            SampleDataSet.Open(Write("w.csv", "1,2,3\n"), [X], "ValidationData", labelled: true, null).Read().ToList()).Diagnostic.Message);
        Assert.Equal(DiagnosticCodes.InvalidQuantizationOptions, Assert.Throws<CompileException>(() =>
            SampleDataSet.Open(_dir, [X], "ValidationData", labelled: true, null)).Diagnostic.Code);
    }

    [Fact]
    public void A_long_file_is_streamed_and_a_huge_field_does_not_exhaust_memory()
    {
        string csv = Path.Combine(_dir, "big.csv");
        using (var w = new StreamWriter(csv))
        {
            for (int i = 0; i < 20000; i++)
            {
                w.Write($"{i},{i + 1},{i + 2}\n");
            }

            w.Write("1," + new string('9', 1_000_000) + ",3\n");
        }

        var set = SampleDataSet.Open(csv, [X], "CalibrationData", false, null);
        int count = 0;
        Diagnostic d = Assert.Throws<CompileException>(() =>
        {
            foreach (DataSample _ in set.Read())
            {
                count++;
            }
        }).Diagnostic;

        Assert.Equal(20000, count);
        Assert.Equal(DiagnosticCodes.CalibrationValueInvalid, d.Code);
        Assert.Contains("line 20001, column 2", d.Message);
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static void WriteBin(string folder, string name, float[] values)
        => File.WriteAllBytes(Path.Combine(folder, name), MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static float[][] ReadFloats(string spec, DataInput input)
        => SampleDataSet.Open(spec, [input], "CalibrationData", false, null).Read()
            .Select(s => MemoryMarshal.Cast<byte, float>(s.Inputs[0]).ToArray()).ToArray();

    private static byte[] Single(string spec, DataInput input)
        => SampleDataSet.Open(spec, [input], "CalibrationData", false, null).Read().Single().Inputs[0];

    private static Diagnostic ReadError(string spec, DataInput input)
        => Assert.Throws<CompileException>(() => SampleDataSet.Open(spec, [input], "CalibrationData", false, null).Read().ToList()).Diagnostic;

    private static Diagnostic OpenError(string spec, IReadOnlyList<DataInput> inputs)
        => Assert.Throws<CompileException>(() => SampleDataSet.Open(spec, inputs, "CalibrationData", false, null)).Diagnostic;
}
