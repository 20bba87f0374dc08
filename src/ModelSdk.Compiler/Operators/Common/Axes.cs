using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Operators.Common;

/// <summary>
/// Axis attributes and inputs as the ONNX opsets define them: negative axes count from the back,
/// lists must not repeat an axis, and axes that moved from an attribute to an input must be
/// compile-time constants.
/// </summary>
/// <remarks>
/// Negative axes are accepted at every opset, although the specification allows them only from
/// opset 11 for most operators: exporters wrote them earlier (PyTorch's opset-6 LogSoftmax uses
/// axis -1 in ONNX's own test data), ONNX Runtime runs such models, and the meaning is unambiguous.
/// </remarks>
internal static class Axes
{
    /// <summary>
    /// Normalises <paramref name="axis"/> against <paramref name="rank"/>: accepted range <c>[-rank, rank-1]</c>,
    /// or <c>[-rank, rank]</c> with <paramref name="inclusiveEnd"/> (Flatten's split point).
    /// </summary>
    public static int Normalize(InferenceContext ctx, long axis, int rank, string name, bool inclusiveEnd = false)
    {
        int end = inclusiveEnd ? rank : rank - 1;
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a > end)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{name} {axis} of {ctx.OpType} is outside [{-rank}, {end}], the range for rank {rank}.");
        }

        return (int)a;
    }

    /// <summary>Normalises every axis of a list; MSDK2002 when one is repeated.</summary>
    public static int[] NormalizeAll(InferenceContext ctx, IReadOnlyList<long> axes, int rank, string name)
    {
        var result = new int[axes.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Normalize(ctx, axes[i], rank, name);
            if (Array.IndexOf(result, result[i], 0, i) >= 0)
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"{name} [{string.Join(",", axes)}] of {ctx.OpType} names axis {result[i]} twice.");
            }
        }

        return result;
    }

    /// <summary>
    /// The values of an optional int64 input that fixes shapes (axes, shape), or null when it is absent.
    /// MSDK2004 when it is computed at run time, except for an empty tensor, whose value its shape already fixes.
    /// <paramref name="int32Allowed"/> accepts int32 too (Slice's starts and ends, Pad's axes).
    /// </summary>
    public static long[]? ConstantInts(InferenceContext ctx, int index, string role, bool int32Allowed = false)
    {
        Value? v = ctx.OptionalInput(index);
        if (v is null)
        {
            return null;
        }

        if (int32Allowed)
        {
            ctx.RequireType(index, ElementType.Int64, ElementType.Int32);
        }
        else
        {
            ctx.RequireType(index, ElementType.Int64);
        }

        if (v.KnownShape.Length > 1)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"the {role} input of {ctx.OpType} must be 1-D, but its shape is {Shapes.Format(v.KnownShape)}.", v.Name);
        }

        return !v.IsConstant && v.ElementCount == 0 ? [] : ctx.ConstantInput(index, role).ToInt64s();
    }

    /// <summary>
    /// The list that opsets before <paramref name="inputSince"/> give as attribute <paramref name="name"/>
    /// and later ones as input <paramref name="inputIndex"/>; null when absent.
    /// </summary>
    public static long[]? AttributeOrInput(InferenceContext ctx, string name, int inputSince, int inputIndex)
        => ctx.Opset < inputSince ? ctx.Ints(name) : ConstantInts(ctx, inputIndex, name);

    /// <summary>
    /// The node's attributes and inputs seen as <see cref="IOperator.Infer"/> saw them, so that lowering
    /// derives its parameters with the same code that validated them.
    /// </summary>
    public static InferenceContext Reread(this LoweringContext ctx) => new(ctx.Node, ctx.Opset, null);
}
