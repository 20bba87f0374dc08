using System.Numerics;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// Softmax cross-entropy loss of scores laid out as <c>[N, classes, inner]</c>: the log-softmax over the
/// classes, then <see cref="NegativeLogLikelihood"/> of it against the labels.
/// </summary>
public static class SoftmaxCrossEntropy
{
    // Inner positions normalised together: the running maximum and sum of a chunk fit on the stack.
    private const int Chunk = 64;

    /// <summary>
    /// <c>logProb = x - max - log(sum(exp(x - max)))</c> over the classes, then
    /// <c>loss = NegativeLogLikelihood(logProb, labels, weights)</c> reduced by <paramref name="reduction"/>.
    /// float32 runs the vectorized <see cref="Softmax"/>; the other types compute the log-softmax in double precision.
    /// </summary>
    /// <typeparam name="T"><c>float</c>, <c>double</c> or <c>Half</c>.</typeparam>
    /// <typeparam name="TIndex"><c>int</c> or <c>long</c>.</typeparam>
    /// <param name="scores">The scores, dense <c>[N, classes, inner]</c>.</param>
    /// <param name="labels">The class of each sample, dense <c>[N, inner]</c>, in <c>[0, classes)</c> unless ignored.</param>
    /// <param name="weights">Empty, or one weight per class.</param>
    /// <param name="loss">The output: one element per sample with <see cref="LossReduction.None"/>, otherwise one element.</param>
    /// <param name="logProb">The log-probabilities, shaped as <paramref name="scores"/>: the operator's second output, or scratch.</param>
    /// <param name="classes">Number of classes (dimension 1 of <paramref name="scores"/>).</param>
    /// <param name="inner">Product of the dimensions after the class dimension (1 for <c>[N, classes]</c>).</param>
    /// <param name="reduction">How the samples' losses combine.</param>
    /// <param name="ignore">Whether samples whose label equals <paramref name="ignoreIndex"/> are left out.</param>
    /// <param name="ignoreIndex">The label of samples to leave out.</param>
    /// <exception cref="ArgumentOutOfRangeException">A label that is not ignored lies outside <c>[0, classes)</c>.</exception>
    public static void Run<T, TIndex>(ReadOnlySpan<T> scores, ReadOnlySpan<TIndex> labels, ReadOnlySpan<T> weights, Span<T> loss, Span<T> logProb,
        int classes, int inner, LossReduction reduction, bool ignore, int ignoreIndex)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        long block = (long)classes * inner;
        if (logProb.Length != scores.Length || classes < 0 || inner < 0 || (block == 0 ? scores.Length != 0 : scores.Length % block != 0))
        {
            throw new ArgumentException($"SoftmaxCrossEntropy over [{classes},{inner}] blocks got {scores.Length} scores and room for {logProb.Length} log-probabilities.");
        }

        if (typeof(T) == typeof(float))
        {
            Softmax.Run(MemoryMarshal.Cast<T, float>(scores), MemoryMarshal.Cast<T, float>(logProb), classes, inner, log: true, KernelContext.SingleThreaded);
        }
        else if (scores.Length > 0)
        {
            for (int start = 0; start < scores.Length; start += (int)block)
            {
                for (int c = 0; c < inner; c += Chunk)
                {
                    LogSoftmaxColumns(scores, logProb, start + c, Math.Min(Chunk, inner - c), classes, inner);
                }
            }
        }

        NegativeLogLikelihood.Run(logProb, labels, weights, loss, classes, inner, reduction, ignore, ignoreIndex);
    }

    // The log-softmax of `width` adjacent inner positions starting at x[start], whose classes are `inner` apart.
    private static void LogSoftmaxColumns<T>(ReadOnlySpan<T> x, Span<T> y, int start, int width, int classes, int inner)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<double> max = stackalloc double[width];
        Span<double> sum = stackalloc double[width];
        max.Fill(double.NegativeInfinity);
        sum.Clear();
        for (int j = 0; j < classes; j++)
        {
            ReadOnlySpan<T> row = x.Slice(start + j * inner, width);
            for (int i = 0; i < width; i++)
            {
                max[i] = Math.Max(max[i], double.CreateTruncating(row[i]));
            }
        }

        for (int j = 0; j < classes; j++)
        {
            ReadOnlySpan<T> row = x.Slice(start + j * inner, width);
            for (int i = 0; i < width; i++)
            {
                sum[i] += Math.Exp(double.CreateTruncating(row[i]) - max[i]);
            }
        }

        for (int i = 0; i < width; i++)
        {
            sum[i] = Math.Log(sum[i]);
        }

        for (int j = 0; j < classes; j++)
        {
            ReadOnlySpan<T> row = x.Slice(start + j * inner, width);
            Span<T> output = y.Slice(start + j * inner, width);
            for (int i = 0; i < width; i++)
            {
                // Subtracting the maximum first keeps large scores exact, as the float32 kernel does.
                output[i] = T.CreateTruncating(double.CreateTruncating(row[i]) - max[i] - sum[i]);
            }
        }
    }
}
