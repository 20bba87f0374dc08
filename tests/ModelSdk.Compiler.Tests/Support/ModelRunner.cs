using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Compiles a model in a temporary folder and runs it with the executor.</summary>
public static class ModelRunner
{
    /// <summary>Writes <paramref name="model"/> to a fresh temporary folder and returns the path.</summary>
    public static string WriteTemp(byte[] model, string fileName = "model.onnx")
    {
        string dir = Path.Combine(Path.GetTempPath(), "modelsdk-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, fileName);
        File.WriteAllBytes(path, model);
        return path;
    }

    /// <summary>Compiles the model; fails the test on any error diagnostic.</summary>
    public static CompileResult Compile(byte[] model, string? inputShapes = null)
    {
        CompileResult result = ModelCompiler.Compile(new CompileOptions(WriteTemp(model)) { InputShapes = inputShapes });
        Diagnostic? error = result.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(error is null, error?.ToCanonicalString());
        return result;
    }

    /// <summary>The first error diagnostic of compiling the model (the test expects one).</summary>
    public static Diagnostic CompileError(byte[] model, string? inputShapes = null)
    {
        CompileResult result = ModelCompiler.Compile(new CompileOptions(WriteTemp(model)) { InputShapes = inputShapes });
        Assert.False(result.Succeeded, "The model compiled, but an error was expected.");
        return result.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Error);
    }

    /// <summary>Compiles and runs the model on <paramref name="inputs"/> (in graph input order).</summary>
    public static Tensor[] Run(byte[] model, IReadOnlyList<Tensor> inputs, string? inputShapes = null)
    {
        CompileResult compiled = Compile(model, inputShapes);
        CompiledPlan plan = compiled.Plan!;
        byte[][] outputs = Executor.Run(plan, compiled.Weights, inputs.Select(t => t.Bytes.ToArray()).ToList());
        return plan.Outputs.Select((o, i) =>
        {
            PlanTensor t = plan.Tensors[o.TensorId];
            return new Tensor(t.Type, t.Shape, outputs[i]);
        }).ToArray();
    }
}
