// Runs each model on deterministic inputs and writes inputs and outputs as raw little-endian files
// (<model>.<tensor>.bin, or <model>.<step>.<tensor>.bin for the streaming model) for the test to compare
// with ONNX Runtime.
using System.Runtime.InteropServices;
using RealModels;

string outDir = args[0];
Directory.CreateDirectory(outDir);
var rng = new Random(4321);

using (var net = new MobileNet())
{
    float[] image = Floats(MobileNet.ImageLength);
    Save("mobilenetv3_small", ("image", image), ("logits", net.Run(image).Logits));
}

RunBert<Bert>("bert_tiny", Bert.InputIdsLength, (m, ids, mask) => { var y = ((Bert)m).Run(ids, mask); return (y.LastHiddenState, y.Pooled); });
RunBert<Bert17>("bert_tiny_opset17", Bert17.InputIdsLength, (m, ids, mask) => { var y = ((Bert17)m).Run(ids, mask); return (y.LastHiddenState, y.Pooled); });

using (var tagger = new LstmTagger())
{
    long[] tokens = Enumerable.Range(0, LstmTagger.TokensLength).Select(_ => (long)rng.Next(0, 1000)).ToArray();
    Save("lstm_tagger", ("tokens", tokens), ("tag_logits", tagger.Run(tokens).TagLogits));
}

using (var vad = new GruStream())
{
    // Streaming: the state output of one step is the state input of the next.
    var state = new float[GruStream.StateLength];
    var probability = new float[GruStream.SpeechProbLength];
    var next = new float[GruStream.NewStateLength];
    for (int step = 0; step < 5; step++)
    {
        float[] frame = Floats(GruStream.FrameLength);
        vad.Run(frame, state, probability, next);
        Save($"gru_stream.{step}", ("frame", frame), ("state", state), ("speech_prob", probability), ("new_state", next));
        next.CopyTo(state, 0);
    }
}

using (var qdq = new QdqCnn())
{
    float[] image = Floats(QdqCnn.ImageLength);
    Save("qdq_cnn", ("image", image), ("logits", qdq.Run(image).Logits));
}

using (var qlinear = new QlinearMatmul())
{
    byte[] x = Enumerable.Range(0, QlinearMatmul.XLength).Select(_ => (byte)rng.Next(0, 256)).ToArray();
    Save("qlinear_matmul", ("x", x), ("y", qlinear.Run(x).Y));
}

using (var ifConst = new IfConst())
{
    float[] x = Floats(IfConst.XLength);
    Save("if_const", ("x", x), ("y", ifConst.Run(x).Y));
}

using (var ifRuntime = new IfRuntime())
{
    float[] x = Floats(IfRuntime.XLength);
    foreach (bool branch in new[] { true, false })
    {
        Save($"if_runtime.{(branch ? 1 : 0)}", ("x", x), ("use_branch_a", new[] { branch }), ("y", ifRuntime.Run(x, [branch]).Y));
    }
}

Console.WriteLine("ok");

void RunBert<T>(string name, int length, Func<IDisposable, long[], long[], (float[], float[])> run) where T : IDisposable, new()
{
    using var model = new T();
    long[] ids = Enumerable.Range(0, length).Select(_ => (long)rng.Next(0, 1000)).ToArray();
    long[] mask = Enumerable.Range(0, length).Select(i => i < length - length / 4 ? 1L : 0L).ToArray(); // right padding
    (float[] hidden, float[] pooled) = run(model, ids, mask);
    Save(name, ("input_ids", ids), ("attention_mask", mask), ("last_hidden_state", hidden), ("pooled", pooled));
}

float[] Floats(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

void Save(string model, params (string Name, Array Data)[] tensors)
{
    foreach ((string name, Array data) in tensors)
    {
        byte[] bytes = data switch
        {
            float[] f => MemoryMarshal.AsBytes(f.AsSpan()).ToArray(),
            long[] l => MemoryMarshal.AsBytes(l.AsSpan()).ToArray(),
            byte[] b => b,
            bool[] b => b.Select(v => (byte)(v ? 1 : 0)).ToArray(),
            _ => throw new NotSupportedException(),
        };
        File.WriteAllBytes(Path.Combine(outDir, $"{model}.{name}.bin"), bytes);
    }
}
