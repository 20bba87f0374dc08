namespace ModelSdk.Compiler.Lowering;

/// <summary>A buffer to place in the arena: its size and the steps between which it must stay intact.</summary>
public readonly record struct BufferRequest(int Id, long Bytes, int FirstStep, int LastStep);

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

    /// <summary>Returns the offset of each request (by <see cref="BufferRequest.Id"/>) and the arena size.</summary>
    public static (Dictionary<int, long> Offsets, long ArenaBytes) Plan(IReadOnlyList<BufferRequest> requests)
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
