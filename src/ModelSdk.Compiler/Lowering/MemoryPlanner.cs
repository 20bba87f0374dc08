using ModelSdk.Plan;

namespace ModelSdk.Compiler.Lowering;

/// <summary>A buffer to place in the arena: its size and the steps between which it must stay intact.</summary>
/// <param name="Id">The buffer's id.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="FirstStep">The step that first uses it.</param>
/// <param name="LastStep">The step that last uses it.</param>
/// <param name="InPlaceOf">
/// The id of a buffer of the same size whose last step is this one's first, where that step may write this
/// buffer over it (an elementwise kernel whose input dies there); -1 when none.
/// </param>
public readonly record struct BufferRequest(int Id, long Bytes, int FirstStep, int LastStep, int InPlaceOf = -1);

/// <summary>
/// Static memory plan: places buffers with overlapping lifetimes at disjoint offsets of one arena,
/// largest first, each at the lowest offset that fits ("greedy by size", as TFLite does). Offsets
/// are aligned to 64 bytes. Deterministic: ties are broken by first use, then by id.
/// </summary>
/// <remarks>
/// Placed buffers are indexed by blocks of <see cref="BlockSteps"/> steps, so finding the buffers
/// alive during a request's lifetime costs about the number of such buffers rather than the number
/// placed so far; a graph of many thousands of nodes plans in linear time when lifetimes are short.
/// </remarks>
public static class MemoryPlanner
{
    /// <summary>Alignment of every offset.</summary>
    public const int Alignment = 64;

    private const int BlockSteps = 64;

    /// <summary>
    /// Kernels that may write their output over one of their inputs: every output element depends only on the
    /// input element at the same index (or, for the row kernels, on the input row it replaces, read before it is
    /// written), so <c>y</c> may be the memory of an input of the same size. Keyed by kernel: the input argument
    /// names and the output's.
    /// </summary>
    private static readonly Dictionary<string, (string[] Inputs, string Output)> InPlaceKernels = new()
    {
        ["Unary"] = (["x"], "y"),
        ["Gelu"] = (["x"], "y"),
        ["Binary"] = (["a", "b"], "y"),
        ["Softmax"] = (["x"], "y"),
        ["Normalization"] = (["x"], "y"),
        ["ChannelAffine"] = (["x"], "y"),
        ["ElementwiseChain"] = (["x", "b", "c"], "y"),
    };

    /// <summary>The (input, output) tensor ids of <paramref name="step"/> that its kernel may share, when it is one of those that can.</summary>
    public static IEnumerable<(int Input, int Output)> InPlaceCandidates(PlanStep step)
    {
        if (step.Kind != StepKind.Call || !InPlaceKernels.TryGetValue(step.Kernel, out var names))
        {
            yield break;
        }

        PlanArg? output = step.Args.FirstOrDefault(a => a.IsTensor && a.Name == names.Output);
        if (output is null)
        {
            yield break;
        }

        foreach (PlanArg input in step.Args)
        {
            if (input.IsTensor && names.Inputs.Contains(input.Name))
            {
                yield return (input.Tensor, output.Tensor);
            }
        }
    }

