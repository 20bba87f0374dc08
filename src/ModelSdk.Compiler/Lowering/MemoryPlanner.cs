namespace ModelSdk.Compiler.Lowering;

/// <summary>A buffer to place in the arena: its size and the steps between which it must stay intact.</summary>
public readonly record struct BufferRequest(int Id, long Bytes, int FirstStep, int LastStep);

/// <summary>
/// Static memory plan: places buffers with overlapping lifetimes at disjoint offsets of one arena,
/// largest first, each at the lowest offset that fits ("greedy by size", as TFLite does). Offsets
/// are aligned to 64 bytes. Deterministic: ties are broken by first use, then by id.
/// </summary>
public static class MemoryPlanner
{
    /// <summary>Alignment of every offset.</summary>
    public const int Alignment = 64;

    /// <summary>Returns the offset of each request (by <see cref="BufferRequest.Id"/>) and the arena size.</summary>
    public static (Dictionary<int, long> Offsets, long ArenaBytes) Plan(IReadOnlyList<BufferRequest> requests)
    {
        var order = requests.OrderByDescending(r => r.Bytes).ThenBy(r => r.FirstStep).ThenBy(r => r.Id).ToList();
        var placed = new List<(BufferRequest Request, long Offset)>();
        var offsets = new Dictionary<int, long>();
        long arena = 0;
        foreach (BufferRequest r in order)
        {
            var conflicts = placed
                .Where(p => p.Request.FirstStep <= r.LastStep && r.FirstStep <= p.Request.LastStep)
                .OrderBy(p => p.Offset)
                .ToList();
            long offset = 0;
            foreach ((BufferRequest other, long otherOffset) in conflicts)
            {
                if (otherOffset >= offset + r.Bytes)
                {
                    break;
                }

                offset = Math.Max(offset, Align(otherOffset + other.Bytes));
            }

            placed.Add((r, offset));
            offsets[r.Id] = offset;
            arena = Math.Max(arena, offset + r.Bytes);
        }

        return (offsets, Align(arena));
    }

    /// <summary>Rounds up to <see cref="Alignment"/>.</summary>
    public static long Align(long value) => checked((value + Alignment - 1) / Alignment * Alignment);
}
