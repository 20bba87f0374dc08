namespace ModelSdk.Runtime;

/// <summary>
/// What kernels need beyond their tensors: the model instance's worker threads. A kernel that splits
/// its work takes one as its <c>context</c> argument; generated code passes the instance's own.
/// </summary>
public sealed class KernelContext : IDisposable
{
    /// <summary>Creates a context with <paramref name="threads"/> threads in all (0: one per processor).</summary>
    public KernelContext(int threads = 0) => Workers = threads == 1 ? WorkerPool.Single : new WorkerPool(threads);

    private KernelContext(WorkerPool workers) => Workers = workers;

    /// <summary>A context that runs everything on the calling thread (the compiler's constant folding uses it).</summary>
    public static KernelContext SingleThreaded { get; } = new(WorkerPool.Single);

    /// <summary>The worker threads.</summary>
    public WorkerPool Workers { get; }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => Workers.Dispose();
}
