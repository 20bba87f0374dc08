using System.Runtime.CompilerServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// How a micro-kernel's sums leave the registers: as they are, or through the product's epilogue so that a
/// tile is written once instead of stored, reloaded, finished and stored again (for a shallow product, a
/// 1×1 convolution over 16 channels, the second pass cost as much as the multiply-adds).
/// </summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
internal unsafe interface IGemmStore<TSelf>
    where TSelf : struct, IGemmStore<TSelf>
{
    /// <summary>Whether <see cref="Finish"/> reads memory by column (a residual, a per-column bias): such a store cannot finish a padded tile, whose extra columns lie past the operand.</summary>
    static abstract bool ReadsColumns { get; }

    /// <summary>The store for the tile of <paramref name="p"/> whose first element is (<paramref name="i"/>, <paramref name="j"/>).</summary>
    static abstract TSelf At(in GemmProblem p, int i, int j);

    /// <summary>What <see cref="Finish"/> adds to every vector of tile row <paramref name="row"/> (its bias), computed once per row.</summary>
    TV Row<TV, TS>(int row)
        where TS : struct, ISimd<TV>
        where TV : struct;

    /// <summary>The value stored for the vector of sums <paramref name="v"/> at tile row <paramref name="row"/>, column <paramref name="column"/>; <paramref name="rowTerm"/> is <see cref="Row"/>'s.</summary>
    TV Finish<TV, TS>(TV v, TV rowTerm, int row, int column)
        where TS : struct, ISimd<TV>
        where TV : struct;

    /// <summary>The same store for the strip of the tile that starts <paramref name="columns"/> to the right.</summary>
    TSelf Columns(int columns);
}

/// <summary>Sums stored as they are (a depth block before the last, or an epilogue the engine applies afterwards).</summary>
internal readonly struct GemmRawStore : IGemmStore<GemmRawStore>
{
    public static bool ReadsColumns => false;

    public static GemmRawStore At(in GemmProblem p, int i, int j) => default;

    public TV Row<TV, TS>(int row)
        where TS : struct, ISimd<TV>
        where TV : struct => default;

    public TV Finish<TV, TS>(TV v, TV rowTerm, int row, int column)
        where TS : struct, ISimd<TV>
        where TV : struct => v;

    public GemmRawStore Columns(int columns) => this;
}

/// <summary>
/// <c>act(v + beta · c[row])</c>: a bias of one value per row (a convolution's, per output channel), or none
/// (then zero is added, so a -0 sum comes out +0), and an activation, inlined. Branch-free per vector: the
/// bias is broadcast once per row.
/// </summary>
/// <typeparam name="TAct">The activation.</typeparam>
internal readonly unsafe struct GemmRowStore<TAct> : IGemmStore<GemmRowStore<TAct>>
    where TAct : struct, StoreEpilogue.IActivationFunction<TAct>
{
    private readonly float* _bias;
    private readonly nint _stride;
    private readonly float _beta;
    private readonly TAct _activation;

    private GemmRowStore(in GemmProblem p, int i)
    {
        _bias = p.C == null ? null : p.C + (i * p.CRowStride);
        _stride = p.CRowStride;
        _beta = p.Beta;
        _activation = TAct.Of(p.Activation, p.ActivationAlpha, p.ActivationBeta);
    }

    public static bool ReadsColumns => false;

    public static GemmRowStore<TAct> At(in GemmProblem p, int i, int j) => new(p, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Row<TV, TS>(int row)
        where TS : struct, ISimd<TV>
        where TV : struct => _bias == null ? TS.Zero : TS.Create(_beta * _bias[row * _stride]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Finish<TV, TS>(TV v, TV rowTerm, int row, int column)
        where TS : struct, ISimd<TV>
        where TV : struct => _activation.Apply<TV, TS>(TS.Add(v, rowTerm));

    public GemmRowStore<TAct> Columns(int columns) => this;
}

/// <summary>
/// <c>act(v + beta · c[row, column])</c>: a bias that varies along the columns (a Gemm's or a MatMul + Add's, one per
/// output feature; or a whole C matrix), and an activation, inlined. It reads the bias by column, so it cannot
/// finish a padded tile.
/// </summary>
/// <typeparam name="TAct">The activation.</typeparam>
internal readonly unsafe struct GemmColumnStore<TAct> : IGemmStore<GemmColumnStore<TAct>>
    where TAct : struct, StoreEpilogue.IActivationFunction<TAct>
{
    private readonly float* _c;
    private readonly nint _rowStride;
    private readonly float _beta;
    private readonly TAct _activation;

    private GemmColumnStore(in GemmProblem p, int i, int j)
    {
        _c = p.C + (i * p.CRowStride) + j;
        _rowStride = p.CRowStride;
        _beta = p.Beta;
        _activation = TAct.Of(p.Activation, p.ActivationAlpha, p.ActivationBeta);
    }

    private GemmColumnStore(in GemmColumnStore<TAct> tile, int columns)
    {
        this = tile;
        _c = tile._c + columns;
    }

    public static bool ReadsColumns => true;

    public static GemmColumnStore<TAct> At(in GemmProblem p, int i, int j) => new(p, i, j);

    public TV Row<TV, TS>(int row)
        where TS : struct, ISimd<TV>
        where TV : struct => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Finish<TV, TS>(TV v, TV rowTerm, int row, int column)
        where TS : struct, ISimd<TV>
        where TV : struct => _activation.Apply<TV, TS>(TS.Add(v, TS.Multiply(TS.Load(ref _c[(row * _rowStride) + column], 0), TS.Create(_beta))));

    public GemmColumnStore<TAct> Columns(int columns) => new(this, columns);
}

/// <summary>
/// <c>v + beta · c[row] + residual</c> with no activation: the projection of a residual block, whose Add the
/// compiler folded into the convolution.
/// </summary>
internal readonly unsafe struct GemmRowResidualStore : IGemmStore<GemmRowResidualStore>
{
    private readonly GemmRowStore<StoreEpilogue.NoActivation> _bias;
    private readonly float* _residual;
    private readonly nint _ldy;

    private GemmRowResidualStore(in GemmProblem p, int i, int j)
    {
        _bias = GemmRowStore<StoreEpilogue.NoActivation>.At(p, i, j);
        _residual = p.Residual + (i * p.Ldy) + j;
        _ldy = p.Ldy;
    }

    private GemmRowResidualStore(in GemmRowResidualStore tile, int columns)
    {
        this = tile;
        _residual = tile._residual + columns;
    }

    public static bool ReadsColumns => true;

    public static GemmRowResidualStore At(in GemmProblem p, int i, int j) => new(p, i, j);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Row<TV, TS>(int row)
        where TS : struct, ISimd<TV>
        where TV : struct => _bias.Row<TV, TS>(row);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Finish<TV, TS>(TV v, TV rowTerm, int row, int column)
        where TS : struct, ISimd<TV>
        where TV : struct => TS.Add(_bias.Finish<TV, TS>(v, rowTerm, row, column), TS.Load(ref _residual[(row * _ldy) + column], 0));

    public GemmRowResidualStore Columns(int columns) => new(this, columns);
}
