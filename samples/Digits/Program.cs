// Classifies the held-out digits of scikit-learn's digits dataset with a CNN compiled at build time.
// The class Digits is generated from Models/digits.onnx: input `pixels` [1,1,8,8], output `scores` [1,10].
using System.Globalization;
using DigitsSample;

string dataDir = Path.Combine(AppContext.BaseDirectory, "Data");
var samples = File.ReadLines(Path.Combine(dataDir, "digits-test.csv"))
    .Skip(1) // header
    .Select(line => line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray())
    .Select(row => (Pixels: row[..^1], Label: (int)row[^1]))
    .ToList();

using var model = new Digits();
Console.WriteLine($"Model '{Digits.Info.ModelName}': {Digits.Info.Inputs[0]} -> {Digits.Info.Outputs[0]}, {Digits.Info.Parameters:N0} parameters, {Digits.Info.Macs:N0} MACs");

Span<float> scores = stackalloc float[Digits.ScoresLength];
int correct = 0;
for (int i = 0; i < samples.Count; i++)
{
    model.Run(samples[i].Pixels, scores); // allocation-free overload
    int predicted = ArgMax(scores);
    correct += predicted == samples[i].Label ? 1 : 0;
    if (i < 5)
    {
        Console.WriteLine($"sample {i}: predicted {predicted}, label {samples[i].Label}");
    }
}

double accuracy = (double)correct / samples.Count;
Console.WriteLine($"Accuracy on the test split: {accuracy:P2} ({correct}/{samples.Count})");

string expectedFile = Path.Combine(dataDir, "expected-accuracy.txt");
double expected = double.Parse(File.ReadAllText(expectedFile).Trim(), CultureInfo.InvariantCulture);
Console.WriteLine($"PyTorch accuracy of the same model: {expected:P2}");
return Math.Round(accuracy, 4) == Math.Round(expected, 4) ? 0 : 1; // the file holds four decimals

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
    {
        if (values[i] > values[best])
        {
            best = i;
        }
    }

    return best;
}
