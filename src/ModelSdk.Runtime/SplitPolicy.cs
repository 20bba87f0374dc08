using System.Diagnostics;

namespace ModelSdk.Runtime;

/// <summary>
/// Chooses, run by run, between two ways of using a pool's threads: splitting only the kernels that do much
/// arithmetic per element of activations (<see cref="WorkerPool.Splits"/>'s rule), or splitting every kernel
/// large enough to split. Neither is faster on every machine, nor on one machine at every moment; the policy
/// times whole runs and keeps the faster, trying the other now and then.
/// </summary>
/// <remarks>
/// <para>
/// Measured on a 2-vCPU Zen 5 virtual machine with MobileNetV3-small at 2 threads, alternating the two in one
/// process: within the same hour, splitting every layer ran 14–28% faster than the selective rule for minutes
/// at a time (1001 → 862 µs, 1205 → 865 µs) and 15–20% slower at others (1071 → 1245 µs). What decides is the
/// state of the host: how fast each virtual CPU runs at that moment (a register-only FMA loop ran 49 GFLOP/s on
/// one and 22 on the other, swapping sides minutes later), and how dear it is to write cache lines the other core
/// holds. Both change within minutes, so the choice is made at run time and revised all the time.
/// </para>
/// <para>
/// Of every <see cref="Period"/> runs, the last two use the other policy; the second of them is timed (the first
/// finds the caches as the current policy left them), as is every run of the current policy but the first after
/// such a probe. Each policy keeps a running estimate of its time; a run slower than twice the estimate counts as
/// twice the estimate, so that a thread the host deschedules for a while does not swing the choice. The other
/// policy takes over when its estimate is <see cref="Margin"/> below the current one's. Both compute the same
/// outputs: a split cuts a kernel's work into parts, never a sum into partial sums.
/// </para>
/// </remarks>
internal sealed class SplitPolicy
{
    /// <summary>Runs per cycle; the last two of each try the other policy.</summary>
    internal const int Period = 32;

    /// <summary>How much faster (relatively) the other policy's estimate must be to take over.</summary>
    internal const double Margin = 0.03;

    // The first runs of a model allocate scratch buffers and warm the caches: not timed.
    private const int WarmRuns = 4;

    private readonly double[] _estimate = new double[2];
    private long _runs;
    private long _start;
    private int _best;
    private int _current;

    /// <summary>Whether the run in progress splits every kernel large enough to split.</summary>
    public bool SplitAll => _current == 1;

    /// <summary>Whether runs are currently splitting every kernel outside the probes.</summary>
    internal bool PrefersSplitAll => _best == 1;

    /// <summary>A policy every run takes instead of the timed choice (tests: both must compute the same outputs); null: timed.</summary>
    internal bool? Forced { get; set; }

    /// <summary>Picks the policy of the run about to start and notes its start.</summary>
    public void Begin()
    {
        // The first run splits everything, so that every thread's scratch either policy needs is allocated by it.
        _current = Forced is bool all ? (all ? 1 : 0) : _runs == 0 ? 1 : Probing(_runs) ? 1 - _best : _best;
        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>Times the run that <see cref="Begin"/> started.</summary>
    public void End() => Record(Stopwatch.GetTimestamp() - _start);

    /// <summary>Records one run of the current policy that took <paramref name="ticks"/>.</summary>
    internal void Record(long ticks)
    {
        long run = _runs++;
        if (run < WarmRuns || Probing(run) != Probing(run - 1))
        {
            return; // warming up, or the first run after a change of policy
        }

        ref double estimate = ref _estimate[_current];
        if (estimate == 0)
        {
            estimate = ticks;
        }
        else
        {
            // The current policy's estimate follows its many runs slowly; the other's its few probes quickly.
            double weight = _current == _best ? 1.0 / 16 : 1.0 / 4;
            estimate += (Math.Min(ticks, 2 * estimate) - estimate) * weight;
        }

        double other = _estimate[1 - _best];
        if (other != 0 && other < _estimate[_best] * (1 - Margin))
        {
            _best = 1 - _best;
        }
    }

    private static bool Probing(long run) => run % Period >= Period - 2;
}
