using System.Runtime.InteropServices;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary><see cref="QuantizedMaxPool"/>'s 2×2 / 2 path (vectors of eight and four outputs, then single ones) against the definition.</summary>
public class QuantizedMaxPoolKernelTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_by_two_windows_agree_with_the_definition(bool signed)
    {
        var rng = new Random(signed ? 3 : 2);

        // Output widths around the vector steps, odd input sizes (the last row or column left out).
        foreach ((int planes, int h, int w) in new[] { (16, 8, 8), (3, 5, 7), (2, 4, 16), (2, 6, 25), (1, 2, 2), (2, 3, 41), (1, 9, 34) })
        {
            int oh = h / 2, ow = w / 2;
            var x = new byte[planes * h * w];
            rng.NextBytes(x);
            var expected = new byte[planes * oh * ow];
            for (int p = 0; p < planes; p++)
            {
                for (int oy = 0; oy < oh; oy++)
                {
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int best = int.MinValue;
                        for (int k = 0; k < 4; k++)
                        {
                            byte raw = x[(p * h * w) + (((2 * oy) + (k / 2)) * w) + (2 * ox) + (k % 2)];
                            best = Math.Max(best, signed ? (sbyte)raw : raw);
                        }

                        expected[(((p * oh) + oy) * ow) + ox] = (byte)best;
                    }
                }
            }

            var y = new byte[expected.Length];
            if (signed)
            {
                QuantizedMaxPool.Run<sbyte>(MemoryMarshal.Cast<byte, sbyte>(x.AsSpan()), MemoryMarshal.Cast<byte, sbyte>(y.AsSpan()), planes, [h, w], [oh, ow], [2, 2], [2, 2], [1, 1], [0, 0]);
            }
            else
            {
                QuantizedMaxPool.Run<byte>(x, y, planes, [h, w], [oh, ow], [2, 2], [2, 2], [1, 1], [0, 0]);
            }

            Assert.True(expected.SequenceEqual(y), $"planes={planes} h={h} w={w} signed={signed}");
        }
    }
}
