using ModelSdk.Compiler.Import;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Passes;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Runs one graph pass on a model built in code and shows the graph before and after it as text.</summary>
public static class PassHarness
{
    /// <summary>
    /// Imports <paramref name="model"/>, infers and folds it (the passes every fusion runs after), then
    /// runs <paramref name="pass"/>; returns the printed graph before and after.
    /// </summary>
    public static (string Before, string After) Run(byte[] model, IGraphPass pass)
    {
        string path = ModelRunner.WriteTemp(model);
        Graph graph = OnnxImporter.Import(path).Graph;
        new ShapeInferencePass(OperatorRegistry.Default, path).Run(graph);
        new DeadCodePass().Run(graph);
        string before = GraphPrinter.Print(graph);
        pass.Run(graph);
        return (before, GraphPrinter.Print(graph));
    }

    /// <summary>The kernels of the compiled plan, in step order.</summary>
    public static string[] Kernels(byte[] model) => ModelRunner.Compile(model).Plan!.Steps.Select(s => s.Kernel).ToArray();

    /// <summary>
    /// The kernels of the compiled plan, in step order, a step with a fused activation written
    /// <c>Kernel+Activation</c> (e.g. <c>Gemm+Gelu</c>).
    /// </summary>
    public static string[] KernelsWithActivations(byte[] model) => ModelRunner.Compile(model).Plan!.Steps
        .Select(s => s.Args.FirstOrDefault(a => a.Name == "activation") is { Symbol: { } act } && act != "Activation.None"
            ? $"{s.Kernel}+{act["Activation.".Length..]}"
            : s.Kernel)
        .ToArray();
}
