using ModelSdk.Runtime;

namespace ModelSdk.Compiler.Tests.Threading;

public unsafe class WorkerPoolTests
{
    /// <summary>The pool the nested-loop body uses (a state struct passed by pointer cannot hold references).</summary>
    private static WorkerPool? s_nestedPool;

    private struct Counter
    {
        public long* Slots;
    }

    private static void Mark(void* state, int index)
    {
        var c = (Counter*)state;
        Interlocked.Increment(ref c->Slots[index]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Every_item_of_every_loop_runs_exactly_once(int threads)
    {
        using var pool = new WorkerPool(threads);
        long* slots = stackalloc long[257];
        var counter = new Counter { Slots = slots };
        for (int loop = 0; loop < 2000; loop++)
        {
            int count = 1 + loop % 257;
            new Span<long>(slots, 257).Clear();
            pool.For(count, &Mark, &counter);
            for (int i = 0; i < 257; i++)
            {
                Assert.Equal(i < count ? 1 : 0, slots[i]);
            }
        }
    }

    [Fact]
    public void Loops_after_the_workers_went_to_sleep_still_run()
    {
        using var pool = new WorkerPool(3);
        long* slots = stackalloc long[64];
        var counter = new Counter { Slots = slots };
        for (int round = 0; round < 5; round++)
        {
            pool.For(64, &Mark, &counter);
            Thread.Sleep(50); // long enough for the idle workers to block
        }

        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(5, slots[i]);
        }
    }

    private static void NestedLoop(void* state, int index)
    {
        s_nestedPool!.For(8, &Mark, state); // a loop inside a loop runs on the calling thread
    }

    [Fact]
    public void A_loop_inside_a_loop_runs_inline_instead_of_deadlocking()
    {
        using var pool = new WorkerPool(2);
        long* slots = stackalloc long[8];
        var counter = new Counter { Slots = slots };
        s_nestedPool = pool;
        pool.BeginRun();
        pool.For(16, &NestedLoop, &counter);
        pool.EndRun();
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(16, slots[i]);
        }
    }

    [Fact]
    public void Threads_sharing_a_pool_get_correct_results()
    {
        using var pool = new WorkerPool(2);
        var failures = 0;
        Parallel.For(0, 4, _ =>
        {
            long* slots = stackalloc long[100];
            var counter = new Counter { Slots = slots };
            for (int loop = 0; loop < 500; loop++)
            {
                new Span<long>(slots, 100).Clear();
                pool.For(100, &Mark, &counter);
                for (int i = 0; i < 100; i++)
                {
                    if (slots[i] != 1)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }
        });
        Assert.Equal(0, failures);
    }
}
