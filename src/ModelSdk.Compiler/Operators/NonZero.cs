using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using ModelSdk.Runtime;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// NonZero (opset 9): the coordinates of the non-zero elements, int64 <c>[rank, count]</c> in row-major
/// order. The count, and so the output shape, depends on the values: the input must be a compile-time
/// constant (MSDK2004 otherwise), and the node folds. A scalar counts as one element of rank 1, as in
/// ONNX Runtime.
/// </summary>
[OnnxOperator("NonZero", MinOpset = 9)]
internal sealed class NonZeroOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        Tensor x = ctx.ConstantInput(0, "the tensor whose non-zero count sets the output shape");
        int[] shape = x.Shape.Length == 0 ? [1] : x.Shape;
        var found = new List<int>();
        for (int i = 0; i < x.ElementCount; i++)
        {
            if (IsNonZero(x, i))
            {
                found.Add(i);
            }
        }

        int rank = shape.Length, count = found.Count;
        int[] strides = Shapes.Strides(shape);
        var coordinates = new long[rank * count];
        for (int k = 0; k < count; k++)
        {
            for (int d = 0; d < rank; d++)
            {
                coordinates[d * count + k] = found[k] / strides[d] % shape[d];
            }
        }

        ctx.SetOutputConstant(0, Tensor.FromInt64s([rank, count], coordinates));
    }

    public void Lower(LoweringContext ctx)
    {
        // Always folded: Infer gives the output its value.
    }

    // Compared as numbers, so that -0.0 counts as zero and NaN as non-zero.
    private static bool IsNonZero(Tensor x, int i) => x.Type switch
    {
        ElementType.Float32 => x.Span<float>()[i] != 0,
        ElementType.Float64 => x.Span<double>()[i] != 0,
        ElementType.Float16 => x.Span<Half>()[i] != Half.Zero,
        ElementType.BFloat16 => (float)new BFloat16(x.Span<ushort>()[i]) != 0,
        _ => x.Bytes.Slice(i * x.Type.SizeInBytes(), x.Type.SizeInBytes()).ContainsAnyExcept((byte)0),
    };
}
