using Microsoft.CodeAnalysis;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Generators.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Tests;

/// <summary>
/// The layer kernels (transposed convolution, normalizations, LRN, Einsum's lowering, and the fused
/// GELU and attention, which no ONNX backend case reaches) called from generated code compute exactly
/// what the executor computes: their parameter names and types fit the plan arguments.
/// </summary>
public class LayerKernelsGeneratedCodeTests
{
    [Fact]
    public void Generated_code_calls_the_layer_kernels_like_the_executor()
    {
        var models = new List<(string Name, byte[] Model, byte[][] Inputs)>
        {
            ("Encoder", TransformerBlock.Build(), [TransformerBlock.Ids().Bytes.ToArray()]),
        };

        var convTranspose = new OnnxModelBuilder(11);
        convTranspose.Output(convTranspose.Node("ConvTranspose",
            [convTranspose.Input("x", ElementType.Float32, 1, 4, 5, 5), convTranspose.Initializer("w", Random([4, 3, 3, 3], 2)), convTranspose.Initializer("b", Random([6], 3))],
            ("group", 2), ("strides", new[] { 2, 2 }), ("output_padding", new[] { 1, 0 })));
        models.Add(("ConvTranspose", convTranspose.Build(), [Floats([1, 4, 5, 5])]));

        var norms = new OnnxModelBuilder(21);
        string x = norms.Input("x", ElementType.Float32, 2, 6, 3, 4);
        string[] layer = norms.NodeMulti("LayerNormalization", [x, norms.Initializer("s", Random([3, 4], 4))], 3, ("axis", 2));
        string instance = norms.Node("InstanceNormalization", [layer[0], norms.Initializer("si", Random([6], 5)), norms.Initializer("bi", Random([6], 6))]);
        string group = norms.Node("GroupNormalization", [instance, norms.Initializer("sg", Random([6], 7)), norms.Initializer("bg", Random([6], 8))], ("num_groups", 3));
        norms.Output(norms.Node("LRN", [group], ("size", 3)));
        norms.Output(layer[1]);
        norms.Output(layer[2]);
        models.Add(("Norms", norms.Build(), [Floats([2, 6, 3, 4])]));

        var einsum = new OnnxModelBuilder(12);
        string a = einsum.Input("a", ElementType.Float32, 3, 4, 5);
        string c = einsum.Input("c", ElementType.Float32, 5, 2);
        string product = einsum.Node("Einsum", [a, c], ("equation", "ijk,kl->lj"));
        einsum.Output(einsum.Node("Einsum", [product, einsum.Input("d", ElementType.Float32, 4)], ("equation", "lj,j->jl")));
        models.Add(("Einsum", einsum.Build(), [Floats([3, 4, 5]), Floats([5, 2]), Floats([4])]));

        var gelu = new OnnxModelBuilder(13);
        string g = gelu.Input("x", ElementType.Float32, 3, 19);
        string cube = gelu.Node("Pow", [g, gelu.Initializer("three", Tensor.FromFloats([], 3))]);
        string inner = gelu.Node("Add", [g, gelu.Node("Mul", [cube, gelu.Initializer("k", Tensor.FromFloats([], 0.044715f))])]);
        string tanh = gelu.Node("Tanh", [gelu.Node("Mul", [inner, gelu.Initializer("r", Tensor.FromFloats([], MathF.Sqrt(2 / MathF.PI)))])]);
        string sum = gelu.Node("Add", [tanh, gelu.Initializer("one", Tensor.FromFloats([], 1))]);
        gelu.Output(gelu.Node("Mul", [gelu.Node("Mul", [g, sum]), gelu.Initializer("half", Tensor.FromFloats([], 0.5f))]));
        models.Add(("GeluTanh", gelu.Build(), [Floats([3, 19])]));

        var plans = new List<PlanInput>();
        var harnesses = new List<string>();
        foreach ((string name, byte[] model, _) in models)
        {
            string path = Path.Combine(Path.GetTempPath(), "modelsdk-tests", Guid.NewGuid().ToString("N"), name + ".onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, model);
            PlanInput plan = PlanInput.FromModel(path, className: name);
            plans.Add(plan);
            harnesses.Add(GeneratedModelRunner.HarnessSource($"Harness{name}", $"Tests.{name}", PlanReader.Read(plan.PlanText)));
        }

        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(plans, [.. harnesses]);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        var assembly = GeneratorHarness.Load(output, plans);
        for (int i = 0; i < models.Count; i++)
        {
            CompiledPlan compiled = PlanReader.Read(plans[i].PlanText);
            byte[] payload = plans[i].WeightsBlob![ModelSdk.Runtime.WeightsBlob.HeaderSize..];
            Assert.Equal(Executor.Run(compiled, payload, models[i].Inputs), GeneratedModelRunner.Invoke(assembly, $"Harness{models[i].Name}", compiled, models[i].Inputs));
        }

        string encoder = plans[0].PlanText;
        Assert.Contains(" Attention ", encoder);
        Assert.Contains("activation=e:Activation.Gelu", encoder); // the feed-forward MatMul, its bias and GELU fused into one Gemm step
        Assert.Contains(" Gelu ", plans[^1].PlanText); // the GELU kernel itself
    }

    private static byte[] Floats(int[] shape) => Random(shape, shape.Sum()).Bytes.ToArray();

    private static Tensor Random(int[] shape, int seed)
    {
        var rng = new Random(seed);
        return Tensor.FromFloats(shape, Enumerable.Range(0, Shapes.ElementCount(shape)).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray());
    }
}
