using System.Collections.Generic;

namespace ModelSdk.Plan
{
    /// <summary>
    /// One weights buffer that the payload stores in a narrower float type: the loader reads
    /// <see cref="Count"/> elements of <see cref="StoredType"/> at <see cref="StoredOffset"/> in the payload and
    /// writes them as float32 at <see cref="Offset"/> in the loaded weights.
    /// </summary>
    public sealed class WeightsWidening
    {
        /// <summary>Creates a widening.</summary>
        public WeightsWidening(ElementType storedType, long storedOffset, long offset, long count)
        {
            StoredType = storedType;
            StoredOffset = storedOffset;
            Offset = offset;
            Count = count;
        }

        /// <summary>The type in the payload: float16 or bfloat16.</summary>
        public ElementType StoredType { get; }

        /// <summary>Byte offset in the payload.</summary>
        public long StoredOffset { get; }

        /// <summary>Byte offset in the loaded weights.</summary>
        public long Offset { get; }

        /// <summary>Number of elements.</summary>
        public long Count { get; }
    }

    /// <summary>
    /// How the weights payload becomes the weights in memory. The payload is copied as it is to the start of the
    /// loaded weights; then each buffer stored narrower is widened into its place, which lies after every tensor
    /// stored as it is (so the copy never lands on a tensor in use, and the widenings never overwrite one).
    /// </summary>
    public static class WeightsLayout
    {
        /// <summary>Types that weights may be stored in instead of float32.</summary>
        public static bool IsNarrowFloat(ElementType type) => type == ElementType.Float16 || type == ElementType.BFloat16;

        /// <summary>The buffers the loader widens, one per distinct offset, in offset order (views of a buffer share it).</summary>
        public static IReadOnlyList<WeightsWidening> Widenings(CompiledPlan plan)
        {
            var byOffset = new SortedDictionary<long, WeightsWidening>();
            foreach (PlanTensor t in plan.Tensors)
            {
                if (t.Storage == StorageKind.Weights && t.IsWidened
                    && (!byOffset.TryGetValue(t.Offset, out WeightsWidening? seen) || seen.Count < t.ElementCount))
                {
                    byOffset[t.Offset] = new WeightsWidening(t.StoredType, t.StoredOffset, t.Offset, t.ElementCount);
                }
            }

            return new List<WeightsWidening>(byOffset.Values);
        }

        /// <summary>
        /// Why the weights of <paramref name="plan"/> cannot be loaded as <see cref="WeightsLayout"/> describes, or null
        /// when they can: every tensor lies inside its storage, a widened tensor is float32 stored as float16 or
        /// bfloat16, views of one buffer agree on its storage, and widened buffers do not overlap each other or
        /// any tensor stored as it is.
        /// </summary>
        public static string? Check(CompiledPlan plan)
        {
            if (plan.LoadedWeightsBytes < plan.WeightsBytes)
            {
                return "the loaded weights are smaller than the payload";
            }

            long plainEnd = 0;
            var stored = new Dictionary<long, PlanTensor>();
            foreach (PlanTensor t in plan.Tensors)
            {
                if (t.Storage != StorageKind.Weights)
                {
                    if (t.IsWidened)
                    {
                        return $"tensor {t.Id} has a stored type but is not a weight";
                    }

                    continue;
                }

                if (!t.IsWidened)
                {
                    if (t.StoredOffset != t.Offset || !Inside(t.Offset, t.ByteCount, plan.WeightsBytes))
                    {
                        return $"tensor {t.Id} lies outside its storage";
                    }

                    plainEnd = System.Math.Max(plainEnd, t.Offset + t.ByteCount);
                    continue;
                }

                if (t.Type != ElementType.Float32 || !IsNarrowFloat(t.StoredType))
                {
                    return $"tensor {t.Id} is {t.Type.ToPlanName()} stored as {t.StoredType.ToPlanName()}; only float32 may be stored as float16 or bfloat16";
                }

                if (!Inside(t.Offset, t.ByteCount, plan.LoadedWeightsBytes) || !Inside(t.StoredOffset, t.StoredByteCount, plan.WeightsBytes))
                {
                    return $"tensor {t.Id} lies outside its storage";
                }

                if (stored.TryGetValue(t.Offset, out PlanTensor? view) && (view.StoredOffset != t.StoredOffset || view.StoredType != t.StoredType))
                {
                    return $"tensors {view.Id} and {t.Id} share loaded weights but not their stored form";
                }

                stored[t.Offset] = t;
            }

            long end = plainEnd;
            foreach (WeightsWidening w in Widenings(plan))
            {
                if (w.Offset < end)
                {
                    return $"the widened weights at offset {w.Offset} overlap other weights";
                }

                end = w.Offset + (w.Count * ElementType.Float32.SizeInBytes());
            }

            return null;
        }

        private static bool Inside(long offset, long count, long limit) => offset >= 0 && offset <= limit && count <= limit - offset;
    }
}
