namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The layouts in which the float32 GEMM reads pre-packed operands. The compiler packs constant weights
/// into them at build time (they are stored packed in the weights blob), so a run never re-packs them.
/// </summary>
/// <remarks>
/// <para>
/// Right operand <c>B [k, n]</c>: column panels of <see cref="PanelColumns"/> columns; panel <c>q</c> covers
/// columns <c>[64q, 64q + 64)</c>, starts at element <c>64q · k</c>, and stores its <c>k</c> rows one after
/// another, each <c>w</c> floats wide, where <c>w</c> is 64 except for the last panel, whose width is its
/// column count rounded up to 16 (zero-padded). Element <c>(p, j)</c> lies at <c>64q · k + p · w + (j − 64q)</c>.
/// A micro-kernel of any vector width reads a panel as it is: 512-bit kernels a whole row of it per step,
/// narrower ones strips of 16 or 8 columns.
/// </para>
/// <para>
/// Left operand <c>A [m, k]</c>: row panels of <see cref="PanelRows"/> rows; panel <c>t</c> covers rows
/// <c>[6t, 6t + r)</c> with <c>r = min(6, m − 6t)</c>, starts at element <c>6t · k</c> and stores, for each p,
/// its <c>r</c> elements of column p together: element <c>(i, p)</c> at <c>6t · k + p · r + (i − 6t)</c>.
/// Nothing is padded, so a packed A has exactly <c>m · k</c> elements.
/// </para>
/// </remarks>
public static class GemmPacking
{
    /// <summary>Columns of a right-operand panel: one row of a panel is four 512-bit vectors.</summary>
    public const int PanelColumns = 64;

    /// <summary>Rows of a left-operand panel: the rows of the micro-kernels' register tile.</summary>
    public const int PanelRows = 6;

    /// <summary>The granule the last panel's width is rounded up to: one 512-bit vector.</summary>
    internal const int ColumnGranule = 16;

    /// <summary>Elements of a right operand <c>[k, n]</c> once packed.</summary>
    /// <param name="k">Rows of B (the inner dimension).</param>
    /// <param name="n">Columns of B.</param>
    public static int PackedBLength(int k, int n) => checked(RoundUp(n) * k);

    /// <summary>Packs a right operand into the column-panel layout.</summary>
    /// <param name="b">The matrix: <c>[k, n]</c> row-major, or <c>[n, k]</c> when <paramref name="transposed"/>.</param>
    /// <param name="transposed">Whether <paramref name="b"/> is stored transposed.</param>
    /// <param name="k">Rows of <c>op(B)</c>.</param>
    /// <param name="n">Columns of <c>op(B)</c>.</param>
    /// <param name="packed">Destination of <see cref="PackedBLength"/> elements.</param>
    public static unsafe void PackB(ReadOnlySpan<float> b, bool transposed, int k, int n, Span<float> packed)
    {
        if (k < 0 || n < 0 || b.Length != checked(k * n) || packed.Length != PackedBLength(k, n))
        {
            throw new ArgumentException("The matrix or the packed buffer does not match k and n.");
        }

        fixed (float* pb = b)
        fixed (float* pp = packed)
        {
            PackBRows(pb, transposed ? k : n, transposed, k, n, 0, k, pp);
        }
    }

    /// <summary>
    /// Rows <c>[p0, p1)</c> of <c>op(b)</c> (<c>k × n</c>, elements as in <see cref="PackBPanel"/>) into their places in
    /// the whole operand packed at <paramref name="packed"/> (the layout of <see cref="PackB"/>), times
    /// <c>scale[p]</c> when <paramref name="scale"/> is given: ranges of rows can be packed by different threads.
    /// </summary>
    internal static unsafe void PackBRows(float* b, nint ldb, bool transposed, int k, int n, int p0, int p1, float* packed, float* scale = null)
    {
        for (int j0 = 0; j0 < n; j0 += PanelColumns)
        {
            int nr = Math.Min(PanelColumns, n - j0);
            PackBPanel(b, ldb, transposed, p0, p1 - p0, j0, nr, packed + ((long)j0 * k) + ((long)p0 * PanelWidth(nr)), scale);
        }
    }

    /// <summary>Elements of a left operand <c>[m, k]</c> once packed (as many as unpacked).</summary>
    /// <param name="m">Rows of A.</param>
    /// <param name="k">Columns of A (the inner dimension).</param>
    public static int PackedALength(int m, int k) => checked(m * k);

