using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// A 2-d 8-bit convolution by constant weights with its bias and requantization in the store (QLinearConv), as an
/// implicit GEMM: per image, the input is copied channels-last into a padded buffer (padding = the input's zero point,
/// which contributes nothing; int8 shifted to unsigned), and each output pixel reads its window straight from that
/// buffer, four bytes at a time, against weights packed at compile time as <c>[depth, outChannels]</c>
/// (<see cref="PackedIntegerGemm"/>'s panels of quads). The depth is a sequence of equal segments, each one contiguous
/// run of the buffer rounded up to whole quads: one kernel row (<c>kernelWidth · channels</c> bytes) per segment, or
/// one tap (<c>channels</c> bytes) when the width is dilated; the bytes a quad reads past a run meet zero weights.
/// Tiles of 8 pixels by 8 output channels accumulate in registers and are requantized, transposed and stored
/// eight pixels at a time into <c>[outChannels, pixels]</c>: no unfolded copy of the input, no scattered store.
/// </summary>
public static unsafe class QuantizedConv
{
    /// <summary>Pixels and output channels of a tile.</summary>
    private const int Tile = 8;

    /// <summary>Pixels per work item (a multiple of <see cref="Tile"/>).</summary>
    private const int PixelChunk = 96;

    /// <summary>Below this many multiply-adds a convolution runs on the calling thread.</summary>
    private const long ParallelThreshold = 1L << 19;

    /// <summary>Bytes a quad may read past the window's last run: the padded buffer holds that many more.</summary>
    private const int Slack = 3;

    /// <summary>Bytes of one depth segment (a multiple of 4): a kernel row of taps, or one tap when the width is dilated.</summary>
    public static int SegmentLength(int channels, int kernelWidth, int dilationWidth)
        => PackedIntegerGemm.Depth(dilationWidth == 1 ? kernelWidth * channels : channels);

    /// <summary>Depth segments of the packed weights: the kernel rows, or the taps when the width is dilated.</summary>
    public static int Segments(int kernelHeight, int kernelWidth, int dilationWidth)
        => dilationWidth == 1 ? kernelHeight : kernelHeight * kernelWidth;

