using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>Numerical comparisons and deterministic random tensors.</summary>
public static class TensorAssert
{
    /// <summary>‖actual − expected‖₂ / ‖expected‖₂ (0 when both are zero).</summary>
    public static double RelativeL2(Tensor actual, Tensor expected)
    {
        float[] a = actual.ToFloats(), e = expected.ToFloats();
        double num = 0, den = 0;
        for (int i = 0; i < e.Length; i++)
        {
            double d = a[i] - e[i];
            num += d * d;
            den += (double)e[i] * e[i];
        }

        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }

    /// <summary>Same type and shape, and relative L2 error at most <paramref name="tolerance"/> (exact for integers).</summary>
    public static void Close(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Shape, actual.Shape);
        if (expected.Type is ElementType.Float32 or ElementType.Float64 or ElementType.Float16)
        {
            double error = RelativeL2(actual, expected);
            Assert.True(error <= tolerance, $"relative L2 error {error:G4} > {tolerance:G4}");
        }
        else
        {
            Assert.Equal(expected.Bytes.ToArray(), actual.Bytes.ToArray());
        }
    }

    /// <summary>A float32 tensor of uniform values in [lo, hi) from a fixed seed.</summary>
    public static Tensor Random(int[] shape, int seed = 1, float lo = -1, float hi = 1)
    {
        var rng = new Random(seed);
        int n = Shapes.ElementCount(shape);
        var data = new float[n];
        for (int i = 0; i < n; i++)
        {
            data[i] = lo + (float)rng.NextDouble() * (hi - lo);
        }

        return Tensor.FromFloats(shape, data);
    }
}
