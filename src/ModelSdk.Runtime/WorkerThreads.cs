using System.Runtime.CompilerServices;

namespace ModelSdk.Runtime;

/// <summary>
/// The threads of a <see cref="WorkerPool"/>. They reference this object, not the pool, so that a pool
/// nobody disposed can still be collected, and its finalizer stops them.
/// </summary>
/// <remarks>
/// A persistent set of worker threads owned by one model instance. A parallel loop hands out work
/// items through an atomic counter; the calling thread works too and returns when every item is done.
/// Nothing is allocated per loop: the body is a function pointer and a pointer to the caller's state,
/// which lives on the caller's stack for the duration of the loop.
/// Waking a sleeping thread costs tens of microseconds, more than many layers take. Between
/// <see cref="BeginRun"/> and <see cref="EndRun"/> (one model run) the workers therefore spin, ready
/// for the next loop; after a run they spin briefly and then sleep, so an idle model costs no CPU.
/// </remarks>
internal sealed unsafe class WorkerThreads : IDisposable
{
    /// <summary>Spin iterations a worker waits for the next loop before it sleeps (outside a run).</summary>
    private const int IdleSpins = 20_000;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _wake = new(0);

    // The current loop. _generation changes when a loop is published; workers compare it with the last one they saw.
    // Items are claimed from _ticket, whose high half is the loop's generation and low half the next index, so a
    // worker that is late from one loop can never take an item of the next with the previous loop's body.
    private nint _body; // delegate*<void*, int, void>
    private nint _state; // void*
    private int _count;
    private long _ticket;
    private int _pending;
    private int _generation;
    private int _running;
    private int _sleeping;
    private int _busy;
    private volatile bool _disposed;

    /// <summary>Creates a pool of <paramref name="threads"/> threads in all, the caller included (0: one per processor).</summary>
    public WorkerThreads(int threads)
    {
        if (threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "The thread count must be positive, or 0 for one per processor.");
        }

        ThreadCount = threads == 0 ? Environment.ProcessorCount : threads;
        _threads = new Thread[ThreadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"ModelSdk worker {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that run loops, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>Loops run over the threads so far (for tests that must know a kernel split).</summary>
    public long Loops { get; private set; }

    /// <summary>Keeps the workers spinning until <see cref="EndRun"/>: loops of one model run start without a wake-up.</summary>
    public void BeginRun()
    {
        if (_threads.Length == 0)
        {
            return;
        }

        Volatile.Write(ref _running, 1);
        int sleeping = Interlocked.Exchange(ref _sleeping, 0);
        if (sleeping > 0)
        {
            _wake.Release(sleeping);
        }
    }

    /// <summary>Lets the workers go to sleep once idle.</summary>
    public void EndRun() => Volatile.Write(ref _running, 0);

    /// <summary>
    /// Runs <c>body(state, i)</c> for every <c>i</c> in <c>[0, count)</c>, spread over the threads, and returns
    /// when all are done. <paramref name="state"/> must stay valid until then (a local of the caller).
    /// </summary>
    public void For(int count, delegate*<void*, int, void> body, void* state)
    {
        if (count <= 0)
        {
            return;
        }

        // One loop at a time: a loop started inside a loop's body, or by another thread sharing the
        // pool, runs on its own thread instead of waiting (correct, just not parallel).
        if (count == 1 || _threads.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++)
            {
                body(state, i);
            }

            return;
        }

        try
        {
            RunLoop(count, body, state);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void RunLoop(int count, delegate*<void*, int, void> body, void* state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Loops++;
        int generation = _generation + 1;

        // Close the last loop's tickets before its parameters change: a worker still in that loop may already
        // read this loop's count, and with the old ticket it would run (and count as done) an index past the old
        // loop's end, with this loop's body and state, before this loop opens.
        Interlocked.Exchange(ref _ticket, ((long)generation << 32) | int.MaxValue);
        _body = (nint)body;
        _state = (nint)state;
        _count = count;
        Volatile.Write(ref _pending, count);
        Interlocked.Exchange(ref _ticket, (long)generation << 32);
        Interlocked.Exchange(ref _generation, generation); // publishes the loop (full fence)
        int sleeping = Interlocked.Exchange(ref _sleeping, 0);
        if (sleeping > 0)
        {
            _wake.Release(sleeping);
        }

        RunItems(generation);
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) > 0)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Splits <paramref name="total"/> units into at most one chunk per thread-and-a-half, each at least <paramref name="minChunk"/> units.</summary>
    public int Chunks(long total, long minChunk)
    {
        long byWork = total / Math.Max(minChunk, 1);
        return (int)Math.Clamp(byWork, 1, ThreadCount * 4L);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunItems(int generation)
    {
        // In this order, before the first ticket: a count read from a newer loop implies a ticket of that loop (see RunLoop).
        var body = (delegate*<void*, int, void>)Volatile.Read(ref _body);
        void* state = (void*)Volatile.Read(ref _state);
        int count = Volatile.Read(ref _count);
        int done = 0;
        while (true)
        {
            // Compare-and-swap, not increment: a worker late from an earlier loop must not use up an index of this one.
            long ticket = Volatile.Read(ref _ticket);
            int index = (int)(ticket & 0xFFFF_FFFF);
            if ((int)(ticket >> 32) != generation || index >= count)
            {
                break;
            }

            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket)
            {
                continue;
            }

            body(state, index);
            done++;
        }

        if (done > 0)
        {
            Interlocked.Add(ref _pending, -done);
        }
    }

    private void Work()
    {
        int seen = Volatile.Read(ref _generation);
        while (!_disposed)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (Volatile.Read(ref _running) == 0 && ++spins > IdleSpins)
                {
                    Interlocked.Increment(ref _sleeping);
                    if (Volatile.Read(ref _generation) == seen && Volatile.Read(ref _running) == 0 && !_disposed)
                    {
                        _wake.Wait();
                    }
                    else if (Interlocked.Decrement(ref _sleeping) < 0)
                    {
                        // A releaser took our count already: consume the matching release.
                        Interlocked.Increment(ref _sleeping);
                        _wake.Wait();
                    }

                    spins = 0;
                    continue;
                }

                Thread.SpinWait(20);
            }

            seen = Volatile.Read(ref _generation);
            if (_disposed)
            {
                return;
            }

            RunItems(seen);
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_threads.Length > 0)
        {
            _wake.Release(_threads.Length);
        }
    }
}
