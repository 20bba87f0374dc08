namespace ModelSdk.Runtime;

/// <summary>
/// A persistent set of worker threads owned by one model instance. A parallel loop hands out work
/// items through an atomic counter; the calling thread works too and returns when every item is done.
/// Nothing is allocated per loop: the body is a function pointer and a pointer to the caller's state,
/// which lives on the caller's stack for the duration of the loop.
/// </summary>
/// <remarks>
/// Between <see cref="BeginRun"/> and <see cref="EndRun"/> (one model run) the workers spin, ready for
/// the next loop, because waking a sleeping thread costs more than many layers take; afterwards they
/// spin briefly and sleep. A loop started while another runs (nested, or from a second thread) runs on
/// its caller's thread. A pool that is never disposed stops its threads when it is collected.
/// </remarks>
public sealed unsafe class WorkerPool : IDisposable
{
    private readonly WorkerThreads _threads;

    /// <summary>Creates a pool of <paramref name="threads"/> threads in all, the caller included (0: one per processor).</summary>
    public WorkerPool(int threads = 0) => _threads = new WorkerThreads(threads);

    /// <summary>Stops the threads of a pool nobody disposed.</summary>
    ~WorkerPool() => _threads.Dispose();

    /// <summary>A pool that runs everything on the calling thread.</summary>
    public static WorkerPool Single { get; } = new(1);

    /// <summary>Threads that run loops, the caller included.</summary>
    public int ThreadCount => _threads.ThreadCount;

    /// <summary>Loops this pool has run over its threads (not those that ran on the caller alone): tests check that a kernel split.</summary>
    internal long ParallelLoops => _threads.Loops;

    /// <summary>
    /// Keeps the workers spinning until <see cref="EndRun"/>, so loops of one model run start without a wake-up,
    /// and starts timing the run for the split policy (see <see cref="SplitPolicy"/>).
    /// </summary>
    public void BeginRun()
    {
        if (ThreadCount > 1)
        {
            Policy.Begin();
            _threads.BeginRun();
        }
    }

    /// <summary>Lets the workers go to sleep once idle.</summary>
    public void EndRun()
    {
        if (ThreadCount > 1)
        {
            _threads.EndRun();
            Policy.End();
        }
    }

    /// <summary>
    /// Runs <c>body(state, i)</c> for every <c>i</c> in <c>[0, count)</c>, spread over the threads, and returns
    /// when all are done. <paramref name="state"/> must stay valid until then (a local of the caller).
    /// </summary>
    public void For(int count, delegate*<void*, int, void> body, void* state) => _threads.For(count, body, state);

    /// <summary>How many chunks to split <paramref name="total"/> units of work into, each at least <paramref name="minChunk"/> units.</summary>
    public int Chunks(long total, long minChunk) => _threads.Chunks(total, minChunk);

    /// <summary>
    /// Whether a kernel doing <paramref name="macs"/> multiply-adds over <paramref name="activations"/> elements
    /// of activations (inputs and outputs that live in the arena, not weights), <paramref name="depth"/> per output
    /// element, splits in this run: always when the <see cref="Policy"/> of the run splits everything, otherwise
    /// when it does enough arithmetic per element to gain from a split.
    /// </summary>
    /// <remarks>
    /// A split leaves each thread's share of the output in its own core's caches, and the next layer, run on
    /// one thread or split another way, reads the rest from the other core. Below about
    /// <see cref="MinSplitIntensity"/> multiply-adds per activation element, that costs more than the split
    /// saves. Measured on a 2-core Zen 5 virtual machine with MobileNetV3-small: its shallow 1×1 convolutions
    /// (13 to 41 multiply-adds per element) gained at most a few microseconds from a split, while the depthwise
    /// layer after each then ran up to 26 µs slower (and a Mul after a split depthwise layer 3 → 23 µs); the
    /// first convolution, the classifier and the 7×7 1×1 convolutions (82 per element) gain 10 to 65 µs each.
    /// With this rule the model ran 14% faster at 2 threads than at 1, and slower splitting everything; at other
    /// times the reverse held, which is why <see cref="Policy"/> also tries splitting everything.
    /// From <see cref="MinSplitDepth"/> multiply-adds per output a kernel splits whatever the count per
    /// activation element: each output then costs enough arithmetic to outweigh reading the other core's share,
    /// and a convolution's im2col scratch, counted as activations, would otherwise keep a 3×3 convolution over
    /// 64 channels (576 deep, 57 per element) on one thread.
    /// </remarks>
    internal bool Splits(long macs, long activations, int depth) => Policy.SplitAll || depth >= MinSplitDepth || macs >= MinSplitIntensity * activations;

    /// <summary>Whether this run splits only what <see cref="Splits"/>'s rule says, or every kernel large enough to split: chosen by timing runs.</summary>
    internal SplitPolicy Policy { get; } = new();

    /// <summary>The least multiply-adds per activation element at which <see cref="Splits"/> says yes.</summary>
    internal const int MinSplitIntensity = 64;

    /// <summary>The least multiply-adds per output element at which <see cref="Splits"/> says yes whatever the rest.</summary>
    internal const int MinSplitDepth = 256;

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (!ReferenceEquals(this, Single))
        {
            _threads.Dispose();
            GC.SuppressFinalize(this);
        }
    }
}
