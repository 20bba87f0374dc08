namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// One ONNX simple RNN layer (float32): <c>Ht = f(Xt·Wᵀ + Ht-1·Rᵀ + Wb + Rb)</c>. The input projection of
/// every step is one GEMM; each step then adds <c>Ht-1·Rᵀ</c> for every sequence at once.
/// </summary>
public static class Rnn
{
    /// <summary>Runs the layer over every sequence and direction.</summary>
    /// <param name="x">Input sequences; layouts as described by <paramref name="batchMajor"/>.</param>
    /// <param name="w">Input weights <c>[directions, hidden, input]</c>.</param>
    /// <param name="r">Recurrent weights <c>[directions, hidden, hidden]</c>.</param>
    /// <param name="b">Optional biases <c>[directions, 2·hidden]</c> (Wb then Rb); empty for zeros.</param>
    /// <param name="sequenceLens">Optional length of each sequence, in <c>[0, seqLength]</c>; empty when all are full. Steps past a length give zeros in <paramref name="y"/>.</param>
    /// <param name="initialH">Optional initial hidden state (shape of <paramref name="yH"/>); empty for zeros. May be the same memory as <paramref name="yH"/>.</param>
    /// <param name="y">Optional hidden state of every step: <c>[seq, directions, batch, hidden]</c>, or <c>[batch, seq, directions, hidden]</c> when <paramref name="batchMajor"/>.</param>
    /// <param name="yH">Optional final hidden state: <c>[directions, batch, hidden]</c>, or <c>[batch, directions, hidden]</c> when <paramref name="batchMajor"/>. Zeros for an empty sequence.</param>
    /// <param name="scratch">At least <c>seqLength · batch · hidden + hidden + 3 · batch · hidden</c> elements.</param>
    /// <param name="direction">Forward, reverse, or both.</param>
    /// <param name="batchMajor">ONNX layout 1: x is <c>[batch, seq, input]</c> and the outputs and states put batch first.</param>
    /// <param name="seqLength">Steps in the input.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="inputSize">Features per step.</param>
    /// <param name="hiddenSize">Hidden units.</param>
    /// <param name="activations">Per direction f, as <see cref="RnnActivation"/> values.</param>
    /// <param name="activationAlpha">The alpha of each activation.</param>
    /// <param name="activationBeta">The beta of each activation.</param>
    /// <param name="clip">Bound of the activation's input; 0 for none.</param>
    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> b, ReadOnlySpan<int> sequenceLens,
        ReadOnlySpan<float> initialH, Span<float> y, Span<float> yH, Span<float> scratch,
        RnnDirection direction, bool batchMajor, int seqLength, int batch, int inputSize, int hiddenSize,
        ReadOnlySpan<int> activations, ReadOnlySpan<float> activationAlpha, ReadOnlySpan<float> activationBeta, float clip)
    {
        var layout = new RecurrentLayout(direction, batchMajor, seqLength, batch, inputSize, hiddenSize, 1);
        layout.Validate(x, w, r, b, sequenceLens, initialH, y, yH, scratch, activations, activationAlpha, activationBeta, 1);
        int hidden = hiddenSize;
        Span<float> gates = layout.Gates(scratch);
        Span<float> hs = layout.States(scratch, 0);
        Span<int> offsets = stackalloc int[RecurrentLayout.Lockstep];
        for (int d = 0; d < layout.Directions; d++)
        {
            layout.Project(x, w, b, d, hidden, scratch);
            ReadOnlySpan<float> rd = layout.Matrix(r, d, hidden);
            bool reverse = layout.IsReverse(d);
            for (int s = 0; s < batch; s++)
            {
                layout.Start(initialH, hs.Slice(s * hidden, hidden), d, s);
            }

            int steps = layout.MaxLength(sequenceLens);
            for (int step = 0; step < steps; step++)
            {
                layout.AddRecurrence(rd, hidden, hs, sequenceLens, step, reverse, gates, intoGates: true, 0, offsets);
                for (int s = 0; s < batch; s++)
                {
                    int t = layout.Time(sequenceLens, s, step, reverse);
                    if (t < 0)
                    {
                        continue;
                    }

                    Span<float> row = gates.Slice(layout.Row(t, s) * hidden, hidden);
                    RecurrentLayout.Activate(row, clip, activations, activationAlpha, activationBeta, d);
                    row.CopyTo(hs.Slice(s * hidden, hidden));
                    if (!y.IsEmpty)
                    {
                        row.CopyTo(y.Slice(layout.OutputOffset(t, d, s), hidden));
                    }
                }
            }

            for (int s = 0; s < batch; s++)
            {
                layout.Finish(y, yH, hs.Slice(s * hidden, hidden), d, s, layout.Length(sequenceLens, s));
            }
        }
    }
}
