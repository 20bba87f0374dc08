using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Kernels;

/// <summary>
/// The float32 rows of <see cref="Binary"/> at every vector width the hardware has (the 512-bit rows mask their
/// last vector), with each operand broadcast or not, on row lengths around the vector sizes.
/// </summary>
public sealed class BinaryRowTests : IDisposable
{
    public void Dispose() => Simd.Forced = SimdWidth.Auto;

    [Theory]
    [InlineData(BinaryOp.Add)]
    [InlineData(BinaryOp.Sub)]
    [InlineData(BinaryOp.Mul)]
    [InlineData(BinaryOp.Div)]
    [InlineData(BinaryOp.Max)]
    [InlineData(BinaryOp.Min)]
    [InlineData(BinaryOp.PRelu)]
    public void Rows_agree_with_the_scalar_definition_at_every_width(BinaryOp op)
    {
        SimdWidth[] widths = Simd.HardwareWidth switch
        {
            SimdWidth.W512 => [SimdWidth.W128, SimdWidth.W256, SimdWidth.W512],
            SimdWidth.W256 => [SimdWidth.W128, SimdWidth.W256],
            _ => [SimdWidth.W128],
        };
        var rng = new Random(5);
        foreach (SimdWidth width in widths)
        {
            foreach (int inner in new[] { 1, 7, 8, 15, 16, 17, 49, 64, 100 })
            {
                // [3, inner]: a per-row scalar (the squeeze-excite gate) against a full tensor, both ways round, and two full tensors.
                foreach ((int[] aStrides, int[] bStrides) in new[] { (new[] { 1, 0 }, new[] { inner, 1 }), (new[] { inner, 1 }, new[] { 1, 0 }), (new[] { inner, 1 }, new[] { inner, 1 }) })
                {
                    float[] a = Enumerable.Range(0, aStrides[1] == 0 ? 3 : 3 * inner).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
                    float[] b = Enumerable.Range(0, bStrides[1] == 0 ? 3 : 3 * inner).Select(_ => (float)(rng.NextDouble() * 4 - 2) + (op == BinaryOp.Div ? 3 : 0)).ToArray();
                    var y = new float[3 * inner + 1];
                    y[^1] = 12345; // past the output: must stay untouched
                    Simd.Forced = width;
                    Binary.Run<float>(op, a, b, y.AsSpan(0, 3 * inner), [3, inner], aStrides, bStrides);
                    Simd.Forced = SimdWidth.Auto;
                    for (int r = 0; r < 3; r++)
                    {
                        for (int i = 0; i < inner; i++)
                        {
                            float x = a[r * aStrides[0] + i * aStrides[1]], z = b[r * bStrides[0] + i * bStrides[1]];
                            float expected = op switch
                            {
                                BinaryOp.Add => x + z,
                                BinaryOp.Sub => x - z,
                                BinaryOp.Mul => x * z,
                                BinaryOp.Div => x / z,
                                BinaryOp.Max => Math.Max(x, z),
                                BinaryOp.Min => Math.Min(x, z),
                                _ => x < 0 ? x * z : x,
                            };
                            Assert.True(expected == y[r * inner + i], $"{op} {width} inner={inner} [{r},{i}]: {y[r * inner + i]}, expected {expected}");
                        }
                    }

                    Assert.Equal(12345f, y[^1]);
                }
            }
        }
    }
}
