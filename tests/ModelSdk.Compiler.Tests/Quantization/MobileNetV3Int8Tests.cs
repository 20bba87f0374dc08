using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Quantization;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Quantization;

/// <summary>
/// Issue 5's accuracy goal on a real network: the committed MobileNetV3-small (random weights, width 0.5,
/// 100 classes) calibrated on random images keeps the float model's top-1 answer on at least 95% of
/// images it was NOT calibrated on.
/// </summary>
/// <remarks>
/// With random weights the network barely depends on its input: over random images its logits vary by
/// about 1e-8 (float rounding) around a fixed vector, so the float model answers the same class for every
/// image (measured; recalibrating the BatchNorm statistics and centring the classifier raises the variation
/// only to ~0.2% of the logits, below any 8-bit noise). Top-1 agreement alone would therefore pass even for
/// a badly quantized model, so the test also bounds the error of the logits themselves (measured 0.13%).
/// </remarks>
public sealed class MobileNetV3Int8Tests : IDisposable
{
    private const int ImageLength = 3 * 224 * 224;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "modelsdk-mnv3-int8-tests", Guid.NewGuid().ToString("N"));

    public MobileNetV3Int8Tests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Int8_agrees_with_float_on_held_out_random_images()
    {
        string model = Path.Combine(RepositoryPaths.Fixtures, "real", "mobilenetv3_small.onnx");
        string calibration = Path.Combine(_dir, "calibration");
        Directory.CreateDirectory(calibration);
        var calibrationRandom = new Random(1);
        for (int i = 0; i < 32; i++)
        {
            File.WriteAllBytes(Path.Combine(calibration, $"{i:D2}.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(Image(calibrationRandom).AsSpan()).ToArray());
        }

        CompileResult q = ModelCompiler.Compile(new CompileOptions(model) { Quantize = QuantizeMode.Int8, CalibrationData = calibration });
        Diagnostic? error = q.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(error is null, error?.ToCanonicalString());
        CompileResult f = ModelCompiler.Compile(new CompileOptions(model));

        QuantizationEvaluation e = q.Quantization!;
        Assert.True(e.Layers.Count >= 50, $"{e.Layers.Count} layers quantized");
        Assert.True(e.WeightRatio <= 0.3, $"weights {e.FloatWeightBytes} → {e.QuantizedWeightBytes}");

        // Held-out images from another seed.
        var heldOut = new Random(2);
        const int Images = 32;
        int agree = 0;
        double noise = 0, signal = 0;
        for (int i = 0; i < Images; i++)
        {
            float[] image = Image(heldOut);
            float[] a = Run(f, image), b = Run(q, image);
            agree += ArgMax(a) == ArgMax(b) ? 1 : 0;
            for (int k = 0; k < a.Length; k++)
            {
                noise += (a[k] - b[k]) * (double)(a[k] - b[k]);
                signal += a[k] * (double)a[k];
            }
        }

        Assert.True(agree >= Images * 0.95, $"top-1 agreement {agree}/{Images}");
        double relative = Math.Sqrt(noise / signal);
        Assert.True(relative is > 0 and < 0.005, $"relative L2 error of the logits {relative:G3}");
    }

    /// <summary>A standard-normal image (Box–Muller), as a normalized photograph's pixels roughly are.</summary>
    private static float[] Image(Random random)
    {
        var image = new float[ImageLength];
        for (int i = 0; i < image.Length; i += 2)
        {
            double r = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())), t = 2 * Math.PI * random.NextDouble();
            image[i] = (float)(r * Math.Cos(t));
            image[i + 1] = (float)(r * Math.Sin(t));
        }

        return image;
    }

    private static float[] Run(CompileResult compiled, float[] image)
    {
        byte[][] outputs = Executor.Run(compiled.Plan!, compiled.Weights, [Tensor.FromFloats([1, 3, 224, 224], image).Bytes.ToArray()]);
        return Tensor.From<byte>(ElementType.UInt8, [outputs[0].Length], outputs[0]).Span<float>().ToArray();
    }

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());
}
