using ModelSdk.Compiler.Lowering;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Passes;

public class MemoryPlannerTests
{
    [Fact]
    public void Buffers_that_are_never_alive_together_share_memory()
    {
        var (offsets, arena) = MemoryPlanner.Plan([new(0, 1000, 0, 1), new(1, 1000, 2, 3), new(2, 500, 1, 2)]);

        Assert.Equal(offsets[0], offsets[1]);
        Assert.NotEqual(offsets[0], offsets[2]);
        Assert.Equal(MemoryPlanner.Align(1000) + MemoryPlanner.Align(500), arena);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_lifetimes_never_overlap_in_memory(int seed)
    {
        var rng = new Random(seed);
        var requests = Enumerable.Range(0, 2000).Select(i =>
        {
            int first = rng.Next(0, 3000);
            return new BufferRequest(i, rng.Next(1, 5000), first, first + rng.Next(0, rng.Next(2) == 0 ? 5 : 400));
        }).ToList();

        var (offsets, arena) = MemoryPlanner.Plan(requests);

        foreach (BufferRequest r in requests)
        {
            Assert.Equal(0, offsets[r.Id] % MemoryPlanner.Alignment);
            Assert.True(offsets[r.Id] + r.Bytes <= arena);
        }

        var byStart = requests.OrderBy(r => r.FirstStep).ToList();
        for (int i = 0; i < byStart.Count; i++)
        {
            for (int j = i + 1; j < byStart.Count && byStart[j].FirstStep <= byStart[i].LastStep; j++)
            {
                BufferRequest a = byStart[i], b = byStart[j];
                bool disjoint = offsets[a.Id] + a.Bytes <= offsets[b.Id] || offsets[b.Id] + b.Bytes <= offsets[a.Id];
                Assert.True(disjoint, $"buffers {a.Id} and {b.Id} are alive together and overlap");
            }
        }

        Assert.True(arena < requests.Sum(r => MemoryPlanner.Align(r.Bytes)) / 4, "the plan should reuse memory");
    }

    [Fact]
    public void A_buffer_written_in_place_shares_its_input_buffer()
    {
        // 0 dies at step 1, where 1 is written over it; 2 is alive beside both and must stay apart.
        var (offsets, arena) = MemoryPlanner.Plan([new(0, 1000, 0, 1), new(1, 1000, 1, 2, InPlaceOf: 0), new(2, 1000, 0, 2)]);

        Assert.Equal(offsets[0], offsets[1]);
        Assert.NotEqual(offsets[0], offsets[2]);
        Assert.Equal(2 * MemoryPlanner.Align(1000), arena);

        // Without the in-place link the two cannot share (both are alive at step 1).
        var (separate, separateArena) = MemoryPlanner.Plan([new(0, 1000, 0, 1), new(1, 1000, 1, 2), new(2, 1000, 0, 2)]);
        Assert.NotEqual(separate[0], separate[1]);
        Assert.Equal(3 * MemoryPlanner.Align(1000), separateArena);
    }

    [Fact]
    public void An_elementwise_chain_runs_in_one_buffer_and_agrees_with_onnxruntime()
    {
        // x → Sigmoid → Tanh → Mul(·, x2) → Softmax → y: each step's input dies there.
        var b = new OnnxModelBuilder(13);
        string x = b.Input("x", ElementType.Float32, 3, 37);
        string a = b.Node("Exp", [x]);
        string s = b.Node("Sigmoid", [a]);
        string t = b.Node("Tanh", [s]);
        string m = b.Node("Mul", [t, t]);
        string sm = b.Node("Softmax", [m], ("axis", -1));
        b.Output(b.Node("Neg", [sm]));
        byte[] model = b.Build();

        CompiledPlan plan = ModelRunner.Compile(model).Plan!;
        var arenaOffsets = plan.Tensors.Where(t => t.Storage == StorageKind.Arena).Select(t => t.Offset).Distinct().ToList();
        Assert.Single(arenaOffsets);
        Assert.Equal(MemoryPlanner.Align(3 * 37 * 4), plan.ArenaBytes);
        OrtAgreement.AssertMatches(model, [("x", TensorAssert.Random([3, 37], 1))]);
    }
}
