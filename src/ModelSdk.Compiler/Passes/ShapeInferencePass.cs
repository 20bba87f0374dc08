using ModelSdk.Plan;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;

namespace ModelSdk.Compiler.Passes;

/// <summary>
/// Walks the graph in order, inferring every output's type and shape, and folds each node whose
/// inputs are all constants (when its outputs stay under <see cref="MaxFoldedBytes"/>): with static
/// shapes, shape arithmetic (Shape → Gather → Concat → Reshape) disappears here.
/// </summary>
public sealed class ShapeInferencePass(OperatorRegistry registry, string? modelPath) : IGraphPass
{
    /// <summary>Folded outputs larger than this stay computed at run time, so folding cannot bloat the weights.</summary>
    public const long MaxFoldedBytes = 64L << 20;

    /// <inheritdoc/>
    public string Name => "shape-inference-and-folding";

    /// <inheritdoc/>
    public void Run(Graph graph)
    {
        for (int index = 0; index < graph.Nodes.Count; index++)
        {
            Node node = graph.Nodes[index];
            IOperator op = Resolve(registry, node, graph.Opset, modelPath);
            var ctx = new InferenceContext(node, graph.Opset, modelPath, Run);
            if (op is IInliningOperator inlining && inlining.Inline(ctx) is { } replacement)
            {
                // E.g. an If whose condition folded to a constant: its chosen branch takes its place.
                graph.Nodes.RemoveAt(index);
                graph.Nodes.InsertRange(index, replacement);
                index--;
                continue;
            }

            op.Infer(ctx);
            foreach (Value output in node.Outputs)
            {
                if (output.Name.Length > 0 && output.Shape is null)
                {
                    throw new InvalidOperationException($"{node}: shape of output '{output.Name}' was not inferred.");
                }
            }

            bool foldable = node.Inputs.All(i => i is null || i.IsConstant) && node.ImplicitInputs.Count == 0
                && node.Outputs.Any(o => o.Name.Length > 0 && !o.IsConstant)
                && node.Outputs.Sum(o => o.Shape is null ? 0 : (long)o.ElementCount * o.Type.SizeInBytes()) <= MaxFoldedBytes;
            if (foldable)
            {
                try
                {
                    ConstantEvaluator.Evaluate(node, op, graph.Opset);
                }
                catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or NotSupportedException or ArithmeticException)
                {
                    throw new CompileException(new Diagnostic(DiagnosticCodes.ShapeMismatch, DiagnosticSeverity.Error,
                        $"{node.OpType} cannot be evaluated on its constant inputs: {e.Message}", modelPath, node.Name));
                }
            }
        }
    }

    /// <summary>The operator implementing <paramref name="node"/>, or MSDK2001.</summary>
    public static IOperator Resolve(OperatorRegistry registry, Node node, int opset, string? modelPath)
    {
        // The fused domain holds the operators of the fusion passes; their Infer rejects model nodes.
        if (node.Domain.Length > 0 && node.Domain != FusedDomain.Name)
        {
            throw new CompileException(new Diagnostic(DiagnosticCodes.UnsupportedOperator, DiagnosticSeverity.Error,
                $"operator '{node.Domain}.{node.OpType}' is not supported: ModelSdk supports the default ONNX domain only. See docs/operators.md.", modelPath, node.Name));
        }

        return registry.Find(node.Domain, node.OpType, opset) ?? throw new CompileException(new Diagnostic(
            DiagnosticCodes.UnsupportedOperator, DiagnosticSeverity.Error,
            registry.Supported.Any(s => s.OpType == node.OpType)
                ? $"operator '{node.OpType}' is not supported at opset {opset}. See docs/operators.md."
                : $"operator '{node.OpType}' is not supported. See docs/operators.md for the supported operators.",
            modelPath, node.Name));
    }
}
