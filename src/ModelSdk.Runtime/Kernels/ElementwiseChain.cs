using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>What a step of an <see cref="ElementwiseChain"/> does with the running value.</summary>
public enum ChainStepKind
{
    /// <summary><c>v = op(v)</c> with the step's <see cref="UnaryOp"/> and its two parameters.</summary>
    Unary,
    /// <summary><c>v = v op operand</c> with the step's <see cref="BinaryOp"/> (Add, Sub, Mul or Div).</summary>
    Binary,
    /// <summary><c>v = operand op v</c> (a constant minus or divided by the running value).</summary>
    ReversedBinary,
}

/// <summary>Where a binary step's other operand comes from.</summary>
public enum ChainOperand
{
    /// <summary>The step's first parameter, for every element.</summary>
    Scalar,
    /// <summary>The chain's input <c>x</c>, element by element (as in <c>x · sigmoid(x)</c>).</summary>
    Input,
    /// <summary>The tensor <c>b</c>, element by element.</summary>
    B,
    /// <summary>The tensor <c>c</c>, element by element.</summary>
    C,
}

/// <summary>
/// A chain of elementwise float32 operations fused into one pass over memory: each block of elements is read
/// once, carried through every step while it sits in L1, and written once. Step <c>i</c> is described by
/// <c>steps[3i..3i+3]</c> = (<see cref="ChainStepKind"/>, the <see cref="UnaryOp"/> or <see cref="BinaryOp"/>,
/// <see cref="ChainOperand"/>) and <c>parameters[2i..2i+2]</c> (alpha and beta of a unary step, the scalar of a
/// binary one). Each step computes exactly what the unfused <see cref="Unary"/> or <see cref="Binary"/> kernel
/// would, so fusing changes no result. <c>y</c> may be the memory of <c>x</c>, <c>b</c> or <c>c</c>.
/// </summary>
public static unsafe class ElementwiseChain
{
    /// <summary>Elements carried through the chain at a time (8 KB: the block and the inputs stay in L1).</summary>
    public const int Block = 2048;

    // Below this many elements the chain runs on the calling thread (a parallel loop costs a few microseconds).
    private const int MinParallelElements = 65536;

    /// <summary>Runs the chain over every element.</summary>
    /// <param name="x">The chain's input.</param>
    /// <param name="b">First tensor operand (as long as <paramref name="x"/>), or empty.</param>
    /// <param name="c">Second tensor operand (as long as <paramref name="x"/>), or empty.</param>
    /// <param name="y">The output, as long as <paramref name="x"/>.</param>
    /// <param name="steps">Three integers per step: kind, operation, operand.</param>
    /// <param name="parameters">Two floats per step.</param>
    /// <param name="context">The worker threads that share large tensors.</param>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y, ReadOnlySpan<int> steps, ReadOnlySpan<float> parameters, KernelContext context)
    {
        int n = x.Length, count = steps.Length / 3;
        if (y.Length != n || steps.Length != 3 * count || parameters.Length != 2 * count || count == 0)
        {
            throw new ArgumentException("ElementwiseChain: y must be as long as x, with three step integers and two parameters per step.");
        }

        // Checked here, on the calling thread: a worker must not throw.
        for (int i = 0; i < count; i++)
        {
            var kind = (ChainStepKind)steps[3 * i];
            var operand = (ChainOperand)steps[3 * i + 2];
            if (kind != ChainStepKind.Unary
                && ((BinaryOp)steps[3 * i + 1] is not (BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div)
                    || kind is not ChainStepKind.Binary and not ChainStepKind.ReversedBinary
                    || operand is < ChainOperand.Scalar or > ChainOperand.C
                    || (operand == ChainOperand.B && b.Length != n) || (operand == ChainOperand.C && c.Length != n)))
            {
                throw new ArgumentException($"ElementwiseChain: step {i} is not an Add, Sub, Mul or Div of a scalar or of a tensor as long as x.");
            }
        }

        int blocks = (n + Block - 1) / Block;
        int parts = n < MinParallelElements ? 1 : Math.Min(blocks, context.Workers.Chunks(n, MinParallelElements / 2));
        fixed (float* px = x, pb = b, pc = c, py = y, pp = parameters)
        fixed (int* ps = steps)
        {
            var state = new State { X = px, B = pb, C = pc, Y = py, Steps = ps, Parameters = pp, Count = count, N = n, Blocks = blocks, Parts = parts };
            SimdParts.Run(context, parts, &state, &Part<Vector512<float>, Simd512>, &Part<Vector256<float>, Simd256>, &Part<Vector128<float>, Simd128>);
        }
    }

