using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace ModelSdk.Benchmarks;

/// <summary>
/// The machine's peak FP32 throughput on one core: 16 independent chains of fused multiply-adds on the
/// widest accelerated vector, enough to keep every FMA pipe busy whatever its latency (4 cycles × 2 pipes
/// needs 8 chains in flight). The GFLOP/s column is the peak against which the MatMul is measured.
/// </summary>
public class PeakFlops
{
    private const int Steps = 100_000;
    private const int Chains = 16;

    /// <summary>Read by <see cref="GFlopsColumn"/>: two flops per lane per FMA.</summary>
    public static double FlopsPerRun => 2.0 * Steps * Chains * (Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count);

    [Benchmark]
    public float Fma() => Vector512.IsHardwareAccelerated ? Probe<Vector512<float>, Ops512>() : Probe<Vector256<float>, Ops256>();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Probe<TV, TOps>()
        where TOps : IOps<TV>
    {
        // acc = acc·m + a converges to a/(1-m) = 1: no overflow, no denormals.
        TV m = TOps.Create(0.5f), a = TOps.Create(0.5f);
        TV c0 = TOps.Create(0.0f), c1 = TOps.Create(0.1f), c2 = TOps.Create(0.2f), c3 = TOps.Create(0.3f);
        TV c4 = TOps.Create(0.4f), c5 = TOps.Create(0.5f), c6 = TOps.Create(0.6f), c7 = TOps.Create(0.7f);
        TV c8 = TOps.Create(0.8f), c9 = TOps.Create(0.9f), c10 = TOps.Create(1.0f), c11 = TOps.Create(1.1f);
        TV c12 = TOps.Create(1.2f), c13 = TOps.Create(1.3f), c14 = TOps.Create(1.4f), c15 = TOps.Create(1.5f);
        for (int i = 0; i < Steps; i++)
        {
            c0 = TOps.Fma(c0, m, a);
            c1 = TOps.Fma(c1, m, a);
            c2 = TOps.Fma(c2, m, a);
            c3 = TOps.Fma(c3, m, a);
            c4 = TOps.Fma(c4, m, a);
            c5 = TOps.Fma(c5, m, a);
            c6 = TOps.Fma(c6, m, a);
            c7 = TOps.Fma(c7, m, a);
            c8 = TOps.Fma(c8, m, a);
            c9 = TOps.Fma(c9, m, a);
            c10 = TOps.Fma(c10, m, a);
            c11 = TOps.Fma(c11, m, a);
            c12 = TOps.Fma(c12, m, a);
            c13 = TOps.Fma(c13, m, a);
            c14 = TOps.Fma(c14, m, a);
            c15 = TOps.Fma(c15, m, a);
        }

        TV sum = TOps.Add(TOps.Add(TOps.Add(TOps.Add(c0, c1), TOps.Add(c2, c3)), TOps.Add(TOps.Add(c4, c5), TOps.Add(c6, c7))),
            TOps.Add(TOps.Add(TOps.Add(c8, c9), TOps.Add(c10, c11)), TOps.Add(TOps.Add(c12, c13), TOps.Add(c14, c15))));
        return TOps.Sum(sum);
    }

    // The vector operations the probe needs, per width (the runtime's ISimd is internal to ModelSdk.Runtime).
    private interface IOps<TV>
    {
        static abstract TV Create(float value);

        static abstract TV Fma(TV a, TV b, TV c);

        static abstract TV Add(TV a, TV b);

        static abstract float Sum(TV x);
    }

    private readonly struct Ops512 : IOps<Vector512<float>>
    {
        public static Vector512<float> Create(float value) => Vector512.Create(value);

        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

        public static float Sum(Vector512<float> x) => Vector512.Sum(x);
    }

    private readonly struct Ops256 : IOps<Vector256<float>>
    {
        public static Vector256<float> Create(float value) => Vector256.Create(value);

        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

        public static float Sum(Vector256<float> x) => Vector256.Sum(x);
    }
}
