// Runs every model on deterministic random inputs and writes inputs and outputs as raw
// little-endian files under the folder given as the first argument, for the test to compare
// with ONNX Runtime.
using System.Runtime.InteropServices;
using Consumer;
using Consumer.Text;

string outDir = args[0];
Directory.CreateDirectory(outDir);
var rng = new Random(1234);

using (var mlp = new Mlp())
{
    float[] x = Floats(Mlp.XLength);
    Mlp.Output y = mlp.Run(x);
    Save("mlp", ("x", x), ("y", y.Y));
}

using (var net = new ConvNet())
{
    float[] image = Floats(ConvNet.ImageLength);
    Save("cnn_bn", ("image", image), ("logits", net.Run(image).Logits));
}

using (var text = new TwoInputs())
{
    long[] tokens = Enumerable.Range(0, TwoInputs.TokensLength).Select(_ => (long)rng.Next(0, 20)).ToArray();
    float[] features = Floats(TwoInputs.FeaturesLength);
    TwoInputs.Output y = text.Run(tokens, features);
    Save("two_inputs", ("tokens", tokens), ("features", features), ("logits", y.Logits), ("pooled", y.Pooled));
}

using (var batch = new DynamicBatch())
{
    float[] x = Floats(DynamicBatch.XLength);
    var probs = new float[DynamicBatch.ProbsLength];
    batch.Run(x, probs); // the allocation-free overload
    Save("dynamic_batch", ("x", x), ("probs", probs));
}

using (var ext = new ExternalData())
{
    float[] x = Floats(ExternalData.XLength);
    Save("external_data", ("x", x), ("y", ext.Run(x).Y));
}

using (var digits = new Digits())
{
    float[] pixels = Floats(Digits.PixelsLength);
    Save("digits", ("pixels", pixels), ("scores", digits.Run(pixels).Scores));
}

Console.WriteLine($"ok: {Mlp.Info.ModelName}, {ConvNet.Info.ModelName}, {TwoInputs.Info.ModelName} [{string.Join(",", DynamicBatch.XShape.ToArray())}]");

float[] Floats(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

void Save(string model, params (string Name, Array Data)[] tensors)
{
    foreach ((string name, Array data) in tensors)
    {
        byte[] bytes = data switch
        {
            float[] f => MemoryMarshal.AsBytes(f.AsSpan()).ToArray(),
            long[] l => MemoryMarshal.AsBytes(l.AsSpan()).ToArray(),
            _ => throw new NotSupportedException(),
        };
        File.WriteAllBytes(Path.Combine(outDir, $"{model}.{name}.bin"), bytes);
    }
}
