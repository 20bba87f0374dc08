namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Reverses the first <c>sequenceLens[b]</c> time steps of each batch entry <c>b</c> of a tensor whose
/// first two dimensions are batch and time (in either order); later time steps are copied unchanged.
/// The lengths are read when the kernel runs, so a model may compute them.
/// </summary>
public static class ReverseSequence
{
    /// <summary><c>y[b, t] = x[b, sequenceLens[b] - 1 - t]</c> for <c>t &lt; sequenceLens[b]</c>, <c>x[b, t]</c> after.</summary>
    /// <typeparam name="T">Element type; only copied.</typeparam>
    /// <param name="x">The input, dense <c>[batch, time, inner]</c> or <c>[time, batch, inner]</c>.</param>
    /// <param name="sequenceLens">One length per batch entry, in <c>[0, time]</c>.</param>
    /// <param name="y">The output, same shape; must not overlap <paramref name="x"/>.</param>
    /// <param name="batch">Length of the batch dimension.</param>
    /// <param name="time">Length of the time dimension.</param>
    /// <param name="inner">Product of the dimensions after the first two.</param>
    /// <param name="batchMajor">Whether the batch dimension comes first (batch_axis 0, time_axis 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A length lies outside <c>[0, time]</c>.</exception>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> sequenceLens, Span<T> y, int batch, int time, int inner, bool batchMajor)
        where T : unmanaged
    {
        if (batch < 0 || time < 0 || inner < 0 || (long)batch * time * inner != x.Length || y.Length != x.Length || sequenceLens.Length != batch)
        {
            throw new ArgumentException(
                $"ReverseSequence of {batch}×{time}×{inner} elements got an input of {x.Length}, an output of {y.Length} and {sequenceLens.Length} lengths.");
        }

        // Element distance between neighbouring time steps, and between neighbouring batch entries.
        int timeStride = batchMajor ? inner : batch * inner;
        int batchStride = batchMajor ? time * inner : inner;
        for (int b = 0; b < batch; b++)
        {
            long length = sequenceLens[b];
            if (length < 0 || length > time)
            {
                throw new ArgumentOutOfRangeException(nameof(sequenceLens), $"Sequence length {length} (batch entry {b}) is outside [0, {time}].");
            }

            for (int t = 0; t < time; t++)
            {
                int source = t < length ? (int)length - 1 - t : t;
                x.Slice(b * batchStride + source * timeStride, inner).CopyTo(y.Slice(b * batchStride + t * timeStride, inner));
            }
        }
    }
}