    private struct State
    {
        public float* X, B, C, Y, Parameters;
        public int* Steps;
        public int Count, N, Blocks, Parts;
    }

    private static void Part<TV, TS>(void* state, int part)
        where TV : struct
        where TS : ISimd<TV>
    {
        ref readonly State s = ref *(State*)state;
        float* t = stackalloc float[Block];
        int first = (int)((long)s.Blocks * part / s.Parts), last = (int)((long)s.Blocks * (part + 1) / s.Parts);
        for (int block = first; block < last; block++)
        {
            int start = block * Block, length = Math.Min(Block, s.N - start);
            for (int i = 0; i < s.Count; i++)
            {
                // The first step reads x, the last writes y, the others work in the block buffer.
                float* source = i == 0 ? s.X + start : t, destination = i == s.Count - 1 ? s.Y + start : t;
                var kind = (ChainStepKind)s.Steps[3 * i];
                int op = s.Steps[3 * i + 1];
                float alpha = s.Parameters[2 * i], beta = s.Parameters[2 * i + 1];
                if (kind == ChainStepKind.Unary)
                {
                    ApplyUnary<TV, TS>((UnaryOp)op, source, destination, length, alpha, beta);
                    continue;
                }

                float* operand = (ChainOperand)s.Steps[3 * i + 2] switch
                {
                    ChainOperand.Input => s.X + start,
                    ChainOperand.B => s.B + start,
                    ChainOperand.C => s.C + start,
                    _ => null,
                };
                ApplyBinary<TV, TS>((BinaryOp)op, kind == ChainStepKind.ReversedBinary, source, operand, alpha, destination, length);
            }
        }
    }

    private static void ApplyUnary<TV, TS>(UnaryOp op, float* x, float* y, int n, float alpha, float beta)
        where TV : struct
        where TS : ISimd<TV>
    {
        if (!Unary.Apply<TV, TS>(op, ref *x, ref *y, n, alpha, beta))
        {
            // The functions without a vector form, computed as the Unary kernel computes them.
            for (int i = 0; i < n; i++)
            {
                y[i] = (float)Unary.Scalar(op, x[i], alpha, beta);
            }
        }
    }

    /// <summary><c>y = a op operand</c> (or <c>operand op a</c>), the operand a tensor or, when null, <paramref name="scalar"/>.</summary>
    private static void ApplyBinary<TV, TS>(BinaryOp op, bool reversed, float* a, float* operand, float scalar, float* y, int n)
        where TV : struct
        where TS : ISimd<TV>
    {
        // One loop per operation, so the per-vector body has no branch; Add and Mul commute.
        switch (op, reversed)
        {
            case (BinaryOp.Add, _):
                Loop<TV, TS, Binary.AddOp>(a, operand, scalar, y, n);
                break;
            case (BinaryOp.Mul, _):
                Loop<TV, TS, Binary.MulOp>(a, operand, scalar, y, n);
                break;
            case (BinaryOp.Sub, false):
                Loop<TV, TS, Binary.SubOp>(a, operand, scalar, y, n);
                break;
            case (BinaryOp.Sub, true):
                Loop<TV, TS, Binary.Reversed<Binary.SubOp>>(a, operand, scalar, y, n);
                break;
            case (BinaryOp.Div, false):
                Loop<TV, TS, Binary.DivOp>(a, operand, scalar, y, n);
                break;
            default:
                Loop<TV, TS, Binary.Reversed<Binary.DivOp>>(a, operand, scalar, y, n);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Loop<TV, TS, TF>(float* a, float* operand, float scalar, float* y, int n)
        where TV : struct
        where TS : ISimd<TV>
        where TF : struct, Binary.IFloatOp
    {
        int i = 0;
        if (operand is null)
        {
            TV b = TS.Create(scalar);
            for (; i + TS.Count <= n; i += TS.Count)
            {
                TS.Store(TF.Apply<TV, TS>(TS.Load(ref a[i], 0), b), ref y[i], 0);
            }

            for (; i < n; i++)
            {
                y[i] = TF.Apply(a[i], scalar);
            }

            return;
        }

        for (; i + TS.Count <= n; i += TS.Count)
        {
            TS.Store(TF.Apply<TV, TS>(TS.Load(ref a[i], 0), TS.Load(ref operand[i], 0)), ref y[i], 0);
        }

        for (; i < n; i++)
        {
            y[i] = TF.Apply(a[i], operand[i]);
        }
    }
}