    /// <summary>Packs a left operand into the row-panel layout.</summary>
    /// <param name="a">The matrix: <c>[m, k]</c> row-major, or <c>[k, m]</c> when <paramref name="transposed"/>.</param>
    /// <param name="transposed">Whether <paramref name="a"/> is stored transposed.</param>
    /// <param name="m">Rows of <c>op(A)</c>.</param>
    /// <param name="k">Columns of <c>op(A)</c>.</param>
    /// <param name="packed">Destination of <see cref="PackedALength"/> elements.</param>
    public static unsafe void PackA(ReadOnlySpan<float> a, bool transposed, int m, int k, Span<float> packed)
    {
        if (m < 0 || k < 0 || a.Length != checked(m * k) || packed.Length != PackedALength(m, k))
        {
            throw new ArgumentException("The matrix or the packed buffer does not match m and k.");
        }

        fixed (float* pa = a)
        fixed (float* pp = packed)
        {
            for (int i0 = 0; i0 < m; i0 += PanelRows)
            {
                PackAPanel(pa, transposed ? m : k, transposed, i0, Math.Min(PanelRows, m - i0), 0, k, pp + (long)i0 * k);
            }
        }
    }

    /// <summary>Width of the panel holding <paramref name="columns"/> columns (at most 64): rounded up to 16.</summary>
    internal static int PanelWidth(int columns) => (columns + ColumnGranule - 1) & ~(ColumnGranule - 1);

    /// <summary>
    /// Copies <c>op(b)[p0 .. p0+kc, j0 .. j0+nr]</c> into one panel of width <see cref="PanelWidth"/>(nr) at
    /// <paramref name="dst"/>, zero-padding the columns past nr. <c>op(b)(p, j)</c> is <c>b[p · ldb + j]</c>,
    /// or <c>b[j · ldb + p]</c> when <paramref name="transposed"/>; times <c>scale[p]</c> when <paramref name="scale"/> is given.
    /// </summary>
    internal static unsafe void PackBPanel(float* b, nint ldb, bool transposed, int p0, int kc, int j0, int nr, float* dst, float* scale = null)
    {
        int w = PanelWidth(nr);
        if (!transposed)
        {
            for (int p = 0; p < kc; p++)
            {
                float* src = b + (p0 + p) * ldb + j0;
                float* row = dst + (nint)p * w;
                if (scale == null)
                {
                    new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(row, nr));
                }
                else
                {
                    Scale(src, scale[p0 + p], row, nr);
                }

                new Span<float>(row + nr, w - nr).Clear();
            }

            return;
        }

        // b is [n, k]: walk each source row once, scattering it down one packed column.
        for (int j = 0; j < nr; j++)
        {
            float* src = b + (j0 + j) * ldb + p0;
            float* col = dst + j;
            for (int p = 0; p < kc; p++)
            {
                col[(nint)p * w] = scale == null ? src[p] : src[p] * scale[p0 + p];
            }
        }

        for (int p = 0; p < kc && nr < w; p++)
        {
            new Span<float>(dst + (nint)p * w + nr, w - nr).Clear();
        }
    }

    /// <summary><paramref name="count"/> floats of <paramref name="src"/> times <paramref name="factor"/> into <paramref name="dst"/>.</summary>
    private static unsafe void Scale(float* src, float factor, float* dst, int count)
    {
        int i = 0;
        var f = new System.Numerics.Vector<float>(factor);
        for (; i <= count - System.Numerics.Vector<float>.Count; i += System.Numerics.Vector<float>.Count)
        {
            System.Numerics.Vector.Store(System.Numerics.Vector.Load(src + i) * f, dst + i);
        }

        for (; i < count; i++)
        {
            dst[i] = src[i] * factor;
        }
    }

    /// <summary>
    /// Copies <c>op(a)[i0 .. i0+mr, p0 .. p0+kc]</c> into one panel at <paramref name="dst"/>, element (r, p) at
    /// <c>p · mr + r</c>. <c>op(a)(i, p)</c> is <c>a[i · lda + p]</c>, or <c>a[p · lda + i]</c> when <paramref name="transposed"/>.
    /// </summary>
    internal static unsafe void PackAPanel(float* a, nint lda, bool transposed, int i0, int mr, int p0, int kc, float* dst)
    {
        if (transposed)
        {
            for (int p = 0; p < kc; p++)
            {
                float* src = a + (p0 + p) * lda + i0;
                for (int r = 0; r < mr; r++)
                {
                    dst[r] = src[r];
                }

                dst += mr;
            }

            return;
        }

        for (int r = 0; r < mr; r++)
        {
            float* src = a + (i0 + r) * lda + p0;
            float* col = dst + r;
            for (int p = 0; p < kc; p++)
            {
                col[(nint)p * mr] = src[p];
            }
        }
    }

    private static int RoundUp(int n) => checked((n + ColumnGranule - 1) & ~(ColumnGranule - 1));
}