    /// <summary>
    /// Returns the offset of each request (by <see cref="BufferRequest.Id"/>) and the arena size. Requests that may
    /// go in place share their buffer, unless the arena would come out larger that way (the greedy placement is
    /// not monotonic), in which case every request gets its own.
    /// </summary>
    public static (Dictionary<int, long> Offsets, long ArenaBytes) Plan(IReadOnlyList<BufferRequest> requests)
    {
        (Dictionary<int, long> Offsets, long ArenaBytes) separate = Place(requests);
        if (!requests.Any(r => r.InPlaceOf >= 0))
        {
            return separate;
        }

        // Chains of in-place requests become one request over their joint lifetime, placed once.
        var byId = requests.ToDictionary(r => r.Id);
        var owner = new Dictionary<int, int>();
        int Owner(int id)
        {
            while (byId[id].InPlaceOf >= 0 && byId.ContainsKey(byId[id].InPlaceOf))
            {
                id = byId[id].InPlaceOf;
            }

            return id;
        }

        var merged = new Dictionary<int, BufferRequest>();
        foreach (BufferRequest r in requests)
        {
            int root = Owner(r.Id);
            owner[r.Id] = root;
            merged[root] = merged.TryGetValue(root, out BufferRequest m)
                ? m with { FirstStep = Math.Min(m.FirstStep, r.FirstStep), LastStep = Math.Max(m.LastStep, r.LastStep) }
                : byId[root] with { FirstStep = Math.Min(byId[root].FirstStep, r.FirstStep), LastStep = Math.Max(byId[root].LastStep, r.LastStep), InPlaceOf = -1 };
        }

        (Dictionary<int, long> offsets, long arena) = Place([.. merged.Values]);
        if (arena > separate.ArenaBytes)
        {
            return separate;
        }

        return (requests.ToDictionary(r => r.Id, r => offsets[owner[r.Id]]), arena);
    }

    private static (Dictionary<int, long> Offsets, long ArenaBytes) Place(IReadOnlyList<BufferRequest> requests)
    {
        var order = requests.OrderByDescending(r => r.Bytes).ThenBy(r => r.FirstStep).ThenBy(r => r.Id).ToList();
        int lastStep = requests.Count == 0 ? 0 : requests.Max(r => r.LastStep);
        var blocks = new List<int>[lastStep / BlockSteps + 1];
        var placed = new List<(BufferRequest Request, long Offset)>(order.Count);
        var seen = new int[order.Count];
        var conflicts = new List<(long Offset, long End)>();
        var offsets = new Dictionary<int, long>(order.Count);
        long arena = 0;
        for (int n = 0; n < order.Count; n++)
        {
            BufferRequest r = order[n];
            conflicts.Clear();
            for (int b = r.FirstStep / BlockSteps; b <= r.LastStep / BlockSteps; b++)
            {
                foreach (int p in blocks[b] ?? [])
                {
                    BufferRequest other = placed[p].Request;
                    if (seen[p] != n + 1 && other.FirstStep <= r.LastStep && r.FirstStep <= other.LastStep)
                    {
                        seen[p] = n + 1;
                        conflicts.Add((placed[p].Offset, placed[p].Offset + other.Bytes));
                    }
                }
            }

            conflicts.Sort();
            long offset = 0;
            foreach ((long start, long end) in conflicts)
            {
                if (start >= offset + r.Bytes)
                {
                    break;
                }

                offset = Math.Max(offset, Align(end));
            }

            for (int b = r.FirstStep / BlockSteps; b <= r.LastStep / BlockSteps; b++)
            {
                (blocks[b] ??= []).Add(placed.Count);
            }

            placed.Add((r, offset));
            offsets[r.Id] = offset;
            arena = Math.Max(arena, offset + r.Bytes);
        }

        return (offsets, Align(arena));
    }

    /// <summary>
    /// Places every buffer after the previous one, in id order, never sharing space (at least one
    /// alignment unit each, so no two buffers share an offset). Calibration plans with it to read every
    /// intermediate tensor after a run.
    /// </summary>
    public static (Dictionary<int, long> Offsets, long ArenaBytes) PlanWithoutReuse(IReadOnlyList<BufferRequest> requests)
    {
        var offsets = new Dictionary<int, long>(requests.Count);
        long arena = 0;
        foreach (BufferRequest r in requests.OrderBy(r => r.Id))
        {
            offsets[r.Id] = arena;
            arena = Align(arena + Math.Max(r.Bytes, 1));
        }

        return (offsets, arena);
    }

    /// <summary>Rounds up to <see cref="Alignment"/>.</summary>
    public static long Align(long value) => checked((value + Alignment - 1) / Alignment * Alignment);
}
