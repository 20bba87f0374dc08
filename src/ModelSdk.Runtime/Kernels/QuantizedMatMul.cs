using System.Runtime.InteropServices;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// An 8-bit matrix product by a constant right operand packed at compile time, with the epilogue in its
/// store: <c>y[i, j] = f(Σₚ (a[i, p] − za) · b[p, j] + bias[j])</c> where <c>f</c> keeps the int32 sum,
/// dequantizes it (<c>· scale[j]</c>, float32) or requantizes it
/// (<c>saturate(round(· scale[j]) + yZeroPoint)</c>, half to even, int8 or uint8). The compiler folds the
/// bias and the zero point's correction into <c>terms</c> (see <see cref="PackedIntegerGemm"/>); rows are
/// split over the model's workers when the product is large.
/// </summary>
public static unsafe class QuantizedMatMul
{
    /// <summary>Computes <paramref name="y"/>.</summary>
    /// <typeparam name="TA">Left operand type, int8 or uint8.</typeparam>
    /// <typeparam name="TY">Result type: int32, float32, int8 or uint8.</typeparam>
    /// <param name="a">Left operand, <c>[m, k]</c>.</param>
    /// <param name="b">Right operand packed by the compiler.</param>
    /// <param name="terms">Per column: bias − za′ · Σₚ b′[p, j], in accumulator units; padded to whole eights.</param>
    /// <param name="scale">Empty (int32 results), one value, or one per column padded to whole eights.</param>
    /// <param name="yZeroPoint">Output zero point of int8/uint8 results (empty for 0).</param>
    /// <param name="y">Result, <c>[m, n]</c>.</param>
    /// <param name="scratch">The left operand as the tiles read it: <c>2 · m · ⌈k⌉₄</c> bytes.</param>
    /// <param name="m">Rows.</param>
    /// <param name="n">Columns.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="context">Workers for large products.</param>
    public static void Run<TA, TY>(
        ReadOnlySpan<TA> a, ReadOnlySpan<sbyte> b, ReadOnlySpan<int> terms, ReadOnlySpan<float> scale, ReadOnlySpan<TY> yZeroPoint,
        Span<TY> y, Span<byte> scratch, int m, int n, int k, KernelContext context)
        where TA : unmanaged
        where TY : unmanaged
    {
        if (y.Length != (long)m * n || a.Length != (long)m * k)
        {
            throw new ArgumentException("Quantized matrix product operand lengths do not match m, n and k.");
        }

        PackedOutput output = OutputOf<TY>();
        int zero = yZeroPoint.IsEmpty ? 0 : output == PackedOutput.Int8 ? (sbyte)MemoryMarshal.AsBytes(yZeroPoint)[0] : MemoryMarshal.AsBytes(yZeroPoint)[0];
        fixed (TY* py = y)
        {
            PackedIntegerGemm.Multiply(
                MemoryMarshal.AsBytes(a), MatMulInteger.IsSigned<TA>(), b, terms, scale, zero, py, output, transposed: false, scratch, m, n, k, context);
        }
    }

    /// <summary>The epilogue a result type asks for.</summary>
    internal static PackedOutput OutputOf<TY>()
        => typeof(TY) == typeof(int) ? PackedOutput.Int32
            : typeof(TY) == typeof(float) ? PackedOutput.Float32
            : typeof(TY) == typeof(byte) ? PackedOutput.UInt8
            : typeof(TY) == typeof(sbyte) ? PackedOutput.Int8
            : throw new NotSupportedException($"A quantized matrix product produces int32, float32, int8 or uint8, not {typeof(TY).Name}.");
}
