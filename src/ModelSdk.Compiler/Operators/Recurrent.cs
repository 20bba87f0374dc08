using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Operators.Common;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Operators;

/// <summary>
/// LSTM, GRU and RNN (float32): forward, reverse and bidirectional; optional bias, sequence lengths
/// (constant or computed at run time), initial states and peepholes; every activation of the spec with
/// its alpha and beta; clip, input_forget, linear_before_reset; opset 14's <c>layout</c>; every output
/// optional. Each node is one call of <see cref="Lstm"/>, <see cref="Gru"/> or <see cref="Rnn"/>, with the
/// projected gates of every step in arena scratch.
/// </summary>
[OnnxOperator("LSTM")]
[OnnxOperator("GRU")]
[OnnxOperator("RNN")]
internal sealed class RecurrentOperator : IOperator
{
    public void Infer(InferenceContext ctx)
    {
        Layer layer = Resolve(ctx);
        for (int i = 0; i < ctx.OutputCount; i++)
        {
            if (ctx.Node.Outputs[i].Name.Length > 0)
            {
                ctx.SetOutput(i, ElementType.Float32, i == 0 ? layer.OutputShape : layer.StateShape);
            }
        }
    }

    public void Lower(LoweringContext ctx)
    {
        Layer layer = Resolve(ctx.Attributes());
        Cell cell = layer.Cell;
        var args = new List<PlanArg>
        {
            ctx.In("x", ctx.Input(0)),
            ctx.In("w", ctx.Input(1)),
            ctx.In("r", ctx.Input(2)),
            ctx.InOrNone("b", ctx.OptionalInput(3)),
            ctx.InOrNone("sequenceLens", ctx.OptionalInput(4)),
            ctx.InOrNone("initialH", ctx.OptionalInput(5)),
        };
        if (cell.Kernel == nameof(Lstm))
        {
            args.Add(ctx.InOrNone("initialC", ctx.OptionalInput(6)));
            args.Add(ctx.InOrNone("p", ctx.OptionalInput(7)));
        }

        args.Add(OutOrNone(ctx, "y", 0));
        args.Add(OutOrNone(ctx, "yH", 1));
        if (cell.Kernel == nameof(Lstm))
        {
            args.Add(OutOrNone(ctx, "yC", 2));
        }

        args.Add(ctx.Out("scratch", ctx.Temporary(ElementType.Float32, [layer.ScratchLength], "scratch")));
        args.Add(PlanArg.Enum("direction", nameof(RnnDirection), layer.Direction.ToString()));
        args.Add(PlanArg.Bool("batchMajor", layer.BatchMajor));
        args.Add(PlanArg.Int("seqLength", layer.SeqLength));
        args.Add(PlanArg.Int("batch", layer.Batch));
        args.Add(PlanArg.Int("inputSize", layer.InputSize));
        args.Add(PlanArg.Int("hiddenSize", layer.Hidden));
        args.Add(PlanArg.IntList("activations", layer.Activations.Select(a => (int)a).ToArray()));
        args.Add(PlanArg.FloatList("activationAlpha", layer.Alpha));
        args.Add(PlanArg.FloatList("activationBeta", layer.Beta));
        args.Add(PlanArg.Float("clip", layer.Clip));
        if (cell.Kernel == nameof(Lstm))
        {
            args.Add(PlanArg.Bool("inputForget", layer.Flag));
        }
        else if (cell.Kernel == nameof(Gru))
        {
            args.Add(PlanArg.Bool("linearBeforeReset", layer.Flag));
        }

        ctx.Emit(cell.Kernel, [], args.ToArray());
    }

    public long CountMacs(Node node)
    {
        int[] w = node.Inputs[1]!.KnownShape, r = node.Inputs[2]!.KnownShape, x = node.Inputs[0]!.KnownShape;
        long steps = (long)x[0] * x[1];
        return steps * w[0] * w[1] * (w[2] + r[2]);
    }

