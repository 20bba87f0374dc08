using System.Reflection;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Execution;

/// <summary>
/// Runs plan steps on the runtime's kernels, the same ones generated code calls. Used for constant
/// folding, conformance tests and <c>modelsdk run</c>; bindings are found by <see cref="KernelBindingAttribute"/>.
/// </summary>
public static class Executor
{
    private static readonly Dictionary<string, Action<StepContext>> Bindings = FindBindings();

    /// <summary>
    /// A context using every processor, shared by callers of the executor that run plans (conformance,
    /// <c>modelsdk run</c>); when two use it at once, one of them runs its loops on its own thread.
    /// </summary>
    public static Runtime.KernelContext Parallel { get; } = new(0);

    /// <summary>Whether a kernel has a binding.</summary>
    public static bool HasKernel(string kernel) => Bindings.ContainsKey(kernel);

    /// <summary>Runs <paramref name="steps"/> in order; If/Else/EndIf steps choose which blocks run.</summary>
    public static void Run(IEnumerable<PlanStep> steps, BufferResolver buffers, Runtime.KernelContext? context = null)
    {
        context ??= Runtime.KernelContext.SingleThreaded;
        var list = steps as IReadOnlyList<PlanStep> ?? steps.ToList();
        int[] jump = MatchBlocks(list);
        for (int i = 0; i < list.Count; i++)
        {
            PlanStep step = list[i];
            switch (step.Kind)
            {
                case StepKind.If:
                    if (buffers(step.Args[0].Tensor)[0] == 0)
                    {
                        i = jump[i]; // to the Else (then past it) or the EndIf
                    }

                    continue;
                case StepKind.Else:
                    i = jump[i]; // the true block ran: skip the false one
                    continue;
                case StepKind.EndIf:
                    continue;
            }

            if (!Bindings.TryGetValue(step.Kernel, out Action<StepContext>? run))
            {
                throw new InvalidOperationException($"No executor binding for kernel '{step.Kernel}'.");
            }

            run(new StepContext(step, buffers, context));
        }
    }

    /// <summary>For each If its Else (or EndIf), for each Else its EndIf.</summary>
    private static int[] MatchBlocks(IReadOnlyList<PlanStep> steps)
    {
        var jump = new int[steps.Count];
        var open = new Stack<int>();
        for (int i = 0; i < steps.Count; i++)
        {
            switch (steps[i].Kind)
            {
                case StepKind.If:
                    open.Push(i);
                    break;
                case StepKind.Else:
                    jump[open.Pop()] = i;
                    open.Push(i);
                    break;
                case StepKind.EndIf:
                    jump[open.Pop()] = i;
                    break;
            }
        }

        return jump;
    }

    /// <summary>Runs a whole plan: the inputs are raw little-endian tensors in graph order; returns the outputs likewise.</summary>
    public static byte[][] Run(CompiledPlan plan, ReadOnlySpan<byte> weightsPayload, IReadOnlyList<byte[]> inputs, Runtime.KernelContext? context = null)
    {
        if (inputs.Count != plan.Inputs.Count)
        {
            throw new ArgumentException($"The model has {plan.Inputs.Count} inputs; {inputs.Count} were given.");
        }

        for (int i = 0; i < inputs.Count; i++)
        {
            PlanTensor t = plan.Tensors[plan.Inputs[i].TensorId];
            if (inputs[i].LongLength != t.ByteCount)
            {
                throw new ArgumentException($"Input '{plan.Inputs[i].Name}' needs {t.ByteCount} bytes ({t.Type.ToPlanName()}{Ir.Shapes.Format(t.Shape)}); {inputs[i].LongLength} were given.");
            }
        }

        byte[] weights = LoadWeights(plan, weightsPayload);
        var arena = new byte[plan.ArenaBytes];
        var outputs = plan.Outputs.Select(o => new byte[plan.Tensors[o.TensorId].ByteCount]).ToArray();
        Span<byte> Resolve(int id)
        {
            PlanTensor t = plan.Tensors[id];
            int count = checked((int)t.ByteCount);
            return t.Storage switch
            {
                StorageKind.Input => inputs[t.Index].AsSpan(0, count),
                StorageKind.Output => outputs[t.Index].AsSpan(0, count),
                StorageKind.Weights => weights.AsSpan((int)t.Offset, count),
                _ => arena.AsSpan((int)t.Offset, count),
            };
        }

        Run(plan.Steps, Resolve, context);
        return outputs;
    }

    /// <summary>
    /// The weights as the plan's tensors see them: the payload, with the weights it stores as float16 or bfloat16
    /// widened to float32 by the same runtime code that generated classes load through.
    /// </summary>
    public static byte[] LoadWeights(CompiledPlan plan, ReadOnlySpan<byte> weightsPayload)
    {
        if (plan.LoadedWeightsBytes == plan.WeightsBytes && !plan.Tensors.Any(t => t.IsWidened))
        {
            return weightsPayload.ToArray();
        }

        var loaded = new byte[plan.LoadedWeightsBytes];
        Runtime.NarrowWeights[] narrow = WeightsLayout.Widenings(plan)
            .Select(w => new Runtime.NarrowWeights(checked((int)w.StoredOffset), checked((int)w.Offset), checked((int)w.Count),
                w.StoredType == ElementType.Float16 ? Runtime.NarrowFormat.Float16 : Runtime.NarrowFormat.BFloat16))
            .ToArray();
        Runtime.WeightsBlob.Widen(weightsPayload, loaded, narrow);
        return loaded;
    }

    private static Dictionary<string, Action<StepContext>> FindBindings()
    {
        var result = new Dictionary<string, Action<StepContext>>(StringComparer.Ordinal);
        foreach (Type type in typeof(Executor).Assembly.GetTypes())
        {
            foreach (MethodInfo m in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (m.GetCustomAttribute<KernelBindingAttribute>() is { } a)
                {
                    result.Add(a.Kernel, m.CreateDelegate<Action<StepContext>>());
                }
            }
        }

        return result;
    }
}
