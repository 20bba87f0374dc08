using System.Numerics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>How a loss kernel combines the losses of its samples.</summary>
public enum LossReduction
{
    /// <summary>One loss per sample.</summary>
    None,

    /// <summary>The sum of the samples' losses, one element.</summary>
    Sum,

    /// <summary>The sum of the losses divided by the sum of the weights of the samples that are not ignored, one element.</summary>
    Mean,
}

/// <summary>
/// Negative log-likelihood loss of log-probabilities <c>x</c> laid out as <c>[N, classes, inner]</c>
/// against class indices laid out as <c>[N, inner]</c> (NegativeLogLikelihoodLoss, and the second
/// half of SoftmaxCrossEntropyLoss).
/// </summary>
public static class NegativeLogLikelihood
{
    /// <summary>
    /// <c>loss[n, i] = -x[n, target[n, i], i] · weight[target[n, i]]</c> (weight 1 without <paramref name="weight"/>),
    /// 0 for a target equal to <paramref name="ignoreIndex"/> when <paramref name="ignore"/> is set; then reduced.
    /// Sums accumulate in double precision.
    /// </summary>
    /// <typeparam name="T"><c>float</c>, <c>double</c> or <c>Half</c>.</typeparam>
    /// <typeparam name="TIndex"><c>int</c> or <c>long</c>.</typeparam>
    /// <param name="x">The log-probabilities, dense <c>[N, classes, inner]</c>.</param>
    /// <param name="target">The class of each sample, dense <c>[N, inner]</c>, in <c>[0, classes)</c> unless ignored.</param>
    /// <param name="weight">Empty, or one weight per class.</param>
    /// <param name="loss">The output: one element per sample with <see cref="LossReduction.None"/>, otherwise one element.</param>
    /// <param name="classes">Number of classes (dimension 1 of <paramref name="x"/>).</param>
    /// <param name="inner">Product of the dimensions after the class dimension (1 for <c>[N, classes]</c>).</param>
    /// <param name="reduction">How the samples' losses combine.</param>
    /// <param name="ignore">Whether samples whose target equals <paramref name="ignoreIndex"/> are left out.</param>
    /// <param name="ignoreIndex">The target value of samples to leave out.</param>
    /// <exception cref="ArgumentOutOfRangeException">A target that is not ignored lies outside <c>[0, classes)</c>.</exception>
    public static void Run<T, TIndex>(ReadOnlySpan<T> x, ReadOnlySpan<TIndex> target, ReadOnlySpan<T> weight, Span<T> loss,
        int classes, int inner, LossReduction reduction, bool ignore, int ignoreIndex)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (classes < 0 || inner < 0 || (inner == 0 ? target.Length != 0 : target.Length % inner != 0) || (long)target.Length * classes != x.Length
            || (!weight.IsEmpty && weight.Length != classes)
            || loss.Length != (reduction == LossReduction.None ? target.Length : 1))
        {
            throw new ArgumentException(
                $"NegativeLogLikelihood over {classes} classes and {inner} inner positions got {x.Length} inputs, {target.Length} targets, {weight.Length} weights and {loss.Length} outputs.");
        }

        int samples = inner == 0 ? 0 : target.Length / inner;
        double sum = 0, weightSum = 0;
        for (int n = 0; n < samples; n++)
        {
            int rowStart = n * classes * inner;
            for (int i = 0; i < inner; i++)
            {
                int s = n * inner + i;
                long t = long.CreateTruncating(target[s]);
                double value = 0;
                if (!ignore || t != ignoreIndex)
                {
                    if ((ulong)t >= (ulong)classes)
                    {
                        throw new ArgumentOutOfRangeException(nameof(target),
                            $"Target {t} (sample {s}) is outside [0, {classes - 1}]{(ignore ? $" and is not the ignore_index {ignoreIndex}" : "")}.");
                    }

                    double w = weight.IsEmpty ? 1 : double.CreateTruncating(weight[(int)t]);
                    value = -double.CreateTruncating(x[rowStart + (int)t * inner + i]) * w;
                    weightSum += w;
                }

                if (reduction == LossReduction.None)
                {
                    loss[s] = T.CreateTruncating(value);
                }
                else
                {
                    sum += value;
                }
            }
        }

        if (reduction != LossReduction.None)
        {
            // A mean over no weight (every sample ignored) is 0/0, NaN, as in the specification's reference.
            loss[0] = T.CreateTruncating(reduction == LossReduction.Mean ? sum / weightSum : sum);
        }
    }
}
