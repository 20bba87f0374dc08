namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// One ONNX GRU layer (float32), gates in the order z, r, h:
/// <c>z = f(Xt·Wzᵀ + Ht-1·Rzᵀ + Wbz + Rbz)</c>, <c>r = f(…)</c>,
/// <c>h = g(Xt·Whᵀ + (r⊙Ht-1)·Rhᵀ + Rbh + Wbh)</c> or, with linear_before_reset, <c>g(Xt·Whᵀ + r⊙(Ht-1·Rhᵀ + Rbh) + Wbh)</c>,
/// <c>Ht = (1 - z)⊙h + z⊙Ht-1</c>. The input projection of every step is one GEMM; each step then adds
/// the recurrent products for every sequence at once.
/// </summary>
public static class Gru
{
    private const int Gates = 3;

    /// <summary>Runs the layer over every sequence and direction.</summary>
    /// <param name="x">Input sequences; layouts as described by <paramref name="batchMajor"/>.</param>
    /// <param name="w">Input weights <c>[directions, 3·hidden, input]</c>.</param>
    /// <param name="r">Recurrent weights <c>[directions, 3·hidden, hidden]</c>.</param>
    /// <param name="b">Optional biases <c>[directions, 6·hidden]</c> (Wb then Rb); empty for zeros.</param>
    /// <param name="sequenceLens">Optional length of each sequence, in <c>[0, seqLength]</c>; empty when all are full. Steps past a length give zeros in <paramref name="y"/>.</param>
    /// <param name="initialH">Optional initial hidden state (shape of <paramref name="yH"/>); empty for zeros. May be the same memory as <paramref name="yH"/>.</param>
    /// <param name="y">Optional hidden state of every step: <c>[seq, directions, batch, hidden]</c>, or <c>[batch, seq, directions, hidden]</c> when <paramref name="batchMajor"/>.</param>
    /// <param name="yH">Optional final hidden state: <c>[directions, batch, hidden]</c>, or <c>[batch, directions, hidden]</c> when <paramref name="batchMajor"/>. Zeros for an empty sequence.</param>
    /// <param name="scratch">At least <c>seqLength · batch · 3·hidden + 3·hidden + 3 · batch · hidden</c> elements.</param>
    /// <param name="direction">Forward, reverse, or both.</param>
    /// <param name="batchMajor">ONNX layout 1: x is <c>[batch, seq, input]</c> and the outputs and states put batch first.</param>
    /// <param name="seqLength">Steps in the input.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="inputSize">Features per step.</param>
    /// <param name="hiddenSize">Hidden units.</param>
    /// <param name="activations">Per direction f and g, as <see cref="RnnActivation"/> values.</param>
    /// <param name="activationAlpha">The alpha of each activation.</param>
    /// <param name="activationBeta">The beta of each activation.</param>
    /// <param name="clip">Bound of every activation's input; 0 for none.</param>
    /// <param name="linearBeforeReset">Apply Rh (and Rbh) to Ht-1 before multiplying by the reset gate.</param>
    public static void Run(
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> b, ReadOnlySpan<int> sequenceLens,
        ReadOnlySpan<float> initialH, Span<float> y, Span<float> yH, Span<float> scratch,
        RnnDirection direction, bool batchMajor, int seqLength, int batch, int inputSize, int hiddenSize,
        ReadOnlySpan<int> activations, ReadOnlySpan<float> activationAlpha, ReadOnlySpan<float> activationBeta, float clip, bool linearBeforeReset)
    {
        var layout = new RecurrentLayout(direction, batchMajor, seqLength, batch, inputSize, hiddenSize, Gates);
        layout.Validate(x, w, r, b, sequenceLens, initialH, y, yH, scratch, activations, activationAlpha, activationBeta, 2);
        int hidden = hiddenSize;
        Span<float> gates = layout.Gates(scratch);
        Span<float> hs = layout.States(scratch, 0), temps = layout.States(scratch, 1);
        Span<int> offsets = stackalloc int[RecurrentLayout.Lockstep];
        for (int d = 0; d < layout.Directions; d++)
        {
            // Rbh joins the projection unless the reset gate scales it.
            layout.Project(x, w, b, d, (linearBeforeReset ? 2 : 3) * hidden, scratch);
            ReadOnlySpan<float> rd = layout.Matrix(r, d, hidden);
            ReadOnlySpan<float> rzr = rd.Slice(0, 2 * hidden * hidden), rh = rd.Slice(2 * hidden * hidden);
            ReadOnlySpan<float> rbh = b.IsEmpty ? default : b.Slice((2 * d + 1) * layout.Width + 2 * hidden, hidden);
            int fi = 2 * d, gi = fi + 1;
            bool reverse = layout.IsReverse(d);
            for (int s = 0; s < batch; s++)
            {
                layout.Start(initialH, hs.Slice(s * hidden, hidden), d, s);
            }

            int steps = layout.MaxLength(sequenceLens);
            for (int step = 0; step < steps; step++)
            {
                layout.AddRecurrence(rzr, 2 * hidden, hs, sequenceLens, step, reverse, gates, intoGates: true, 0, offsets);
                for (int s = 0; s < batch; s++)
                {
                    int t = layout.Time(sequenceLens, s, step, reverse);
                    if (t < 0)
                    {
                        continue;
                    }

                    Span<float> row = gates.Slice(layout.Row(t, s) * layout.Width, layout.Width);
                    Span<float> z = row.Slice(0, hidden), reset = row.Slice(hidden, hidden);
                    Span<float> h = hs.Slice(s * hidden, hidden), temp = temps.Slice(s * hidden, hidden);
                    RecurrentLayout.Activate(z, clip, activations, activationAlpha, activationBeta, fi);
                    RecurrentLayout.Activate(reset, clip, activations, activationAlpha, activationBeta, fi);
                    if (!linearBeforeReset)
                    {
                        for (int k = 0; k < hidden; k++)
                        {
                            temp[k] = reset[k] * h[k];
                        }
                    }
                    else if (rbh.IsEmpty)
                    {
                        temp.Clear();
                    }
                    else
                    {
                        rbh.CopyTo(temp);
                    }
                }

                // (r⊙Ht-1)·Rhᵀ goes straight into the candidate; with linear_before_reset, Ht-1·Rhᵀ + Rbh waits for r.
                if (linearBeforeReset)
                {
                    layout.AddRecurrence(rh, hidden, hs, sequenceLens, step, reverse, temps, intoGates: false, 0, offsets);
                }
                else
                {
                    layout.AddRecurrence(rh, hidden, temps, sequenceLens, step, reverse, gates, intoGates: true, 2 * hidden, offsets);
                }

                for (int s = 0; s < batch; s++)
                {
                    int t = layout.Time(sequenceLens, s, step, reverse);
                    if (t < 0)
                    {
                        continue;
                    }

                    Span<float> row = gates.Slice(layout.Row(t, s) * layout.Width, layout.Width);
                    Span<float> z = row.Slice(0, hidden), reset = row.Slice(hidden, hidden), candidate = row.Slice(2 * hidden, hidden);
                    Span<float> h = hs.Slice(s * hidden, hidden);
                    if (linearBeforeReset)
                    {
                        RecurrentLayout.MultiplyAccumulate(reset, temps.Slice(s * hidden, hidden), candidate);
                    }

                    RecurrentLayout.Activate(candidate, clip, activations, activationAlpha, activationBeta, gi);
                    for (int k = 0; k < hidden; k++)
                    {
                        h[k] = (1 - z[k]) * candidate[k] + z[k] * h[k];
                    }

                    if (!y.IsEmpty)
                    {
                        h.CopyTo(y.Slice(layout.OutputOffset(t, d, s), hidden));
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