    private static PlanArg OutOrNone(LoweringContext ctx, string name, int index)
        => Present(ctx.Node, index) ? ctx.Out(name, ctx.Output(index)) : PlanArg.None(name);

    private static bool Present(Node node, int output) => output < node.Outputs.Count && node.Outputs[output].Name.Length > 0;

    /// <summary>What distinguishes the three operators.</summary>
    /// <param name="Kernel">The runtime kernel.</param>
    /// <param name="Gates">Gate blocks in W and R.</param>
    /// <param name="Activations">Default activations of one direction, which also gives their count.</param>
    /// <param name="Inputs">Most inputs the operator takes.</param>
    /// <param name="Outputs">Most outputs it produces.</param>
    private sealed record Cell(string Kernel, int Gates, RnnActivation[] Activations, int Inputs, int Outputs)
    {
        public static Cell Of(string opType) => opType switch
        {
            "LSTM" => new(nameof(Lstm), 4, [RnnActivation.Sigmoid, RnnActivation.Tanh, RnnActivation.Tanh], 8, 3),
            "GRU" => new(nameof(Gru), 3, [RnnActivation.Sigmoid, RnnActivation.Tanh], 6, 2),
            _ => new(nameof(Rnn), 1, [RnnActivation.Tanh], 6, 2),
        };
    }

    /// <summary>A node's resolved dimensions and attributes.</summary>
    private sealed record Layer(
        Cell Cell, RnnDirection Direction, bool BatchMajor, int SeqLength, int Batch, int InputSize, int Hidden,
        RnnActivation[] Activations, float[] Alpha, float[] Beta, float Clip, bool Flag, int ScratchLength)
    {
        public int Directions => Direction == RnnDirection.Bidirectional ? 2 : 1;

        public int[] OutputShape => BatchMajor ? [Batch, SeqLength, Directions, Hidden] : [SeqLength, Directions, Batch, Hidden];

        public int[] StateShape => BatchMajor ? [Batch, Directions, Hidden] : [Directions, Batch, Hidden];
    }

    /// <summary>Checks the node and resolves everything lowering needs (Infer and Lower share it).</summary>
    private static Layer Resolve(InferenceContext ctx)
    {
        Cell cell = Cell.Of(ctx.OpType);
        if (ctx.InputCount > cell.Inputs || ctx.OutputCount > cell.Outputs)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{ctx.OpType} takes at most {cell.Inputs} inputs and {cell.Outputs} outputs, but the node has {ctx.InputCount} and {ctx.OutputCount}.");
        }

        for (int i = 0; i < ctx.InputCount; i++)
        {
            if (ctx.OptionalInput(i) is not null)
            {
                ctx.RequireType(i, i == 4 ? ElementType.Int32 : ElementType.Float32);
            }
        }

