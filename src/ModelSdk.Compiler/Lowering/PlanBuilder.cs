using System.Security.Cryptography;
using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Passes;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Lowering;

/// <summary>A plan and the weights payload its offsets refer to.</summary>
/// <param name="Plan">The plan.</param>
/// <param name="Weights">The weights payload.</param>
/// <param name="UnplannedArenaBytes">What the intermediates would need without memory planning (for the report).</param>
public sealed record PlanWithWeights(CompiledPlan Plan, byte[] Weights, long UnplannedArenaBytes);

/// <summary>
/// Lowers an inferred graph onto kernel calls and lays out memory: graph inputs and outputs are
/// the caller's spans, constants go to the weights payload, everything else to the arena.
/// </summary>
public static class PlanBuilder
{
    /// <summary>Version written into plans and reports.</summary>
    public static string CompilerVersion { get; } =
        typeof(PlanBuilder).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Builds the plan of <paramref name="graph"/> (after <see cref="PassPipeline"/>).</summary>
    /// <param name="graph">The inferred graph.</param>
    /// <param name="registry">The operators.</param>
    /// <param name="sourceSha256">SHA-256 of the model file, written into the plan.</param>
    /// <param name="modelPath">The model file, for diagnostics.</param>
    /// <param name="reuseArena">False gives every intermediate tensor its own arena space (for calibration, which reads them all after a run).</param>
    public static PlanWithWeights Build(Graph graph, OperatorRegistry registry, string sourceSha256, string? modelPath, bool reuseArena = true)
    {
        var program = new LoweredProgram();
        foreach (Value input in graph.Inputs)
        {
            program.IdOf(input);
        }

        long macs = 0;
        foreach (Node node in graph.Nodes)
        {
            IOperator op = ShapeInferencePass.Resolve(registry, node, graph.Opset, modelPath);
            op.Lower(new LoweringContext(node, graph.Opset, program, registry));
            macs += op.CountMacs(node);
        }

        var outputTensors = BindOutputs(graph, program);
        return Layout(graph, program, outputTensors, sourceSha256, macs, modelPath, reuseArena);
    }

    /// <summary>
    /// Decides which tensor carries each graph output. A computed tensor is written straight into the
    /// caller's output span; an output that is an input, a constant, or already another output gets a copy.
    /// </summary>
    private static List<Value> BindOutputs(Graph graph, LoweredProgram program)
    {
        var bound = new HashSet<Value>(ReferenceEqualityComparer.Instance);
        var result = new List<Value>();
        foreach (Value output in graph.Outputs)
        {
            Value root = program.RootOf(output);
            bool computed = program.Contains(output) && !root.IsConstant && !root.IsGraphInput;
            if (computed && bound.Add(root))
            {
                result.Add(output);
                continue;
            }

            var copy = new Value(output.Name) { Type = output.Type, Shape = output.KnownShape };

            program.Steps.Add(new PlanStep(nameof(Runtime.Kernels.Copy), [output.Type],
                [PlanArg.In("x", program.IdOf(output)), PlanArg.Out("y", program.IdOf(copy))], output.Producer?.Name ?? output.Name, "Identity"));
            bound.Add(copy);
            result.Add(copy);
        }

        return result;
    }

    private static PlanWithWeights Layout(Graph graph, LoweredProgram program, List<Value> outputs, string sourceSha256, long macs, string? modelPath, bool reuseArena)
    {
        int count = program.Tensors.Count;
        var roots = new Value[count];
        for (int id = 0; id < count; id++)
        {
            roots[id] = program.RootOf(program.Tensors[id]);
        }

        // Lifetimes of computed roots, over every view of them.
        var first = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        var last = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        for (int s = 0; s < program.Steps.Count; s++)
        {
            foreach (PlanArg arg in program.Steps[s].Args)
            {
                if (arg.IsTensor)
                {
                    Value root = roots[arg.Tensor];
                    first.TryAdd(root, s);
                    last[root] = s;
                }
            }
        }

        var outputIndex = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < outputs.Count; i++)
        {
            outputIndex[program.RootOf(outputs[i])] = i;
        }

