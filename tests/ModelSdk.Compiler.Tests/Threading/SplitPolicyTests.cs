using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Threading;

/// <summary>
/// The run-time choice between splitting only arithmetic-heavy kernels and splitting every kernel large enough
/// (<see cref="SplitPolicy"/>), driven here by made-up run times instead of the clock.
/// </summary>
public class SplitPolicyTests
{
    /// <summary>Runs <paramref name="runs"/> runs, each taking the time <paramref name="time"/> gives for its policy; returns how many split everything.</summary>
    private static int Drive(SplitPolicy policy, int runs, Func<bool, long> time)
    {
        int all = 0;
        for (int i = 0; i < runs; i++)
        {
            policy.Begin();
            all += policy.SplitAll ? 1 : 0;
            policy.Record(time(policy.SplitAll));
        }

        return all;
    }

    [Fact]
    public void The_first_run_splits_everything_then_the_selective_rule_runs_until_the_other_proves_faster()
    {
        var policy = new SplitPolicy();
        policy.Begin();
        Assert.True(policy.SplitAll); // allocates every thread's scratch either policy needs
        policy.Record(5000);
        policy.Begin();
        Assert.False(policy.SplitAll);
        policy.Record(1000);
        Assert.False(policy.PrefersSplitAll);
    }

    [Fact]
    public void The_faster_policy_takes_over_and_gives_way_when_the_machine_changes()
    {
        var policy = new SplitPolicy();

        // Splitting everything 20% faster: after the first probes it is the policy of every run but the probes.
        Drive(policy, 4 * SplitPolicy.Period, all => all ? 800 : 1000);
        Assert.True(policy.PrefersSplitAll);
        int all = Drive(policy, 10 * SplitPolicy.Period, all => all ? 800 : 1000);
        Assert.Equal(10 * (SplitPolicy.Period - 2), all);

        // Then the host changes and splitting everything becomes 25% slower: the probes of the selective rule bring it back.
        Drive(policy, 12 * SplitPolicy.Period, all => all ? 1250 : 1000);
        Assert.False(policy.PrefersSplitAll);
        Assert.Equal(10 * 2, Drive(policy, 10 * SplitPolicy.Period, all => all ? 1250 : 1000));
    }

    [Fact]
    public void Equal_times_and_rare_stalls_do_not_make_it_switch()
    {
        var policy = new SplitPolicy();
        int run = 0;

        // The same time either way, except a run in 50 that the host stalls for 10× as long (on either policy).
        Drive(policy, 40 * SplitPolicy.Period, _ => ++run % 50 == 0 ? 10_000 : 1000);
        Assert.False(policy.PrefersSplitAll);

        // Within the margin: no change either.
        Drive(policy, 40 * SplitPolicy.Period, all => all ? 990 : 1000);
        Assert.False(policy.PrefersSplitAll);
    }

    [Fact]
    public void A_forced_policy_holds_for_every_run()
    {
        var policy = new SplitPolicy { Forced = false };
        Assert.Equal(0, Drive(policy, 3 * SplitPolicy.Period, all => all ? 1 : 1000));
        policy.Forced = true;
        Assert.Equal(3 * SplitPolicy.Period, Drive(policy, 3 * SplitPolicy.Period, all => all ? 1000 : 1));
    }

    [Fact]
    public void A_shallow_product_splits_only_when_the_policy_splits_everything_and_sums_alike()
    {
        // A 1×1 convolution of 16 → 72 channels on a 56×56 plane: 13 multiply-adds per activation element.
        const int m = 72, n = 3136, k = 16;
        var rng = new Random(3);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] packed = new float[m * k];
        GemmPacking.PackA(a, false, m, k, packed);
        var single = new float[m * n];
        Gemm.Multiply(packed, GemmOperand.Packed, b, GemmOperand.RowMajor, single, m, n, k, new GemmEpilogue(), null);

        using var context = new KernelContext(2);
        foreach (bool splitAll in new[] { false, true })
        {
            context.Workers.Policy.Forced = splitAll;
            var y = new float[m * n];
            long loops = context.Workers.ParallelLoops;
            context.Workers.BeginRun();
            Gemm.Multiply(packed, GemmOperand.Packed, b, GemmOperand.RowMajor, y, m, n, k, new GemmEpilogue(), context);
            context.Workers.EndRun();
            Assert.Equal(splitAll, context.Workers.ParallelLoops > loops);
            Assert.Equal(single, y);
        }
    }
}