        RnnDirection direction = ctx.String("direction", "forward") switch
        {
            "forward" => RnnDirection.Forward,
            "reverse" => RnnDirection.Reverse,
            "bidirectional" => RnnDirection.Bidirectional,
            string other => throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"attribute 'direction' of {ctx.OpType} must be 'forward', 'reverse' or 'bidirectional', but it is '{other}'."),
        };
        int directions = direction == RnnDirection.Bidirectional ? 2 : 1;
        bool batchMajor = Layout(ctx);

        int[] x = ctx.InputShape(0), w = ctx.InputShape(1), r = ctx.InputShape(2);
        if (x.Length != 3 || w.Length != 3 || r.Length != 3)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"{ctx.OpType} needs 3-D X, W and R, but their shapes are {Shapes.Format(x)}, {Shapes.Format(w)} and {Shapes.Format(r)}.");
        }

        (int seq, int batch, int input) = batchMajor ? (x[1], x[0], x[2]) : (x[0], x[1], x[2]);
        int hidden = r[2];
        if (ctx.Has("hidden_size") && ctx.Int("hidden_size", 0) != hidden)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"attribute 'hidden_size' of {ctx.OpType} is {ctx.Int("hidden_size", 0)}, but R {Shapes.Format(r)} has {hidden} hidden units.");
        }

        if (hidden < 1)
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch, $"{ctx.OpType} needs at least one hidden unit, but R has shape {Shapes.Format(r)}.");
        }

        int width = cell.Gates * hidden;
        string gates = cell.Gates == 1 ? "hidden_size" : $"{cell.Gates}·hidden_size";
        Expect(ctx, 1, [directions, width, input], $"[num_directions, {gates}, input_size]");
        Expect(ctx, 2, [directions, width, hidden], $"[num_directions, {gates}, hidden_size]");
        Expect(ctx, 3, [directions, 2 * width], $"[num_directions, {2 * cell.Gates}·hidden_size]");
        Expect(ctx, 4, [batch], "[batch_size]");
        string state = batchMajor ? "[batch_size, num_directions, hidden_size]" : "[num_directions, batch_size, hidden_size]";
        int[] stateShape = batchMajor ? [batch, directions, hidden] : [directions, batch, hidden];
        Expect(ctx, 5, stateShape, state);
        Expect(ctx, 6, stateShape, state);
        Expect(ctx, 7, [directions, 3 * hidden], "[num_directions, 3·hidden_size]");
        CheckSequenceLengths(ctx, seq);

        (RnnActivation[] activations, float[] alpha, float[] beta) = Activations(ctx, cell, directions);
        float clip = ctx.Float("clip", 0);
        if (ctx.Has("clip") && !(clip > 0))
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'clip' of {ctx.OpType} must be a positive threshold, but it is {clip}.");
        }

        if (float.IsPositiveInfinity(clip))
        {
            clip = 0;
        }

        bool flag = false;
        if (ctx.OpType == "LSTM")
        {
            long inputForget = ctx.Int("input_forget", 0);
            if (inputForget is not (0 or 1))
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'input_forget' of LSTM must be 0 or 1, but it is {inputForget}.");
            }

            flag = inputForget == 1;
        }
        else if (ctx.OpType == "GRU")
        {
            flag = ctx.Int("linear_before_reset", 0) != 0;
        }

        long scratch = (long)seq * batch * width + width + 3L * batch * hidden;
        if (scratch > Shapes.MaxElements)
        {
            throw ctx.Error(DiagnosticCodes.LimitExceeded,
                $"{ctx.OpType} would need {scratch} elements of scratch for its {seq} steps × {batch} sequences, more than {Shapes.MaxElements}.");
        }

        return new Layer(cell, direction, batchMajor, seq, batch, input, hidden, activations, alpha, beta, clip, flag, (int)scratch);
    }

    /// <summary>Whether the node uses layout 1 (batch first), which exists from opset 14.</summary>
    private static bool Layout(InferenceContext ctx)
    {
        if (ctx.Opset < 14)
        {
            if (ctx.Has("layout"))
            {
                throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'layout' of {ctx.OpType} exists from opset 14, but the model imports opset {ctx.Opset}.");
            }

            return false;
        }

        long layout = ctx.Int("layout", 0);
        return layout switch
        {
            0 => false,
            1 => true,
            _ => throw ctx.Error(DiagnosticCodes.InvalidAttribute, $"attribute 'layout' of {ctx.OpType} must be 0 or 1, but it is {layout}."),
        };
    }

    private static void Expect(InferenceContext ctx, int index, int[] shape, string description)
    {
        if (index < ctx.InputCount && ctx.OptionalInput(index) is { } v && !Shapes.Equal(v.KnownShape, shape))
        {
            throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                $"input {index} ({InputNames[index]}) of {ctx.OpType} must have shape {Shapes.Format(shape)} ({description}), but it has {Shapes.Format(v.KnownShape)}.", v.Name);
        }
    }

    private static readonly string[] InputNames = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"];

    /// <summary>Constant sequence lengths must lie in <c>[0, seq_length]</c>; run-time ones are checked by the kernel.</summary>
    private static void CheckSequenceLengths(InferenceContext ctx, int seq)
    {
        if (ctx.OptionalInput(4)?.Constant is not { } lengths)
        {
            return;
        }

        ReadOnlySpan<int> values = lengths.Span<int>();
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < 0 || values[i] > seq)
            {
                throw ctx.Error(DiagnosticCodes.ShapeMismatch,
                    $"sequence_lens[{i}] of {ctx.OpType} is {values[i]}, outside [0, {seq}] (the input has {seq} steps).", ctx.OptionalInput(4)!.Name);
            }
        }
    }

    /// <summary>
    /// The activation of every slot (per direction, in the order of the equations) with its alpha and beta.
    /// activation_alpha and activation_beta are consumed in order by the activations that take them, as
    /// ONNX Runtime's LSTM and GRU (and keras2onnx) read them; a missing value takes the default of the
    /// ONNX operator of the same name, as the spec says (ONNX Runtime uses 0 for Affine and ThresholdedRelu).
    /// </summary>
    private static (RnnActivation[] Activations, float[] Alpha, float[] Beta) Activations(InferenceContext ctx, Cell cell, int directions)
    {
        int count = cell.Activations.Length * directions;
        string[]? names = ctx.Strings("activations");
        if (names is { Length: 2 } && ctx.OpType == "RNN" && directions == 1)
        {
            // The RNN schema's default lists two activations even for one direction.
            names = names[..1];
        }

        if (names is not null && names.Length != count)
        {
            throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                $"{ctx.OpType} with {directions} direction(s) needs {count} activations ({cell.Activations.Length} per direction), but attribute 'activations' lists {names.Length}.");
        }

        RnnActivation[] activations = names is null
            ? Enumerable.Repeat(cell.Activations, directions).SelectMany(a => a).ToArray()
            : names.Select(n => Enum.GetValues<RnnActivation>().FirstOrDefault(a => string.Equals(a.ToString(), n, StringComparison.OrdinalIgnoreCase), (RnnActivation)(-1)) is var a && a >= 0
                ? a
                : throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                    $"activation '{n}' of {ctx.OpType} is not one of {string.Join(", ", Enum.GetNames<RnnActivation>())}.")).ToArray();

        float[] alphaList = ctx.Floats("activation_alpha") ?? [], betaList = ctx.Floats("activation_beta") ?? [];
        int nextAlpha = 0, nextBeta = 0;
        var alpha = new float[count];
        var beta = new float[count];
        for (int i = 0; i < count; i++)
        {
            (float? a, float? b) = Defaults(activations[i], out bool takesAlpha, out bool takesBeta);
            alpha[i] = takesAlpha ? Take(alphaList, ref nextAlpha, a, activations[i], "activation_alpha") : 0;
            beta[i] = takesBeta ? Take(betaList, ref nextBeta, b, activations[i], "activation_beta") : 0;
        }

        return (activations, alpha, beta);

        float Take(float[] list, ref int next, float? fallback, RnnActivation activation, string attribute)
            => next < list.Length ? list[next++]
                : fallback ?? throw ctx.Error(DiagnosticCodes.InvalidAttribute,
                    $"activation {activation} of {ctx.OpType} has no default for its parameters, but attribute '{attribute}' has no value left for it.");
    }

    /// <summary>The default alpha and beta of an activation (null where the ONNX operator has none), and which of them it takes.</summary>
    private static (float? Alpha, float? Beta) Defaults(RnnActivation activation, out bool takesAlpha, out bool takesBeta)
    {
        (float? alpha, float? beta, takesAlpha, takesBeta) = activation switch
        {
            RnnActivation.LeakyRelu => (0.01f, (float?)null, true, false),
            RnnActivation.ThresholdedRelu => (1f, null, true, false),
            RnnActivation.Elu => (1f, null, true, false),
            RnnActivation.HardSigmoid => (0.2f, 0.5f, true, true),
            RnnActivation.Affine => (1f, 0f, true, true),
            RnnActivation.ScaledTanh => ((float?)null, (float?)null, true, true),
            _ => ((float?)null, (float?)null, false, false),
        };
        return (alpha, beta);
    }
}