        var inputIndex = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < graph.Inputs.Count; i++)
        {
            inputIndex[graph.Inputs[i]] = i;
        }

        // Weights: each constant root once, in id order, 64-byte aligned.
        var weightOffsets = new Dictionary<Value, long>(ReferenceEqualityComparer.Instance);
        long weightBytes = 0, parameters = 0;
        foreach (Value root in roots.Distinct(ReferenceEqualityComparer.Instance).Cast<Value>())
        {
            if (root.Constant is { } c && !inputIndex.ContainsKey(root))
            {
                weightOffsets[root] = weightBytes;
                weightBytes = MemoryPlanner.Align(weightBytes + c.Bytes.Length);
                parameters += c.ElementCount;
            }
        }

        if (weightBytes > Array.MaxLength)
        {
            throw new CompileException(new Diagnostic(DiagnosticCodes.LimitExceeded, DiagnosticSeverity.Error,
                $"the weights need {weightBytes} bytes; at most {Array.MaxLength} are supported.", modelPath));
        }

        var weights = new byte[weightBytes];
        foreach ((Value root, long offset) in weightOffsets)
        {
            root.Constant!.Bytes.CopyTo(weights.AsSpan((int)offset));
        }

        // Arena: every computed root that is not an output.
        bool InArena(Value root) => !root.IsConstant && !inputIndex.ContainsKey(root) && !outputIndex.ContainsKey(root);

        // In place: an elementwise step writes its output over an input that dies there, is whole (a view of its
        // root at full size) and has the output's size and type.
        var inPlaceOf = new Dictionary<Value, Value>(ReferenceEqualityComparer.Instance);
        var overwritten = new HashSet<Value>(ReferenceEqualityComparer.Instance);
        for (int s = 0; s < program.Steps.Count; s++)
        {
            foreach ((int input, int output) in MemoryPlanner.InPlaceCandidates(program.Steps[s]))
            {
                Value x = program.Tensors[input], y = program.Tensors[output], xRoot = roots[input], yRoot = roots[output];
                if (InArena(xRoot) && InArena(yRoot) && !ReferenceEquals(xRoot, yRoot) && !inPlaceOf.ContainsKey(yRoot)
                    && last.GetValueOrDefault(xRoot) == s && first.GetValueOrDefault(yRoot) == s
                    && x.Type == y.Type && xRoot.Type == yRoot.Type && x.ElementCount == xRoot.ElementCount && y.ElementCount == yRoot.ElementCount
                    && xRoot.ElementCount == yRoot.ElementCount && overwritten.Add(xRoot))
                {
                    inPlaceOf[yRoot] = xRoot;
                }
            }
        }

        var requests = new List<BufferRequest>();
        var arenaIds = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        foreach (Value root in roots.Distinct(ReferenceEqualityComparer.Instance).Cast<Value>())
        {
            if (InArena(root))
            {
                int id = program.IdOf(root);
                arenaIds[root] = id;
                requests.Add(new BufferRequest(id, (long)root.ElementCount * root.Type.SizeInBytes(), first.GetValueOrDefault(root), last.GetValueOrDefault(root),
                    inPlaceOf.TryGetValue(root, out Value? over) ? program.IdOf(over) : -1));
            }
        }

        (Dictionary<int, long> arenaOffsets, long arenaBytes) = reuseArena ? MemoryPlanner.Plan(requests) : MemoryPlanner.PlanWithoutReuse(requests);
        if (arenaBytes > Array.MaxLength)
        {
            throw new CompileException(new Diagnostic(DiagnosticCodes.LimitExceeded, DiagnosticSeverity.Error,
                $"the intermediate tensors need a {arenaBytes}-byte arena; at most {Array.MaxLength} bytes are supported.", modelPath));
        }

        var tensors = new List<PlanTensor>(count);
        for (int id = 0; id < program.Tensors.Count; id++)
        {
            Value v = program.Tensors[id];
            Value root = program.RootOf(v);
            int[] shape = v.KnownShape;
            PlanTensor t =
                inputIndex.TryGetValue(root, out int ii) ? new PlanTensor(id, v.Name, v.Type, shape, StorageKind.Input, ii, 0) :
                outputIndex.TryGetValue(root, out int oi) ? new PlanTensor(id, v.Name, v.Type, shape, StorageKind.Output, oi, 0) :
                weightOffsets.TryGetValue(root, out long wo) ? new PlanTensor(id, v.Name, v.Type, shape, StorageKind.Weights, -1, wo) :
                new PlanTensor(id, v.Name, v.Type, shape, StorageKind.Arena, -1, arenaOffsets[arenaIds[root]]);
            tensors.Add(t);
        }

        var plan = new CompiledPlan(
            CompilerVersion,
            graph.Name,
            sourceSha256,
            weightBytes,
            Convert.ToHexStringLower(SHA256.HashData(weights)),
            arenaBytes,
            tensors,
            graph.Inputs.Select(i => new PlanValue(i.Name, program.IdOf(i))).ToList(),
            outputs.Select(o => new PlanValue(o.Name, program.IdOf(o))).ToList(),
            program.Steps.ToList(),
            new PlanCost(parameters, macs));
        return new PlanWithWeights(plan, weights, requests.Sum(r => r.Bytes));
    }
}
