namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// One ONNX LSTM layer (float32), gates in the order i, o, f, c:
/// <c>i = f(Xt·Wiᵀ + Ht-1·Riᵀ + Pi⊙Ct-1 + Wbi + Rbi)</c>, <c>f = f(… + Pf⊙Ct-1 …)</c> (or <c>1 - i</c> with
/// input_forget), <c>c = g(…)</c>, <c>Ct = f⊙Ct-1 + i⊙c</c>, <c>o = f(… + Po⊙Ct …)</c>, <c>Ht = o⊙h(Ct)</c>.
/// The input projection of every step is one GEMM; each step then adds <c>Ht-1·Rᵀ</c> for every sequence at once.
/// </summary>
public static class Lstm
{
    private const int Gates = 4;

    /// <summary>Runs the layer over every sequence and direction.</summary>
    /// <param name="x">Input sequences; layouts as described by <paramref name="batchMajor"/>.</param>
    /// <param name="w">Input weights <c>[directions, 4·hidden, input]</c>.</param>
    /// <param name="r">Recurrent weights <c>[directions, 4·hidden, hidden]</c>.</param>
    /// <param name="b">Optional biases <c>[directions, 8·hidden]</c> (Wb then Rb); empty for zeros.</param>
    /// <param name="sequenceLens">Optional length of each sequence, in <c>[0, seqLength]</c>; empty when all are full. Steps past a length give zeros in <paramref name="y"/>.</param>
    /// <param name="initialH">Optional initial hidden state (shape of <paramref name="yH"/>); empty for zeros. May be the same memory as <paramref name="yH"/>.</param>
    /// <param name="initialC">Optional initial cell state (shape of <paramref name="yC"/>); empty for zeros. May be the same memory as <paramref name="yC"/>.</param>
    /// <param name="p">Optional peephole weights <c>[directions, 3·hidden]</c> (i, o, f); empty for none.</param>
    /// <param name="y">Optional hidden state of every step: <c>[seq, directions, batch, hidden]</c>, or <c>[batch, seq, directions, hidden]</c> when <paramref name="batchMajor"/>.</param>
    /// <param name="yH">Optional final hidden state: <c>[directions, batch, hidden]</c>, or <c>[batch, directions, hidden]</c> when <paramref name="batchMajor"/>. Zeros for an empty sequence.</param>
    /// <param name="yC">Optional final cell state, shaped like <paramref name="yH"/>.</param>
    /// <param name="scratch">At least <c>seqLength · batch · 4·hidden + 4·hidden + 3 · batch · hidden</c> elements.</param>
    /// <param name="direction">Forward, reverse, or both.</param>
    /// <param name="batchMajor">ONNX layout 1: x is <c>[batch, seq, input]</c> and the outputs and states put batch first.</param>
    /// <param name="seqLength">Steps in the input.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="inputSize">Features per step.</param>
    /// <param name="hiddenSize">Hidden units.</param>
    /// <param name="activations">Per direction f, g and h, as <see cref="RnnActivation"/> values.</param>
    /// <param name="activationAlpha">The alpha of each activation.</param>
    /// <param name="activationBeta">The beta of each activation.</param>
    /// <param name="clip">Bound of every activation's input (gates only, as ONNX Runtime applies it); 0 for none.</param>
    /// <param name="inputForget">Couple the forget gate to the input gate: <c>f = 1 - i</c>.</param>
    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> b, ReadOnlySpan<int> sequenceLens,
        ReadOnlySpan<float> initialH, ReadOnlySpan<float> initialC, ReadOnlySpan<float> p,
        Span<float> y, Span<float> yH, Span<float> yC, Span<float> scratch,
        RnnDirection direction, bool batchMajor, int seqLength, int batch, int inputSize, int hiddenSize,
        ReadOnlySpan<int> activations, ReadOnlySpan<float> activationAlpha, ReadOnlySpan<float> activationBeta, float clip, bool inputForget)
    {
        var layout = new RecurrentLayout(direction, batchMajor, seqLength, batch, inputSize, hiddenSize, Gates);
        layout.Validate(x, w, r, b, sequenceLens, initialH, y, yH, scratch, activations, activationAlpha, activationBeta, 3);
        int hidden = hiddenSize, state = layout.Directions * batch * hidden;
        if (!(initialC.IsEmpty || initialC.Length == state) || !(yC.IsEmpty || yC.Length == state) || !(p.IsEmpty || p.Length == layout.Directions * 3 * hidden))
        {
            throw new ArgumentException("LSTM cell-state or peephole lengths do not match the dimensions.");
        }

        Span<float> gates = layout.Gates(scratch);
        Span<float> hs = layout.States(scratch, 0), cs = layout.States(scratch, 1), hc = layout.States(scratch, 2).Slice(0, hidden);
        Span<int> offsets = stackalloc int[RecurrentLayout.Lockstep];
        for (int d = 0; d < layout.Directions; d++)
        {
            layout.Project(x, w, b, d, Gates * hidden, scratch);
            ReadOnlySpan<float> rd = layout.Matrix(r, d, hidden);
            ReadOnlySpan<float> pd = p.IsEmpty ? default : p.Slice(d * 3 * hidden, 3 * hidden);
            int fi = 3 * d, gi = fi + 1, hi = fi + 2;
            bool reverse = layout.IsReverse(d);
            for (int s = 0; s < batch; s++)
            {
                layout.Start(initialH, hs.Slice(s * hidden, hidden), d, s);
                layout.Start(initialC, cs.Slice(s * hidden, hidden), d, s);
            }

            int steps = layout.MaxLength(sequenceLens);
            for (int step = 0; step < steps; step++)
            {
                layout.AddRecurrence(rd, layout.Width, hs, sequenceLens, step, reverse, gates, intoGates: true, 0, offsets);
                for (int s = 0; s < batch; s++)
                {
                    int t = layout.Time(sequenceLens, s, step, reverse);
                    if (t < 0)
                    {
                        continue;
                    }

                    Span<float> row = gates.Slice(layout.Row(t, s) * layout.Width, layout.Width);
                    Span<float> h = hs.Slice(s * hidden, hidden), c = cs.Slice(s * hidden, hidden);
                    Span<float> i = row.Slice(0, hidden), o = row.Slice(hidden, hidden), f = row.Slice(2 * hidden, hidden), g = row.Slice(3 * hidden, hidden);
                    if (!pd.IsEmpty)
                    {
                        RecurrentLayout.MultiplyAccumulate(pd.Slice(0, hidden), c, i);
                    }

                    RecurrentLayout.Activate(i, clip, activations, activationAlpha, activationBeta, fi);
                    if (inputForget)
                    {
                        for (int k = 0; k < hidden; k++)
                        {
                            f[k] = 1 - i[k];
                        }
                    }
                    else
                    {
                        if (!pd.IsEmpty)
                        {
                            RecurrentLayout.MultiplyAccumulate(pd.Slice(2 * hidden, hidden), c, f);
                        }

                        RecurrentLayout.Activate(f, clip, activations, activationAlpha, activationBeta, fi);
                    }

                    RecurrentLayout.Activate(g, clip, activations, activationAlpha, activationBeta, gi);
                    for (int k = 0; k < hidden; k++)
                    {
                        c[k] = f[k] * c[k] + i[k] * g[k];
                    }

                    if (!pd.IsEmpty)
                    {
                        RecurrentLayout.MultiplyAccumulate(pd.Slice(hidden, hidden), c, o);
                    }

                    RecurrentLayout.Activate(o, clip, activations, activationAlpha, activationBeta, fi);

                    // ONNX Runtime does not clip the cell state before h.
                    c.CopyTo(hc);
                    RecurrentLayout.Apply((RnnActivation)activations[hi], hc, activationAlpha[hi], activationBeta[hi]);
                    for (int k = 0; k < hidden; k++)
                    {
                        h[k] = o[k] * hc[k];
                    }

                    if (!y.IsEmpty)
                    {
                        h.CopyTo(y.Slice(layout.OutputOffset(t, d, s), hidden));
                    }
                }
            }

            for (int s = 0; s < batch; s++)
            {
                int length = layout.Length(sequenceLens, s);
                layout.Finish(y, yH, hs.Slice(s * hidden, hidden), d, s, length);
                layout.Finish(default, yC, cs.Slice(s * hidden, hidden), d, s, length);
            }
        }
    }
}
