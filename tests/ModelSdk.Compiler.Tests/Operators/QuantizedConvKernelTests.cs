using System.Runtime.InteropServices;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary><see cref="QuantizedConv"/> on every inner loop this processor has, against QLinearConv's definition computed element by element.</summary>
public class QuantizedConvKernelTests
{
    /// <summary>One convolution: channels, output channels, input size, kernel, strides, dilations, pads (top, left, bottom, right), batch.</summary>
    public sealed record Geometry(int C, int M, int H, int W, int Kh, int Kw, int Sy = 1, int Sx = 1, int Dy = 1, int Dx = 1, int Pt = 0, int Pl = 0, int Pb = 0, int Pr = 0, int Batch = 1)
    {
        public int OutHeight => ((H + Pt + Pb - (((Kh - 1) * Dy) + 1)) / Sy) + 1;

        public int OutWidth => ((W + Pl + Pr - (((Kw - 1) * Dx) + 1)) / Sx) + 1;
    }

    public static TheoryData<string, Geometry> Geometries => new()
    {
        // The digits sample's two layers: whole 8 × 8 tiles, one channel (a kernel row in one quad) and eight (the transposed copy).
        { "digits conv1", new Geometry(1, 8, 8, 8, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1) },
        { "digits conv2", new Geometry(8, 16, 8, 8, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1) },
        { "one pixel, one channel", new Geometry(1, 1, 1, 1, 1, 1) },
        { "odd sizes, partial tiles", new Geometry(3, 5, 9, 11, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1) },
        { "strides, asymmetric pads, batch", new Geometry(5, 7, 10, 9, 3, 2, Sy: 2, Pt: 1, Pb: 2, Pr: 1, Batch: 2) },
        { "dilated width: a segment per tap", new Geometry(2, 33, 12, 12, 3, 3, Dy: 2, Dx: 2, Pt: 2, Pl: 2, Pb: 2, Pr: 2) },
        { "dilated height only", new Geometry(3, 9, 11, 10, 3, 3, Dy: 3, Pt: 1, Pl: 1) },
        { "dilated width only, stride", new Geometry(9, 12, 9, 14, 2, 3, Sx: 2, Dx: 3, Pl: 3, Pr: 2) },
        { "eight channels, ragged rows", new Geometry(8, 9, 13, 17, 5, 5, Sy: 2, Sx: 2, Pt: 2, Pl: 2, Pb: 2, Pr: 2) },
        { "pointwise, many channels", new Geometry(40, 19, 6, 7, 1, 1) },
        { "channels past a multiple of eight", new Geometry(19, 24, 7, 9, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1) },
        { "no padding, wide kernel", new Geometry(4, 17, 6, 20, 1, 7) },
        { "split over the workers", new Geometry(32, 72, 24, 23, 3, 3, Pt: 1, Pl: 1, Pb: 1, Pr: 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Paths_agree_with_the_definition(string name, Geometry g)
    {
        using var context = new KernelContext(2);
        var rng = new Random(name.Length * 7919);
        int oh = g.OutHeight, ow = g.OutWidth, taps = g.Kh * g.Kw;
        var x = new byte[g.Batch * g.C * g.H * g.W];
        var w = new byte[g.M * g.C * taps];
        rng.NextBytes(x);
        rng.NextBytes(w);
        int[] bias = [.. Enumerable.Range(0, g.M).Select(_ => rng.Next(-20000, 20000))];
        float[] multiplier = [.. Enumerable.Range(0, g.M).Select(_ => (float)(rng.NextDouble() * 0.004))];
        // The last multipliers are far past ½: products beyond int32, which only the clamp before converting keeps right (below ½, the packs' saturation clamps).
        foreach ((bool xSigned, bool wSigned, bool ySigned, bool perChannel, float gain) in new[]
        {
            (false, true, false, true, 1f), (true, true, true, false, 1f), (false, false, true, false, 1f), (true, false, false, true, 1f), (false, true, true, true, 1e8f),
        })
        {
            byte xZero = (byte)rng.Next(256), yZero = (byte)rng.Next(256), wZero = wSigned ? (byte)0 : (byte)128;
            float[] scale = perChannel ? [.. multiplier.Select(v => v * gain)] : [multiplier[0] * gain];
            byte[] expected = Definition(g, x, xSigned, xZero, w, wSigned, wZero, bias, scale, ySigned, yZero);

            // Packed as the lowering packs it: arranged in the kernel's depth order, bias and the input zero point folded.
            int depth = QuantizedConv.Segments(g.Kh, g.Kw, g.Dx) * QuantizedConv.SegmentLength(g.C, g.Kw, g.Dx);
            var arranged = new byte[depth * g.M];
            QuantizedConv.ArrangeWeights(w, wZero, arranged, g.M, g.C, g.Kh, g.Kw, g.Dx);
            var packed = new sbyte[PackedIntegerGemm.PackedLength(depth, g.M)];
            var columnSums = new int[g.M];
            Assert.True(PackedIntegerGemm.Pack(arranged, wSigned, [wZero], depth, g.M, packed, columnSums));
            int shiftedZero = xSigned ? (sbyte)xZero + 128 : xZero;
            int columns = PackedIntegerGemm.PaddedColumns(g.M);
            int[] terms = [.. Enumerable.Range(0, columns).Select(j => j < g.M ? bias[j] - (shiftedZero * columnSums[j]) : 0)];
            float[] paddedScale = perChannel ? [.. scale, .. new float[columns - g.M]] : scale;

            int ph = ((oh - 1) * g.Sy) + ((g.Kh - 1) * g.Dy) + 1, pw = ((ow - 1) * g.Sx) + ((g.Kw - 1) * g.Dx) + 1;
            foreach (IntegerGemmPath path in QuantizationTests.IntegerPaths())
            {
                PackedIntegerGemm.Forced = path;
                try
                {
                    var y = new byte[g.Batch * g.M * oh * ow];
                    var padded = new byte[QuantizedConv.PaddedLength(g.C, ph, pw)];
                    Run(xSigned, ySigned);
                    int first = Enumerable.Range(0, y.Length).FirstOrDefault(i => y[i] != expected[i], -1);
                    Assert.True(first < 0, $"{path} xSigned={xSigned} wSigned={wSigned} ySigned={ySigned} perChannel={perChannel}: element {first} is {(first < 0 ? 0 : y[first])}, expected {(first < 0 ? 0 : expected[first])}");

                    void Run(bool xs, bool ys)
                    {
                        if (xs && ys)
                        {
                            Call<sbyte, sbyte>();
                        }
                        else if (xs)
                        {
                            Call<sbyte, byte>();
                        }
                        else if (ys)
                        {
                            Call<byte, sbyte>();
                        }
                        else
                        {
                            Call<byte, byte>();
                        }
                    }

                    void Call<TX, TY>()
                        where TX : unmanaged
                        where TY : unmanaged
                        => QuantizedConv.Run<TX, TY>(
                            MemoryMarshal.Cast<byte, TX>(x), packed, terms, paddedScale, MemoryMarshal.Cast<byte, TX>(new[] { xZero }), MemoryMarshal.Cast<byte, TY>(new[] { yZero }),
                            MemoryMarshal.Cast<byte, TY>(y.AsSpan()), MemoryMarshal.Cast<byte, TX>(padded.AsSpan()), g.Batch, g.C, g.M,
                            [g.H, g.W], [oh, ow], [g.Kh, g.Kw], [g.Sy, g.Sx], [g.Dy, g.Dx], [g.Pt, g.Pl], context);
                }
                finally
                {
                    PackedIntegerGemm.Forced = IntegerGemmPath.Auto;
                }
            }
        }
    }

    /// <summary>QLinearConv element by element: int32 sums of (x − zx)(w − zw) plus the bias, times the multiplier, clamped, rounded half to even.</summary>
    private static byte[] Definition(Geometry g, byte[] x, bool xSigned, byte xZero, byte[] w, bool wSigned, byte wZero, int[] bias, float[] scale, bool ySigned, byte yZero)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        int zy = ySigned ? (sbyte)yZero : yZero, lo = ySigned ? sbyte.MinValue : byte.MinValue, hi = ySigned ? sbyte.MaxValue : byte.MaxValue;
        var y = new byte[g.Batch * g.M * oh * ow];
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < g.M; o++)
            {
                for (int oy = 0; oy < oh; oy++)
                {
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int sum = bias[o];
                        for (int c = 0; c < g.C; c++)
                        {
                            for (int ky = 0; ky < g.Kh; ky++)
                            {
                                for (int kx = 0; kx < g.Kw; kx++)
                                {
                                    int iy = (oy * g.Sy) + (ky * g.Dy) - g.Pt, ix = (ox * g.Sx) + (kx * g.Dx) - g.Pl;
                                    if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W)
                                    {
                                        continue;
                                    }

                                    int xv = Value(x[(((((n * g.C) + c) * g.H) + iy) * g.W) + ix], xSigned) - Value(xZero, xSigned);
                                    int wv = Value(w[(((((o * g.C) + c) * g.Kh) + ky) * g.Kw) + kx], wSigned) - Value(wZero, wSigned);
                                    sum += xv * wv;
                                }
                            }
                        }

                        float f = sum * scale[scale.Length == 1 ? 0 : o];
                        int q = (int)MathF.Round(Math.Clamp(f, lo - zy, hi - zy)) + zy;
                        y[(((((n * g.M) + o) * oh) + oy) * ow) + ox] = (byte)q;
                    }
                }
            }
        }

        return y;

        static int Value(byte raw, bool signed) => signed ? (sbyte)raw : raw;
    }
}
