using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Computes a node whose inputs are all constants by lowering it and running the steps on the
/// runtime kernels: folding uses exactly the code that would have run, so it cannot disagree with it.
/// </summary>
internal static class ConstantEvaluator
{
    public static void Evaluate(Node node, IOperator op, int opset)
    {
        var program = new LoweredProgram();
        op.Lower(new LoweringContext(node, opset, program));
        var buffers = new byte[program.Tensors.Count][];
        for (int id = 0; id < program.Tensors.Count; id++)
        {
            Value v = program.Tensors[id];
            if (program.Aliases.ContainsKey(v))
            {
                continue;
            }

            buffers[id] = v.Constant is { } c ? c.Bytes.ToArray() : new byte[(long)v.ElementCount * v.Type.SizeInBytes()];
        }

        Span<byte> Resolve(int id) => buffers[program.IdOf(program.RootOf(program.Tensors[id]))];
        Executor.Run(program.Steps, Resolve);
        foreach (Value output in node.Outputs)
        {
            if (output.Name.Length == 0 || output.IsConstant || !program.Contains(output))
            {
                continue;
            }

            byte[] bytes = buffers[program.IdOf(program.RootOf(output))];
            output.SetConstant(new Tensor(output.Type, output.KnownShape, bytes.ToArray()));
        }
    }
}