    /// <summary>
    /// The weights <c>[outChannels, channels, kernelHeight, kernelWidth]</c> as the right operand <c>[depth, outChannels]</c>
    /// in the kernel's depth order (then packed by <see cref="PackedIntegerGemm.Pack"/>): <see cref="Segments"/> segments of
    /// <see cref="SegmentLength"/> rows, a kernel row channels-last (tap-major) or one tap's channels, then rows of
    /// <paramref name="zeroPoint"/> (the weights' zero point, which weighs nothing once packed) up to whole quads.
    /// </summary>
    public static void ArrangeWeights(ReadOnlySpan<byte> weights, byte zeroPoint, Span<byte> arranged, int outChannels, int channels, int kernelHeight, int kernelWidth, int dilationWidth)
    {
        int segmentLength = SegmentLength(channels, kernelWidth, dilationWidth);
        long depth = (long)Segments(kernelHeight, kernelWidth, dilationWidth) * segmentLength;
        if (weights.Length != (long)outChannels * channels * kernelHeight * kernelWidth || arranged.Length != depth * outChannels)
        {
            throw new ArgumentException("Convolution weight lengths do not match the shapes.");
        }

        arranged.Fill(zeroPoint);
        for (int o = 0; o < outChannels; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    for (int kx = 0; kx < kernelWidth; kx++)
                    {
                        long row = dilationWidth == 1 ? ((long)ky * segmentLength) + (kx * channels) + c : ((((long)ky * kernelWidth) + kx) * segmentLength) + c;
                        arranged[(int)((row * outChannels) + o)] = weights[(((((o * channels) + c) * kernelHeight) + ky) * kernelWidth) + kx];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Elements of the padded channels-last buffer: <c>paddedHeight · paddedWidth · channels</c> plus a few bytes that
    /// quads read past the last run (<c>paddedHeight = (outHeight − 1) · stride + (kernel − 1) · dilation + 1</c>, likewise the width).
    /// </summary>
    public static long PaddedLength(int channels, int paddedHeight, int paddedWidth) => ((long)paddedHeight * paddedWidth * channels) + Slack;

    /// <summary>Computes the convolution.</summary>
    /// <typeparam name="TX">Input element type, int8 or uint8.</typeparam>
    /// <typeparam name="TY">Output element type, int8 or uint8.</typeparam>
    /// <param name="x">Input, <c>[batch, channels, height, width]</c>.</param>
    /// <param name="w">Weights packed by the compiler: <see cref="Segments"/> × <see cref="SegmentLength"/> rows of depth by <c>outChannels</c>.</param>
    /// <param name="terms">Per output channel: bias − zx′ · Σ w′, in accumulator units; padded to whole eights.</param>
    /// <param name="scale">One, or per output channel padded to whole eights: the multiplier of the sums.</param>
    /// <param name="xZeroPoint">The input's zero point (empty for 0): what padding reads.</param>
    /// <param name="yZeroPoint">The output's zero point (empty for 0).</param>
    /// <param name="y">Output, <c>[batch, outChannels, outHeight, outWidth]</c>.</param>
    /// <param name="padded">The image channels-last with its padding: <see cref="PaddedLength"/> elements.</param>
    /// <param name="batch">Images.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="inputShape">Spatial input shape (2 dimensions).</param>
    /// <param name="outputShape">Spatial output shape.</param>
    /// <param name="kernelShape">Spatial kernel shape.</param>
    /// <param name="strides">Stride per spatial dimension.</param>
    /// <param name="dilations">Dilation per spatial dimension.</param>
    /// <param name="padsBegin">Padding before each spatial dimension.</param>
    /// <param name="context">Workers for large convolutions.</param>
    public static void Run<TX, TY>(
        ReadOnlySpan<TX> x, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> terms, ReadOnlySpan<float> scale, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TY> yZeroPoint,
        Span<TY> y, Span<TX> padded, int batch, int channels, int outChannels,
        ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> kernelShape,
        ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin, KernelContext context)
        where TX : unmanaged
        where TY : unmanaged
    {
        if (inputShape.Length != 2 || outputShape.Length != 2 || kernelShape.Length != 2 || strides.Length != 2 || dilations.Length != 2 || padsBegin.Length != 2)
        {
            throw new ArgumentException("QuantizedConv is two-dimensional.");
        }

        PackedOutput output = QuantizedMatMul.OutputOf<TY>();
        if (output is not (PackedOutput.UInt8 or PackedOutput.Int8))
        {
            throw new ArgumentException("QuantizedConv writes int8 or uint8.");
        }

        int h = inputShape[0], wd = inputShape[1], oh = outputShape[0], ow = outputShape[1], kh = kernelShape[0], kw = kernelShape[1];
        int sy = strides[0], sx = strides[1], dy = dilations[0], dx = dilations[1];
        int pixels = oh * ow, inSize = h * wd, columns = PackedIntegerGemm.PaddedColumns(outChannels);
        int segmentLength = SegmentLength(channels, kw, dx), k4 = Segments(kh, kw, dx) * segmentLength;
        int ph = ((oh - 1) * sy) + ((kh - 1) * dy) + 1, pw = ((ow - 1) * sx) + ((kw - 1) * dx) + 1;
        if (x.Length != (long)batch * channels * inSize || y.Length != (long)batch * outChannels * pixels || padded.Length < PaddedLength(channels, ph, pw)
            || w.Length < (long)k4 * columns || terms.Length < columns || !(scale.Length == 1 || scale.Length >= columns)
            || xZeroPoint.Length > 1 || yZeroPoint.Length > 1)
        {
            throw new ArgumentException("Convolution operand lengths do not match the shapes.");
        }

        if (pixels == 0 || outChannels == 0)
        {
            return;
        }

        bool signed = MatMulInteger.IsSigned<TX>();
        byte flip = signed ? (byte)0x80 : (byte)0;
        byte padding = (byte)((xZeroPoint.IsEmpty ? (byte)0 : MemoryMarshal.AsBytes(xZeroPoint)[0]) ^ flip);
        int zero = yZeroPoint.IsEmpty ? 0 : output == PackedOutput.Int8 ? (sbyte)MemoryMarshal.AsBytes(yZeroPoint)[0] : MemoryMarshal.AsBytes(yZeroPoint)[0];
        IntegerGemmPath path = PackedIntegerGemm.Resolve();
        fixed (TY* py0 = y)
        fixed (byte* px0 = MemoryMarshal.AsBytes(x), ppad = MemoryMarshal.AsBytes(padded))
        fixed (sbyte* pw0 = w)
        fixed (int* pt = terms)
        fixed (float* ps = scale)
        {
            var job = new Job
            {
                Padded = ppad,
                OutWidth = ow,
                RowStride = sy * pw * channels,
                PixelStride = sx * channels,
                Pixels = pixels,
                SegmentRows = kh,
                SegmentColumns = dx == 1 ? 1 : kw,
                RowStep = dy * pw * channels,
                ColumnStep = dx * channels,
                Quads = segmentLength / 4,
                W = pw0,
                K4 = k4,
                OutChannels = outChannels,
                Terms = pt,
                Scale = ps,
                PerColumn = scale.Length != 1,
                Clamp = NeedsClamp(scale),
                SignedOutput = output == PackedOutput.Int8,
                Zero = zero,
                Path = path,
                Chunks = (pixels + PixelChunk - 1) / PixelChunk,
                Panels = (outChannels + PackedIntegerGemm.PanelWidth - 1) / PackedIntegerGemm.PanelWidth,
            };

            int items = job.Chunks * job.Panels;
            bool parallel = items > 1 && (long)pixels * outChannels * k4 >= ParallelThreshold && context.Workers.ThreadCount > 1;
            for (int n = 0; n < batch; n++)
            {
                ChannelsLast(px0 + ((long)n * channels * inSize), ppad, padding, flip, channels, h, wd, ph, pw, padsBegin[0], padsBegin[1], path == IntegerGemmPath.Portable);
                job.Y = (byte*)py0 + ((long)n * outChannels * pixels);
                if (parallel)
                {
                    context.Workers.For(items, &RunItem, &job);
                }
                else
                {
                    for (int i = 0; i < items; i++)
                    {
                        RunItem(&job, i);
                    }
                }
            }
        }
    }

    /// <summary>Everything a work item needs, on the caller's stack.</summary>
    private struct Job
    {
        public byte* Padded;
        public int OutWidth;
        public int RowStride;
        public int PixelStride;
        public int Pixels;
        public int SegmentRows;
        public int SegmentColumns;
        public int RowStep;
        public int ColumnStep;
        public int Quads;
        public sbyte* W;
        public int K4;
        public int OutChannels;
        public int* Terms;
        public float* Scale;
        public bool PerColumn;
        public bool Clamp;
        public byte* Y;
        public bool SignedOutput;
        public int Zero;
        public IntegerGemmPath Path;
        public int Chunks;
        public int Panels;
    }

    /// <summary>
    /// The image <c>[channels, h, w]</c> as <c>[ph, pw, channels]</c> starting at (−py, −px), unsigned (int8 flipped by
    /// <paramref name="flip"/>): the window's whole reach, <paramref name="padding"/> outside the image.
    /// </summary>
    private static void ChannelsLast(byte* image, byte* padded, byte padding, byte flip, int channels, int h, int w, int ph, int pw, int py, int px, bool portable)
    {
        new Span<byte>(padded, (int)PaddedLength(channels, ph, pw)).Fill(padding);
        int start = Math.Max(0, -px), end = Math.Min(w, pw - px);
        if (end <= start)
        {
            return;
        }

        for (int iy = Math.Max(0, -py); iy < h && iy + py < ph; iy++)
        {
            byte* target = padded + ((((iy + py) * pw) + px) * channels);
            int c = 0;
            if (channels == 1 && flip == 0)
            {
                Unsafe.CopyBlockUnaligned(target + start, image + (iy * w) + start, (uint)(end - start));
                continue;
            }

            if (!portable && Sse2.IsSupported)
            {
                // Eight channels by eight pixels at a time: an 8×8 byte transpose in registers.
                var vflip = Vector128.Create(flip);
                for (; c + 8 <= channels; c += 8)
                {
                    byte* source = image + (((long)c * h) + iy) * w;
                    int ix = start;
                    for (; ix + 8 <= end; ix += 8)
                    {
                        Transpose8(source + ix, h * w, target + (ix * channels) + c, channels, vflip);
                    }

                    for (; ix < end; ix++)
                    {
                        for (int k = 0; k < 8; k++)
                        {
                            target[(ix * channels) + c + k] = (byte)(source[((long)k * h * w) + ix] ^ flip);
                        }
                    }
                }
            }

            for (; c < channels; c++)
            {
                byte* source = image + (((long)c * h) + iy) * w;
                for (int ix = start; ix < end; ix++)
                {
                    target[(ix * channels) + c] = (byte)(source[ix] ^ flip);
                }
            }
        }
    }

    /// <summary>Eight bytes of eight planes (<paramref name="planeStride"/> apart) stored as eight runs of eight channels (<paramref name="pixelStride"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(byte* source, long planeStride, byte* target, int pixelStride, Vector128<byte> flip)
    {
        Vector128<byte> r0 = Vector128.CreateScalar(*(ulong*)source).AsByte(), r1 = Vector128.CreateScalar(*(ulong*)(source + planeStride)).AsByte();
        Vector128<byte> r2 = Vector128.CreateScalar(*(ulong*)(source + (2 * planeStride))).AsByte(), r3 = Vector128.CreateScalar(*(ulong*)(source + (3 * planeStride))).AsByte();
        Vector128<byte> r4 = Vector128.CreateScalar(*(ulong*)(source + (4 * planeStride))).AsByte(), r5 = Vector128.CreateScalar(*(ulong*)(source + (5 * planeStride))).AsByte();
        Vector128<byte> r6 = Vector128.CreateScalar(*(ulong*)(source + (6 * planeStride))).AsByte(), r7 = Vector128.CreateScalar(*(ulong*)(source + (7 * planeStride))).AsByte();

        // Bytes, then pairs, then quads interleaved: pixel-major runs of the eight channels.
        Vector128<ushort> t0 = Sse2.UnpackLow(r0, r1).AsUInt16(), t1 = Sse2.UnpackLow(r2, r3).AsUInt16();
        Vector128<ushort> t2 = Sse2.UnpackLow(r4, r5).AsUInt16(), t3 = Sse2.UnpackLow(r6, r7).AsUInt16();
        Vector128<uint> u0 = Sse2.UnpackLow(t0, t1).AsUInt32(), u1 = Sse2.UnpackHigh(t0, t1).AsUInt32();
        Vector128<uint> u2 = Sse2.UnpackLow(t2, t3).AsUInt32(), u3 = Sse2.UnpackHigh(t2, t3).AsUInt32();
        Vector128<ulong> v0 = (Sse2.UnpackLow(u0, u2).AsByte() ^ flip).AsUInt64(), v1 = (Sse2.UnpackHigh(u0, u2).AsByte() ^ flip).AsUInt64();
        Vector128<ulong> v2 = (Sse2.UnpackLow(u1, u3).AsByte() ^ flip).AsUInt64(), v3 = (Sse2.UnpackHigh(u1, u3).AsByte() ^ flip).AsUInt64();
        *(ulong*)target = v0.ToScalar();
        *(ulong*)(target + pixelStride) = v0.GetElement(1);
        *(ulong*)(target + (2 * pixelStride)) = v1.ToScalar();
        *(ulong*)(target + (3 * pixelStride)) = v1.GetElement(1);
        *(ulong*)(target + (4 * pixelStride)) = v2.ToScalar();
        *(ulong*)(target + (5 * pixelStride)) = v2.GetElement(1);
        *(ulong*)(target + (6 * pixelStride)) = v3.ToScalar();
        *(ulong*)(target + (7 * pixelStride)) = v3.GetElement(1);
    }

    /// <summary>One chunk of pixels by one panel of output channels, in tiles of 8 × 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(void* state, int item)
    {
        Job* job = (Job*)state;
        int chunk = item / job->Panels, panel = item % job->Panels;
        int p0 = chunk * PixelChunk, p1 = Math.Min(job->Pixels, p0 + PixelChunk);
        int j0 = panel * PackedIntegerGemm.PanelWidth, width = Math.Min(PackedIntegerGemm.PanelWidth, PackedIntegerGemm.PaddedColumns(job->OutChannels) - j0);
        sbyte* panelBase = job->W + ((long)j0 * job->K4);
        int stride = width * 4;
        int* tile = stackalloc int[Tile * Tile];
        ulong* rows = stackalloc ulong[Tile];
        byte** bases = stackalloc byte*[PixelChunk];
        Bases(job, p0, p1, bases);
        for (int c = 0; c < width; c += Tile)
        {
            int j = j0 + c, channels = Math.Min(Tile, job->OutChannels - j);
            sbyte* b = panelBase + (c * 4);
            int* terms = job->Terms + j;
            for (int t = p0; t < p1; t += Tile)
            {
                int count = Math.Min(Tile, p1 - t);
                byte** tileBases = bases + (t - p0);
                switch (job->Path)
                {
                    case IntegerGemmPath.AvxVnni:
                        ProductVnni(tileBases, b, stride, terms, job->SegmentRows, job->SegmentColumns, job->RowStep, job->ColumnStep, job->Quads, tile);
                        break;
                    case IntegerGemmPath.Avx512:
                        Product512(tileBases, b, stride, terms, job->SegmentRows, job->SegmentColumns, job->RowStep, job->ColumnStep, job->Quads, tile);
                        break;
                    default:
                        ProductPortable(tileBases, b, stride, terms, job->SegmentRows, job->SegmentColumns, job->RowStep, job->ColumnStep, job->Quads, tile);
                        break;
                }

                if (count == Tile && job->Path != IntegerGemmPath.Portable)
                {
                    Store(job, tile, rows, t, j, channels);
                }
                else
                {
                    StoreScalar(job, tile, t, count, j, channels);
                }
            }
        }
    }

    /// <summary>
    /// Where the windows of pixels <paramref name="p0"/> to <paramref name="p1"/> start in the padded buffer, in whole
    /// tiles: a partial tile repeats its last pixel.
    /// </summary>
    private static void Bases(Job* job, int p0, int p1, byte** bases)
    {
        int ow = job->OutWidth, oy = p0 / ow, ox = p0 - (oy * ow), stride = job->PixelStride;
        byte* row = job->Padded + ((long)oy * job->RowStride);
        byte** end = bases + (p1 - p0), whole = bases + ((p1 - p0 + Tile - 1) & ~(Tile - 1));
        while (bases < end)
        {
            byte* q = row + ((long)ox * stride);
            for (byte** rowEnd = bases + Math.Min(ow - ox, (int)(end - bases)); bases < rowEnd; bases++, q += stride)
            {
                *bases = q;
            }

            ox = 0;
            row += job->RowStride;
        }

        for (byte* last = end[-1]; bases < whole; bases++)
        {
            *bases = last;
        }
    }

    /// <summary>
    /// Sums of 8 pixels by 8 output channels plus their <paramref name="terms"/> (AVX-VNNI <c>vpdpbusd</c>): each pixel's
    /// quad broadcast against the quads of the 8 channels, the accumulators starting at the terms.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ProductVnni(byte** bases, sbyte* b, int stride, int* terms, int segmentRows, int segmentColumns, int rowStep, int columnStep, int quads, int* tile)
    {
        byte* a0 = bases[0], a1 = bases[1], a2 = bases[2], a3 = bases[3], a4 = bases[4], a5 = bases[5], a6 = bases[6], a7 = bases[7];
        Vector256<int> c0 = Vector256.Load(terms), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int sy = 0; sy < segmentRows; sy++)
        {
            for (int sx = 0; sx < segmentColumns; sx++)
            {
                nint off = ((nint)sy * rowStep) + ((nint)sx * columnStep), end = off + (quads * 4);
                for (; off < end; off += 4)
                {
                    Vector256<sbyte> w = Vector256.Load(b);
                    c0 = AvxVnni.MultiplyWideningAndAdd(c0, Vector256.Create(*(uint*)(a0 + off)).AsByte(), w);
                    c1 = AvxVnni.MultiplyWideningAndAdd(c1, Vector256.Create(*(uint*)(a1 + off)).AsByte(), w);
                    c2 = AvxVnni.MultiplyWideningAndAdd(c2, Vector256.Create(*(uint*)(a2 + off)).AsByte(), w);
                    c3 = AvxVnni.MultiplyWideningAndAdd(c3, Vector256.Create(*(uint*)(a3 + off)).AsByte(), w);
                    c4 = AvxVnni.MultiplyWideningAndAdd(c4, Vector256.Create(*(uint*)(a4 + off)).AsByte(), w);
                    c5 = AvxVnni.MultiplyWideningAndAdd(c5, Vector256.Create(*(uint*)(a5 + off)).AsByte(), w);
                    c6 = AvxVnni.MultiplyWideningAndAdd(c6, Vector256.Create(*(uint*)(a6 + off)).AsByte(), w);
                    c7 = AvxVnni.MultiplyWideningAndAdd(c7, Vector256.Create(*(uint*)(a7 + off)).AsByte(), w);
                    b += stride;
                }
            }
        }

        c0.Store(tile);
        c1.Store(tile + 8);
        c2.Store(tile + 16);
        c3.Store(tile + 24);
        c4.Store(tile + 32);
        c5.Store(tile + 40);
        c6.Store(tile + 48);
        c7.Store(tile + 56);
    }

    /// <summary>
    /// Sums of 8 pixels by 8 output channels plus their <paramref name="terms"/> (AVX-512BW <c>vpmaddwd</c>): the quads widened to int16, two partial sums
    /// per channel added at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Product512(byte** bases, sbyte* b, int stride, int* terms, int segmentRows, int segmentColumns, int rowStep, int columnStep, int quads, int* tile)
    {
        byte* a0 = bases[0], a1 = bases[1], a2 = bases[2], a3 = bases[3], a4 = bases[4], a5 = bases[5], a6 = bases[6], a7 = bases[7];
        Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int sy = 0; sy < segmentRows; sy++)
        {
            for (int sx = 0; sx < segmentColumns; sx++)
            {
                nint off = ((nint)sy * rowStep) + ((nint)sx * columnStep), end = off + (quads * 4);
                for (; off < end; off += 4)
                {
                    Vector512<short> w = Avx512BW.ConvertToVector512Int16(Vector256.Load(b));
                    c0 += Avx512BW.MultiplyAddAdjacent(Quad(a0 + off), w);
                    c1 += Avx512BW.MultiplyAddAdjacent(Quad(a1 + off), w);
                    c2 += Avx512BW.MultiplyAddAdjacent(Quad(a2 + off), w);
                    c3 += Avx512BW.MultiplyAddAdjacent(Quad(a3 + off), w);
                    c4 += Avx512BW.MultiplyAddAdjacent(Quad(a4 + off), w);
                    c5 += Avx512BW.MultiplyAddAdjacent(Quad(a5 + off), w);
                    c6 += Avx512BW.MultiplyAddAdjacent(Quad(a6 + off), w);
                    c7 += Avx512BW.MultiplyAddAdjacent(Quad(a7 + off), w);
                    b += stride;
                }
            }
        }

        Vector256<int> t = Vector256.Load(terms);
        (Pairs(c0) + t).Store(tile);
        (Pairs(c1) + t).Store(tile + 8);
        (Pairs(c2) + t).Store(tile + 16);
        (Pairs(c3) + t).Store(tile + 24);
        (Pairs(c4) + t).Store(tile + 32);
        (Pairs(c5) + t).Store(tile + 40);
        (Pairs(c6) + t).Store(tile + 48);
        (Pairs(c7) + t).Store(tile + 56);
    }

    /// <summary>Four unsigned bytes widened to int16, repeated across 512 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Quad(byte* a) => Avx512BW.ConvertToVector512Int16(Vector256.Create(*(uint*)a).AsByte());

    /// <summary>The two partial sums of each of 8 channels (adjacent lanes) added: 8 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Pairs(Vector512<int> sums)
        => Avx512F.ConvertToVector256Int32((sums + Avx512F.ShiftRightLogical(sums.AsInt64(), 32).AsInt32()).AsInt64());

    /// <summary>Sums of up to 8 pixels by 8 output channels plus their <paramref name="terms"/>, without special instructions.</summary>
    private static void ProductPortable(byte** bases, sbyte* b, int stride, int* terms, int segmentRows, int segmentColumns, int rowStep, int columnStep, int quads, int* tile)
    {
        for (int i = 0; i < Tile * Tile; i++)
        {
            tile[i] = terms[i % Tile];
        }

        for (int sy = 0; sy < segmentRows; sy++)
        {
            for (int sx = 0; sx < segmentColumns; sx++)
            {
                int off = (sy * rowStep) + (sx * columnStep);
                for (int q = 0; q < quads; q++, off += 4, b += stride)
                {
                    for (int i = 0; i < Tile; i++)
                    {
                        byte* a = bases[i] + off;
                        for (int j = 0; j < Tile; j++)
                        {
                            sbyte* v = b + (j * 4);
                            tile[(i * Tile) + j] += (a[0] * v[0]) + (a[1] * v[1]) + (a[2] * v[2]) + (a[3] * v[3]);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Requantizes a whole tile (8 pixels, the output channels as lanes), transposes it in registers and stores eight
    /// pixels per output channel. Clamped before rounding (to the range less the zero point), as <see cref="Requantize"/> does: the same bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Store(Job* job, int* tile, ulong* rows, int t, int j, int channels)
    {
        Vector256<int> zero = Vector256.Create(job->Zero);
        Vector256<float> scale = job->PerColumn ? Vector256.Load(job->Scale + j) : Vector256.Create(job->Scale[0]);
        (float lo, float hi) = Requantize.Bounds(job->SignedOutput, job->Zero);
        Vector256<float> vlo = Vector256.Create(lo), vhi = Vector256.Create(hi);
        bool clamp = job->Clamp;
        Vector256<short> s01 = Avx2.PackSignedSaturate(Requantized(tile, scale, clamp, vlo, vhi, zero), Requantized(tile + 8, scale, clamp, vlo, vhi, zero));
        Vector256<short> s23 = Avx2.PackSignedSaturate(Requantized(tile + 16, scale, clamp, vlo, vhi, zero), Requantized(tile + 24, scale, clamp, vlo, vhi, zero));
        Vector256<short> s45 = Avx2.PackSignedSaturate(Requantized(tile + 32, scale, clamp, vlo, vhi, zero), Requantized(tile + 40, scale, clamp, vlo, vhi, zero));
        Vector256<short> s67 = Avx2.PackSignedSaturate(Requantized(tile + 48, scale, clamp, vlo, vhi, zero), Requantized(tile + 56, scale, clamp, vlo, vhi, zero));

        // Each 128-bit lane now holds 4 pixels × 4 channels (lane 0 channels 0–3, lane 1 channels 4–7), clamped to the
        // output's range by the saturating packs when not before.
        Vector256<byte> b0, b1;
        if (job->SignedOutput)
        {
            b0 = Avx2.PackSignedSaturate(s01, s23).AsByte();
            b1 = Avx2.PackSignedSaturate(s45, s67).AsByte();
        }
        else
        {
            b0 = Avx2.PackUnsignedSaturate(s01, s23);
            b1 = Avx2.PackUnsignedSaturate(s45, s67);
        }

        // 4 × 4 transposes within the lanes, then pixels 0–3 and 4–7 of each channel side by side.
        Vector256<byte> order = Vector256.Create((byte)0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        Vector256<int> q0 = Avx2.Shuffle(b0, order).AsInt32(), q1 = Avx2.Shuffle(b1, order).AsInt32();
        Vector256<int> low = Avx2.UnpackLow(q0, q1), high = Avx2.UnpackHigh(q0, q1);
        Avx2.Permute2x128(low, high, 0x20).Store((int*)rows);
        Avx2.Permute2x128(low, high, 0x31).Store((int*)(rows + 4));
        byte* y = job->Y + ((long)j * job->Pixels) + t;
        for (int o = 0; o < channels; o++)
        {
            *(ulong*)(y + ((long)o * job->Pixels)) = rows[o];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Requantized(int* sums, Vector256<float> scale, bool clamp, Vector256<float> lo, Vector256<float> hi, Vector256<int> zero)
    {
        Vector256<float> f = Vector256.ConvertToSingle(Vector256.Load(sums)) * scale;

        // Without the clamp (see NeedsClamp), converted with the default rounding (to nearest, half to even).
        return clamp ? Requantize.Round(f, lo, hi, zero) : Avx.ConvertToVector256Int32(f) + zero;
    }

    /// <summary>
    /// Whether the store must clamp before converting. Sums are int32, so with every |scale| ≤ ½ the products stay within
    /// ±2³⁰: they convert without overflow, and as the bounds are whole numbers and rounding is monotonic, clamping the
    /// rounded value (the saturating packs) gives the same bytes as clamping before rounding.
    /// </summary>
    private static bool NeedsClamp(ReadOnlySpan<float> scale)
    {
        foreach (float s in scale)
        {
            if (!(Math.Abs(s) <= 0.5f))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The same as <see cref="Store"/> element by element, for a partial tile or without vector instructions.</summary>
    private static void StoreScalar(Job* job, int* tile, int t, int count, int j, int channels)
    {
        (float lo, float hi) = Requantize.Bounds(job->SignedOutput, job->Zero);
        for (int o = 0; o < channels; o++)
        {
            float scale = job->PerColumn ? job->Scale[j + o] : job->Scale[0];
            byte* y = job->Y + ((long)(j + o) * job->Pixels) + t;
            for (int i = 0; i < count; i++)
            {
                float f = tile[(i * Tile) + o] * scale;
                y[i] = (byte)Requantize.Round(f, lo, hi, job->Zero);
            }
        }
    }
}
