namespace ModelSdk.Runtime.Kernels;

/// <summary>Runs a kernel body instantiated per vector width, on the calling thread or split over the workers.</summary>
internal static unsafe class SimdParts
{
    /// <summary>
    /// Calls the body for <see cref="Simd.Width"/> (decided here, on the calling thread, where a test may force it)
    /// once per part: directly for a single part, else through <paramref name="context"/>'s workers.
    /// </summary>
    public static void Run(
        KernelContext context, int parts, void* state,
        delegate*<void*, int, void> w512, delegate*<void*, int, void> w256, delegate*<void*, int, void> w128)
    {
        delegate*<void*, int, void> body = Simd.Width switch
        {
            SimdWidth.W512 => w512,
            SimdWidth.W256 => w256,
            _ => w128,
        };
        if (parts <= 1)
        {
            body(state, 0);
        }
        else
        {
            context.Workers.For(parts, body, state);
        }
    }
}
