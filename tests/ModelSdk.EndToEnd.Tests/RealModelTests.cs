using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.EndToEnd.Tests.Support;
using ModelSdk.Onnx;
using ModelSdk.Plan;

namespace ModelSdk.EndToEnd.Tests;

/// <summary>
/// One model per family as exporters write them (tests/fixtures/models/real, made by make_real_models.py),
/// built through the package in a consumer project and compared with ONNX Runtime: relative L2 below
/// 1e-4 for float outputs, within one quantization step for quantized ones.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class RealModelTests(PackageFeed feed)
{
    private const double FloatTolerance = 1e-4;

    [Fact]
    public void Real_models_of_every_family_agree_with_onnxruntime()
    {
        string real = Path.Combine(RepositoryPaths.Fixtures, "real");
        string template = Path.Combine(RepositoryPaths.Root, "tests", "ModelSdk.EndToEnd.Tests", "RealModels");
        var models = Directory.GetFiles(real, "*.onnx").Select(f => (f, "Models/" + Path.GetFileName(f))).ToList();
        string project = feed.CreateProject("RealModels", File.ReadAllText(Path.Combine(template, "RealModels.csproj")), File.ReadAllText(Path.Combine(template, "Program.cs")), models);

        PackageFeed.Build(project).EnsureSuccess("Building the real models");
        string outDir = Path.Combine(project, "out");
        DotNet.Run(project, TimeSpan.FromMinutes(5), "run", "--no-build", "--", outDir).EnsureSuccess("Running the real models");

        var failures = new List<string>();
        void Check(string model, string prefix, string[] inputs, string[] outputs)
        {
            string path = Path.Combine(real, model + ".onnx");
            ModelProto proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            var feeds = inputs.Select(name => (name, Read(outDir, prefix, name, proto.Graph.Input.Single(v => v.Name == name)))).ToList();
            Tensor[] expected = OrtReference.Run(path, feeds);
            for (int i = 0; i < outputs.Length; i++)
            {
                Tensor actual = Read(outDir, prefix, outputs[i], proto.Graph.Output.Single(v => v.Name == outputs[i]));
                string? problem = Compare(proto, outputs[i], actual, expected[i]);
                if (problem is not null)
                {
                    failures.Add($"{prefix}.{outputs[i]}: {problem}");
                }
            }
        }

        Check("mobilenetv3_small", "mobilenetv3_small", ["image"], ["logits"]);
        Check("bert_tiny", "bert_tiny", ["input_ids", "attention_mask"], ["last_hidden_state", "pooled"]);
        Check("bert_tiny_opset17", "bert_tiny_opset17", ["input_ids", "attention_mask"], ["last_hidden_state", "pooled"]);
        Check("lstm_tagger", "lstm_tagger", ["tokens"], ["tag_logits"]);
        for (int step = 0; step < 5; step++)
        {
            Check("gru_stream", $"gru_stream.{step}", ["frame", "state"], ["speech_prob", "new_state"]);
        }

        Check("qdq_cnn", "qdq_cnn", ["image"], ["logits"]);
        Check("qlinear_matmul", "qlinear_matmul", ["x"], ["y"]);
        Check("if_const", "if_const", ["x"], ["y"]);
        Check("if_runtime", "if_runtime.1", ["x", "use_branch_a"], ["y"]);
        Check("if_runtime", "if_runtime.0", ["x", "use_branch_a"], ["y"]);

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Float outputs by relative L2; quantized ones within one step (of the output's own quantization).</summary>
    private static string? Compare(ModelProto model, string output, Tensor actual, Tensor expected)
    {
        if (expected.Type is ElementType.UInt8 or ElementType.Int8)
        {
            long worst = actual.ToInt64s().Zip(expected.ToInt64s(), (a, e) => Math.Abs(a - e)).DefaultIfEmpty().Max();
            return worst <= 1 ? null : $"differs by {worst} quantization steps";
        }

        if (QuantizationStep(model, output) is { } step)
        {
            double worst = actual.ToFloats().Zip(expected.ToFloats(), (a, e) => (double)Math.Abs(a - e)).DefaultIfEmpty().Max();
            return worst <= step * 1.0001 ? null : $"differs by {worst:G3}, more than one quantization step ({step:G3})";
        }

        double error = TensorAssert.RelativeL2(actual, expected);
        return error < FloatTolerance ? null : $"relative L2 error {error:G3} against ONNX Runtime";
    }

    /// <summary>The scale of the DequantizeLinear that produces <paramref name="output"/>, if any.</summary>
    private static double? QuantizationStep(ModelProto model, string output)
    {
        NodeProto? node = model.Graph.Node.FirstOrDefault(n => n.Output.Contains(output) && n.OpType == "DequantizeLinear");
        TensorProto? scale = node is null ? null : model.Graph.Initializer.FirstOrDefault(i => i.Name == node.Input[1]);
        return scale is null ? null : scale.FloatData.Count > 0 ? scale.FloatData[0] : BitConverter.ToSingle(scale.RawData.Span[..4]);
    }

    private static Tensor Read(string dir, string prefix, string name, ValueInfoProto info)
    {
        byte[] data = File.ReadAllBytes(Path.Combine(dir, $"{prefix}.{name}.bin"));
        ElementType type = info.Type.TensorType.ElemType switch
        {
            7 => ElementType.Int64,
            2 => ElementType.UInt8,
            9 => ElementType.Bool,
            _ => ElementType.Float32,
        };
        int[] shape = info.Type.TensorType.Shape.Dim.Select(d => (int)d.DimValue).ToArray();
        return new Tensor(type, shape, data);
    }
}
