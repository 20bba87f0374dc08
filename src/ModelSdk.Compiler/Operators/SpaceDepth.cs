using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// DepthToSpace (DCR or, from opset 11, CRD) and SpaceToDepth on NCHW tensors. Each is a reshape to six
/// dimensions, a transpose and a reshape back, so it lowers onto one <see cref="Runtime.Kernels.Transpose"/>.
/// </summary>
[OnnxOperator("DepthToSpace")]
[OnnxOperator("SpaceToDepth")]
internal sealed class SpaceDepthOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        int[] x = ctx.InputShape(0);
        (int[] view, int[] perm) = Rearrangement(ctx, x);

        // The permuted view, merged back into four axes: (N, C', H', W') from axes (0, 1, 2·3, 4·5).
        long[] moved = perm.Select(a => (long)view[a]).ToArray();
        long[] output = [moved[0], moved[1], moved[2] * moved[3], moved[4] * moved[5]];
        if (ctx.OpType == "SpaceToDepth")
        {
            output = [moved[0], moved[1] * moved[2] * moved[3], moved[4], moved[5]];
        }

        if (output.Any(d => d > Shapes.MaxElements))
        {
            throw ctx.Error(DiagnosticCodes.LimitExceeded, $"{ctx.OpType} of {Shapes.Format(x)} would have a dimension of more than {Shapes.MaxElements}.");
        }

        ctx.SetOutput(0, ctx.InputType(0), output.Select(d => (int)d).ToArray());
    }

    public void Lower(LoweringContext ctx)
    {
        (int[] view, int[] perm) = Rearrangement(ctx.Reread(), ctx.Input(0).KnownShape);
        TransposeOperator.EmitPermutation(ctx, ctx.Input(0), ctx.Output(0), view, perm);
    }

    private static int Block(InferenceContext ctx)
    {
        long b = ctx.RequiredInt("blocksize");
        if (b < 1 || b > short.MaxValue)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"blocksize {b} of {ctx.OpType} must be positive.");
        }

        return (int)b;
    }

    /// <summary>The six-dimensional view of the input and the permutation that gives the output's element order.</summary>
    private static (int[] View, int[] Perm) Rearrangement(InferenceContext ctx, int[] x)
    {
        if (x.Length != 4)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} needs a 4-D NCHW input, but it is {Shapes.Format(x)}.");
        }

        int b = Block(ctx);
        int n = x[0], c = x[1], h = x[2], w = x[3];
        if (ctx.OpType == "SpaceToDepth")
        {
            if (h % b != 0 || w % b != 0)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"SpaceToDepth with blocksize {b} needs a height and width divisible by it, but the input is {Shapes.Format(x)}.");
            }

            return ([n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4]);
        }

        if (c % (b * b) != 0)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"DepthToSpace with blocksize {b} needs channels divisible by {b * b}, but the input is {Shapes.Format(x)}.");
        }

        string mode = ctx.Opset >= 11 ? ctx.String("mode", "DCR") : "DCR";
        return mode switch
        {
            "DCR" => ([n, b, b, c / (b * b), h, w], [0, 3, 4, 1, 5, 2]),
            "CRD" => ([n, c / (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3]),
            _ => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"mode '{mode}' of DepthToSpace must be DCR or CRD."),
        };
    }
}
