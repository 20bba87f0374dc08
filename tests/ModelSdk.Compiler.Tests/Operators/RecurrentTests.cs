using ModelSdk.Compiler.Diagnostics;
using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Operators;

public class RecurrentTests
{
    public static TheoryData<string, string, int> OperatorsDirectionsOpsets()
    {
        var data = new TheoryData<string, string, int>();
        foreach (string op in new[] { "LSTM", "GRU", "RNN" })
        {
            foreach (string direction in new[] { "forward", "reverse", "bidirectional" })
            {
                foreach (int opset in new[] { 7, 14 })
                {
                    data.Add(op, direction, opset);
                }
            }
        }

        return data;
    }

    public static TheoryData<string, string> OperatorsDirections()
    {
        var data = new TheoryData<string, string>();
        foreach (string op in new[] { "LSTM", "GRU", "RNN" })
        {
            foreach (string direction in new[] { "forward", "reverse", "bidirectional" })
            {
                data.Add(op, direction);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OperatorsDirectionsOpsets))]
    public void Every_direction_matches_onnxruntime(string op, string direction, int opset)
        => new Layer(op) { Opset = opset, Direction = direction, Seq = 4, Batch = 3, Input = 5, Hidden = 7 }.AssertMatches();

    [Theory]
    [MemberData(nameof(OperatorsDirections))]
    public void Initial_states_match_onnxruntime(string op, string direction)
        => new Layer(op) { Direction = direction, InitialH = true, InitialC = op == "LSTM" }.AssertMatches();

    [Theory]
    [MemberData(nameof(OperatorsDirections))]
    public void Without_bias_matches_onnxruntime(string op, string direction)
        => new Layer(op) { Direction = direction, Bias = false, InitialH = true }.AssertMatches();

    [Theory]
    [MemberData(nameof(OperatorsDirections))]
    public void Unequal_constant_sequence_lengths_match_onnxruntime(string op, string direction)
        => new Layer(op) { Direction = direction, Seq = 6, Batch = 4, Lengths = [6, 2, 5, 1], InitialH = true, InitialC = op == "LSTM" }.AssertMatches();

    [Theory]
    [MemberData(nameof(OperatorsDirections))]
    public void Sequence_lengths_computed_at_run_time_match_onnxruntime(string op, string direction)
        => new Layer(op) { Direction = direction, Seq = 6, Batch = 4, Lengths = [3, 6, 1, 4], LengthsAtRunTime = true, InitialH = true }.AssertMatches();

    [Theory]
    [InlineData("LSTM", "forward")]
    [InlineData("LSTM", "bidirectional")]
    [InlineData("GRU", "reverse")]
    [InlineData("GRU", "bidirectional")]
    public void An_empty_sequence_gives_zeros_like_onnxruntime(string op, string direction)
        => new Layer(op) { Direction = direction, Seq = 5, Batch = 3, Lengths = [5, 0, 3], InitialH = true, InitialC = op == "LSTM" }.AssertMatches();

    [Theory]
    [MemberData(nameof(OperatorsDirections))]
    public void Batch_major_layout_matches_onnxruntime(string op, string direction)
        => new Layer(op) { Direction = direction, Layout = 1, Seq = 5, Batch = 3, Lengths = [5, 2, 4], InitialH = true, InitialC = op == "LSTM" }.AssertMatches();

    [Theory]
    [MemberData(nameof(OperatorsDirections))]
    public void Clip_matches_onnxruntime(string op, string direction)
        => new Layer(op) { Direction = direction, InitialH = true, InitialC = op == "LSTM", Peepholes = op == "LSTM" }
            .With(("clip", 0.4f)).AssertMatches();

    [Theory]
    [InlineData("forward")]
    [InlineData("reverse")]
    [InlineData("bidirectional")]
    public void Lstm_peepholes_match_onnxruntime(string direction)
        => new Layer("LSTM") { Direction = direction, Peepholes = true, InitialH = true, InitialC = true, Lengths = [5, 3, 4] }.AssertMatches();

    [Theory]
    [InlineData("forward")]
    [InlineData("bidirectional")]
    public void Lstm_input_forget_matches_onnxruntime(string direction)
        => new Layer("LSTM") { Direction = direction, Peepholes = true, InitialC = true }.With(("input_forget", 1)).AssertMatches();

    [Theory]
    [InlineData("forward", 14)]
    [InlineData("reverse", 7)]
    [InlineData("bidirectional", 14)]
    public void Gru_linear_before_reset_matches_onnxruntime(string direction, int opset)
        => new Layer("GRU") { Direction = direction, Opset = opset, InitialH = true, Lengths = [5, 1, 3] }.With(("linear_before_reset", 1)).AssertMatches();

    [Fact]
    public void Gru_linear_before_reset_without_bias_matches_onnxruntime()
        => new Layer("GRU") { Bias = false, InitialH = true }.With(("linear_before_reset", 1)).AssertMatches();

    [Theory]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Relu")]
    [InlineData("HardSigmoid")]
    [InlineData("LeakyRelu")]
    [InlineData("ThresholdedRelu")]
    [InlineData("ScaledTanh")]
    [InlineData("Affine")]
    [InlineData("Elu")]
    [InlineData("Softsign")]
    [InlineData("Softplus")]
    public void Every_activation_matches_onnxruntime(string activation)
    {
        // ONNX Runtime's RNN reads one alpha and one beta per direction, the others consume them in order:
        // a single activation per slot with explicit values means the same to both.
        new Layer("RNN") { InitialH = true }
            .With(("activations", new[] { activation }), ("activation_alpha", new[] { 0.35f }), ("activation_beta", new[] { 0.6f }))
            .AssertMatches();
        new Layer("GRU") { InitialH = true }
            .With(("activations", new[] { "Sigmoid", activation }), ("activation_alpha", new[] { 0.35f }), ("activation_beta", new[] { 0.6f }))
            .AssertMatches();
        new Layer("LSTM") { InitialH = true, InitialC = true }
            .With(("activations", new[] { "Sigmoid", activation, activation }), ("activation_alpha", new[] { 0.35f, 0.35f }), ("activation_beta", new[] { 0.6f, 0.6f }))
            .AssertMatches();
    }

    [Fact]
    public void Activation_parameters_are_consumed_in_order_by_the_activations_that_take_them()
        => new Layer("LSTM") { Direction = "bidirectional", InitialH = true, InitialC = true }
            .With(
                ("activations", new[] { "HardSigmoid", "Tanh", "LeakyRelu", "Sigmoid", "Softsign", "Elu" }),
                ("activation_alpha", new[] { 0.3f, 0.2f, 0.8f }),
                ("activation_beta", new[] { 0.45f }))
            .AssertMatches();

    [Fact]
    public void Activation_parameters_take_their_defaults_when_absent()
        => new Layer("GRU") { Direction = "bidirectional", InitialH = true }
            .With(("activations", new[] { "HardSigmoid", "LeakyRelu", "Sigmoid", "Elu" }))
            .AssertMatches();

    [Fact]
    public void Activation_names_ignore_case_like_onnxruntime()
        => new Layer("LSTM").With(("activations", new[] { "sigmoid", "TANH", "Softsign" })).AssertMatches();

    [Fact]
    public void Rnn_accepts_the_two_default_activations_for_one_direction()
        => new Layer("RNN").With(("activations", new[] { "Relu", "Relu" })).AssertMatches();

    [Theory]
    [InlineData("LSTM", true, false, false)]
    [InlineData("LSTM", false, true, false)]
    [InlineData("LSTM", false, false, true)]
    [InlineData("LSTM", true, false, true)]
    [InlineData("GRU", false, true, false)]
    [InlineData("GRU", true, false, false)]
    [InlineData("RNN", false, true, false)]
    public void Absent_outputs_are_skipped(string op, bool y, bool yH, bool yC)
        => new Layer(op) { Direction = "bidirectional", Y = y, YH = yH, YC = yC, Lengths = [5, 2, 3] }.AssertMatches();

    [Fact]
    public void Weights_computed_at_run_time_match_onnxruntime()
        => new Layer("LSTM") { Direction = "bidirectional", WeightsAtRunTime = true, InitialH = true, InitialC = true, Peepholes = true }.AssertMatches();

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(9, 2, 17, 33)] // vector tails in the row products, several row blocks
    [InlineData(3, 5, 64, 40)]
    [InlineData(3, 70, 3, 9)] // more sequences than one pass of the recurrent weights serves
    public void Odd_and_larger_sizes_match_onnxruntime(int seq, int batch, int input, int hidden)
    {
        foreach (string op in new[] { "LSTM", "GRU", "RNN" })
        {
            new Layer(op) { Direction = "bidirectional", Seq = seq, Batch = batch, Input = input, Hidden = hidden, InitialH = true, Scale = 0.3f }.AssertMatches();
        }
    }

    [Fact]
    public void Lstm_tagger_as_exporters_write_it_matches_onnxruntime()
    {
        const int vocabulary = 11, embedding = 5, hidden = 6, tags = 4, seq = 7, batch = 2;
        var b = new OnnxModelBuilder(14);
        string tokens = b.Input("tokens", ElementType.Int64, seq, batch);
        string table = b.Initializer("embedding", TensorAssert.Random([vocabulary, embedding], 1));
        string embedded = b.Node("Gather", [table, tokens], ("axis", 0));
        string[] lstm = b.NodeMulti("LSTM", [
                embedded,
                b.Initializer("lstm.w", TensorAssert.Random([2, 4 * hidden, embedding], 2, -0.5f, 0.5f)),
                b.Initializer("lstm.r", TensorAssert.Random([2, 4 * hidden, hidden], 3, -0.5f, 0.5f)),
                b.Initializer("lstm.b", TensorAssert.Random([2, 8 * hidden], 4, -0.5f, 0.5f)),
            ], 3, ("direction", "bidirectional"), ("hidden_size", hidden));
        string timeMajor = b.Node("Transpose", [lstm[0]], ("perm", new[] { 0, 2, 1, 3 }));
        string features = b.Node("Reshape", [timeMajor, b.Initializer("shape", Tensor.FromInt64s([2], -1, 2 * hidden))]);
        string logits = b.Node("Gemm", [
                features,
                b.Initializer("fc.w", TensorAssert.Random([tags, 2 * hidden], 5)),
                b.Initializer("fc.b", TensorAssert.Random([tags], 6)),
            ], ("transB", 1));
        b.Output(logits);

        var rng = new Random(7);
        Tensor ids = Tensor.FromInt64s([seq, batch], Enumerable.Range(0, seq * batch).Select(_ => (long)rng.Next(vocabulary)).ToArray());
        Tensor[] actual = OrtAgreement.AssertMatches(b.Build(), [("tokens", ids)]);

        Assert.Equal([seq * batch, tags], actual[0].Shape);
    }

    [Theory]
    [InlineData("LSTM", 0)]
    [InlineData("GRU", 1)]
    [InlineData("RNN", 0)]
    public void Streaming_state_fed_back_matches_onnxruntime_at_every_step(string op, int layout)
    {
        // One step per call: the state comes in as graph inputs and goes out as graph outputs.
        const int batch = 2, input = 3, hidden = 5, steps = 6;
        var layer = new Layer(op) { Seq = 1, Batch = batch, Input = input, Hidden = hidden, Layout = layout, InitialH = true, InitialC = op == "LSTM", StatesAreInputs = true };
        byte[] model = layer.Build().Model, reference = layer.Build(reference: true).Model;

        CompileResult compiled = ModelRunner.Compile(model);
        int[] stateShape = layout == 1 ? [batch, 1, hidden] : [1, batch, hidden];
        Tensor ourH = Tensor.FromFloats(stateShape, new float[batch * hidden]), ourC = ourH;
        Tensor ortH = ourH, ortC = ourH;
        for (int step = 0; step < steps; step++)
        {
            Tensor x = TensorAssert.Random(layout == 1 ? [batch, 1, input] : [1, batch, input], 100 + step);
            Tensor[] expected = OrtReference.Run(reference, Feed(x, ortH, ortC));
            Tensor[] actual = Execute(compiled, Feed(x, ourH, ourC));
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                TensorAssert.Close(expected[i], actual[i]);
            }

            (ortH, ourH) = (expected[1], actual[1]);
            if (op == "LSTM")
            {
                (ortC, ourC) = (expected[2], actual[2]);
            }
        }

        // The state really moved: a constant zero state would not show that feedback works.
        Assert.NotEqual(new float[batch * hidden], ourH.ToFloats());

        List<(string, Tensor)> Feed(Tensor x, Tensor h, Tensor c)
            => op == "LSTM" ? [("x", x), ("h0", h), ("c0", c)] : [("x", x), ("h0", h)];
    }

    [Fact]
    public void Exported_streaming_gru_fixture_matches_onnxruntime_at_every_step()
    {
        // A PyTorch export (tests/fixtures/models/real): frame and state in, probability and new state out.
        byte[] model = File.ReadAllBytes(Path.Combine(RepositoryPaths.Fixtures, "real", "gru_stream.onnx"));
        CompileResult compiled = ModelRunner.Compile(model);
        Tensor ours = Tensor.FromFloats([1, 1, 64], new float[64]), theirs = ours;
        for (int step = 0; step < 8; step++)
        {
            Tensor frame = TensorAssert.Random([1, 40], 200 + step, -2, 2);
            Tensor[] expected = OrtReference.Run(model, [("frame", frame), ("state", theirs)]);
            Tensor[] actual = Execute(compiled, [("frame", frame), ("state", ours)]);
            TensorAssert.Close(expected[0], actual[0]);
            TensorAssert.Close(expected[1], actual[1]);
            (theirs, ours) = (expected[1], actual[1]);
        }
    }

    [Fact]
    public void The_kernel_may_read_the_initial_state_from_the_memory_it_writes_the_final_state_to()
    {
        // Streaming callers may pass one buffer as both initial_h and Y_h (and initial_c and Y_c).
        const int seq = 3, batch = 2, input = 4, hidden = 5, directions = 2;
        float[] x = TensorAssert.Random([seq, batch, input], 1).ToFloats();
        float[] w = TensorAssert.Random([directions, 4 * hidden, input], 2).ToFloats();
        float[] r = TensorAssert.Random([directions, 4 * hidden, hidden], 3).ToFloats();
        float[] h0 = TensorAssert.Random([directions, batch, hidden], 4).ToFloats();
        float[] c0 = TensorAssert.Random([directions, batch, hidden], 5).ToFloats();
        var scratch = new float[seq * batch * 4 * hidden + 4 * hidden + 3 * batch * hidden];
        int[] activations = [0, 1, 1, 0, 1, 1];
        float[] zeros = new float[6];

        float[] yH = new float[h0.Length], yC = new float[c0.Length];
        Lstm.Run(x, w, r, default, default, h0, c0, default, default, yH, yC, scratch,
            RnnDirection.Bidirectional, false, seq, batch, input, hidden, activations, zeros, zeros, 0, false);
        float[] h = (float[])h0.Clone(), c = (float[])c0.Clone();
        Lstm.Run(x, w, r, default, default, h, c, default, default, h, c, scratch,
            RnnDirection.Bidirectional, false, seq, batch, input, hidden, activations, zeros, zeros, 0, false);

        Assert.Equal(yH, h);
        Assert.Equal(yC, c);
    }

    [Theory]
    [InlineData(RnnActivation.Tanh)]
    [InlineData(RnnActivation.Sigmoid)]
    public void Vectorized_tanh_and_sigmoid_are_accurate_everywhere(RnnActivation activation)
    {
        // One step of an RNN with W = I, R = 0 and no bias is the activation itself, element by element: finite values
        // as one long hidden vector (the vector lanes), all of them also as a batch of one-unit vectors (the padded tail,
        // which keeps infinities and NaN out of the identity product).
        float[] finite = [.. Enumerable.Range(0, 2001).Select(i => -50 + i * 0.05f), 1e-30f, -1e-7f, 3e-4f, 0f, -0f, 0.4999f, 0.5f, 0.5001f, -0.5f,
            87f, -87f, 89f, -89f, 100f, -100f, float.MaxValue, float.MinValue];
        float[] values = [.. finite, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        int n = finite.Length;
        var identity = new float[n * n];
        for (int i = 0; i < n; i++)
        {
            identity[i * n + i] = 1;
        }

        float[] lanes = Activate(finite, batch: 1, hidden: n, identity);
        float[] tails = Activate(values, batch: values.Length, hidden: 1, [1f]);
        Check(finite, lanes);
        Check(values, tails);

        float[] Activate(float[] x, int batch, int hidden, float[] w)
        {
            var y = new float[x.Length];
            var scratch = new float[x.Length + hidden + 3 * x.Length];
            Rnn.Run(x, w, new float[hidden * hidden], default, default, default, y, default, scratch, RnnDirection.Forward, false, 1, batch, hidden, hidden,
                [(int)activation], [0f], [0f], 0);
            return y;
        }

        void Check(float[] x, float[] y)
        {
            for (int i = 0; i < x.Length; i++)
            {
                double expected = activation == RnnActivation.Tanh ? Math.Tanh(x[i]) : 1 / (1 + Math.Exp(-(double)x[i]));
                if (float.IsNaN(x[i]))
                {
                    Assert.True(float.IsNaN(y[i]), $"{activation}(NaN) = {y[i]}");
                    continue;
                }

                double error = Math.Abs(y[i] - expected);
                Assert.True(error <= 1.5e-7 && (Math.Abs(expected) < 1e-37 || error <= 6e-7 * Math.Abs(expected)),
                    $"{activation}({x[i]:R}) = {y[i]:R}, expected {expected:R}");
            }
        }
    }

    [Fact]
    public void The_kernels_allocate_nothing()
    {
        const int seq = 4, batch = 3, input = 5, hidden = 6;
        float[] x = TensorAssert.Random([seq, batch, input], 1).ToFloats();
        float[] w = TensorAssert.Random([2, 4 * hidden, input], 2).ToFloats(), r = TensorAssert.Random([2, 4 * hidden, hidden], 3).ToFloats();
        float[] b = TensorAssert.Random([2, 8 * hidden], 4).ToFloats(), p = TensorAssert.Random([2, 3 * hidden], 5).ToFloats();
        float[] y = new float[seq * 2 * batch * hidden], state = new float[2 * batch * hidden], cell = new float[state.Length];
        float[] scratch = new float[seq * batch * 4 * hidden + 4 * hidden + 3 * batch * hidden];

        // Every list lives in an array made beforehand: only the kernels run while allocations are counted.
        int[] lengths = [4, 1, 3], lstm = [0, 1, 1, 3, 8, 10], gru = [0, 1, 6, 7], rnn = [9];
        float[] parameters = [0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f];

        void RunAll()
        {
            Lstm.Run(x, w, r, b, lengths, state, cell, p, y, state, cell, scratch, RnnDirection.Bidirectional, false, seq, batch, input, hidden,
                lstm, parameters, parameters, 0.5f, false);
            Gru.Run(x, w.AsSpan(0, 2 * 3 * hidden * input), r.AsSpan(0, 2 * 3 * hidden * hidden), b.AsSpan(0, 2 * 6 * hidden), lengths, state, y, state, scratch,
                RnnDirection.Bidirectional, true, seq, batch, input, hidden, gru, parameters.AsSpan(0, 4), parameters.AsSpan(0, 4), 0, true);
            Rnn.Run(x, w.AsSpan(0, hidden * input), r.AsSpan(0, hidden * hidden), b.AsSpan(0, 2 * hidden), default, state.AsSpan(0, batch * hidden),
                y.AsSpan(0, seq * batch * hidden), state.AsSpan(0, batch * hidden), scratch, RnnDirection.Reverse, false, seq, batch, input, hidden,
                rnn, parameters.AsSpan(0, 1), parameters.AsSpan(0, 1), 0);
        }

        RunAll();
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunAll();

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Run_time_sequence_lengths_out_of_range_are_rejected()
    {
        (byte[] model, List<(string Name, Tensor Value)> inputs) = new Layer("GRU") { Seq = 4, Batch = 2, Lengths = [4, 5], LengthsAtRunTime = true }.Build();

        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => ModelRunner.Run(model, inputs.Select(i => i.Value).ToList()));

        Assert.Contains("sequence length of 5", error.Message);
    }

    [Theory]
    [InlineData("LSTM", true)]
    [InlineData("LSTM", false)]
    [InlineData("GRU", true)]
    [InlineData("GRU", false)]
    [InlineData("RNN", true)]
    [InlineData("RNN", false)]
    public void Steps_name_their_kernel_parameters_in_order(string op, bool everything)
    {
        Layer layer = everything
            ? new Layer(op) { Direction = "bidirectional", Layout = 1, Lengths = [5, 2, 4], InitialH = true, InitialC = true, Peepholes = true }
            : new Layer(op) { Bias = false, Y = false };

        IReadOnlyList<PlanStep> steps = ModelRunner.Compile(layer.Build().Model).Plan!.Steps;

        Assert.Equal([op switch { "LSTM" => "Lstm", "GRU" => "Gru", _ => "Rnn" }], steps.Select(s => s.Kernel));
        KernelSignatures.AssertMatch(steps);
    }

    [Fact]
    public void Counts_macs()
    {
        (byte[] model, _) = new Layer("LSTM") { Direction = "bidirectional", Seq = 5, Batch = 3, Input = 4, Hidden = 6 }.Build();

        Assert.Equal(2L * 5 * 3 * 4 * 6 * (4 + 6), ModelRunner.Compile(model).Plan!.Cost.Macs);
    }

    [Fact]
    public void Wrong_weight_shape_is_MSDK2003()
    {
        var b = new OnnxModelBuilder(14);
        string x = b.Input("x", ElementType.Float32, 5, 3, 4);
        b.Output(b.NodeMulti("GRU", [x, b.Initializer("w", TensorAssert.Random([1, 12, 4])), b.Initializer("r", TensorAssert.Random([1, 18, 6]))], 2)[1]);

        Diagnostic error = ModelRunner.CompileError(b.Build());

        Assert.Equal(DiagnosticCodes.ShapeMismatch, error.Code);
        Assert.Contains("input 1 (W)", error.Message);
    }

    [Fact]
    public void Hidden_size_that_contradicts_R_is_MSDK2003()
        => Assert.Equal(DiagnosticCodes.ShapeMismatch, CompileError(new Layer("RNN") { HiddenSizeAttribute = 5 }).Code);

    [Fact]
    public void Unknown_direction_is_MSDK2002()
        => Assert.Contains("'direction'", AssertInvalid(new Layer("LSTM") { Direction = "sideways" }).Message);

    [Fact]
    public void Wrong_activation_count_is_MSDK2002()
        => Assert.Contains("needs 6 activations", AssertInvalid(new Layer("LSTM") { Direction = "bidirectional" }.With(("activations", new[] { "Sigmoid", "Tanh", "Tanh" }))).Message);

    [Fact]
    public void Unknown_activation_is_MSDK2002()
        => Assert.Contains("'Swish'", AssertInvalid(new Layer("RNN").With(("activations", new[] { "Swish" }))).Message);

    [Fact]
    public void ScaledTanh_without_parameters_is_MSDK2002()
        => Assert.Contains("activation_alpha", AssertInvalid(new Layer("RNN").With(("activations", new[] { "ScaledTanh" }))).Message);

    [Fact]
    public void Layout_before_opset_14_is_MSDK2002()
        => Assert.Contains("opset 14", AssertInvalid(new Layer("LSTM") { Opset = 13 }.With(("layout", 0))).Message);

    [Fact]
    public void Non_positive_clip_is_MSDK2002()
        => AssertInvalid(new Layer("GRU").With(("clip", 0f)));

    [Fact]
    public void Constant_sequence_length_out_of_range_is_MSDK2003()
        => Assert.Contains("sequence_lens[1]", CompileError(new Layer("LSTM") { Seq = 4, Batch = 2, Lengths = [4, 7] }).Message);

    [Fact]
    public void Double_input_is_MSDK2005()
    {
        var b = new OnnxModelBuilder(14);
        string x = b.Input("x", ElementType.Float64, 2, 1, 3);
        b.Output(b.NodeMulti("RNN", [x, b.Input("w", ElementType.Float64, 1, 4, 3), b.Input("r", ElementType.Float64, 1, 4, 4)], 2)[1], ElementType.Float64);

        Assert.Equal(DiagnosticCodes.UnsupportedType, ModelRunner.CompileError(b.Build()).Code);
    }

    private static Diagnostic CompileError(Layer layer) => ModelRunner.CompileError(layer.Build().Model);

    private static Diagnostic AssertInvalid(Layer layer)
    {
        Diagnostic error = CompileError(layer);
        Assert.Equal(DiagnosticCodes.InvalidAttribute, error.Code);
        return error;
    }

    private static Tensor[] Execute(CompileResult compiled, IReadOnlyList<(string Name, Tensor Value)> inputs)
    {
        CompiledPlan plan = compiled.Plan!;
        byte[][] outputs = Executor.Run(plan, compiled.Weights, inputs.Select(i => i.Value.Bytes.ToArray()).ToList());
        return plan.Outputs.Select((o, i) => new Tensor(plan.Tensors[o.TensorId].Type, plan.Tensors[o.TensorId].Shape, outputs[i])).ToArray();
    }

    /// <summary>One recurrent node with random weights and inputs, and what to feed it.</summary>
    private sealed record Layer(string Op)
    {
        private (string Name, object Value)[] _attributes = [];

        public int Opset { get; init; } = 14;
        public string Direction { get; init; } = "forward";
        public int Seq { get; init; } = 5;
        public int Batch { get; init; } = 3;
        public int Input { get; init; } = 4;
        public int Hidden { get; init; } = 6;
        public int Layout { get; init; }
        public bool Bias { get; init; } = true;
        public int[]? Lengths { get; init; }
        public bool LengthsAtRunTime { get; init; }
        public bool InitialH { get; init; }
        public bool InitialC { get; init; }
        public bool Peepholes { get; init; }
        public bool WeightsAtRunTime { get; init; }
        public bool StatesAreInputs { get; init; }
        public bool Y { get; init; } = true;
        public bool YH { get; init; } = true;
        public bool YC { get; init; } = true;
        public float Scale { get; init; } = 1;

        public Layer With(params (string Name, object Value)[] attributes) => this with { _attributes = [.. _attributes, .. attributes] };

        public int? HiddenSizeAttribute { get; init; }

        public void AssertMatches()
        {
            (byte[] model, List<(string Name, Tensor Value)> inputs) = Build();
            Tensor[] expected = OrtReference.Run(Build(reference: true).Model, inputs);
            Tensor[] actual = ModelRunner.Run(model, inputs.Select(i => i.Value).ToList());
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                TensorAssert.Close(expected[i], actual[i]);
            }
        }

        /// <summary>
        /// The model and its run-time inputs. ONNX Runtime rejects layout 1, so its <paramref name="reference"/> model
        /// wraps a layout-0 node in the transposes that layout 1 stands for: same inputs, same outputs.
        /// </summary>
        public (byte[] Model, List<(string Name, Tensor Value)> Inputs) Build(bool reference = false)
        {
            bool transposed = reference && Layout == 1;
            int gates = Op switch { "LSTM" => 4, "GRU" => 3, _ => 1 };
            int directions = Direction == "bidirectional" ? 2 : 1;
            int[] state = Layout == 1 ? [Batch, directions, Hidden] : [directions, Batch, Hidden];
            var b = new OnnxModelBuilder(Opset);
            var feeds = new List<(string Name, Tensor Value)>();

            string Feed(string name, Tensor value, bool atRunTime)
            {
                if (!atRunTime)
                {
                    return b.Initializer(name, value);
                }

                feeds.Add((name, value));
                return b.Input(name, value.Type, OrtAgreement.Dims(value.Shape));
            }

            string x = Feed("x", TensorAssert.Random(Layout == 1 ? [Batch, Seq, Input] : [Seq, Batch, Input], 1), true);
            string? State(string? name) => transposed && name is not null ? b.Node("Transpose", [name], ("perm", new[] { 1, 0, 2 })) : name;
            var inputs = new List<string?>
            {
                transposed ? b.Node("Transpose", [x], ("perm", new[] { 1, 0, 2 })) : x,
                Feed("w", TensorAssert.Random([directions, gates * Hidden, Input], 2, -Scale, Scale), WeightsAtRunTime),
                Feed("r", TensorAssert.Random([directions, gates * Hidden, Hidden], 3, -Scale, Scale), WeightsAtRunTime),
                Bias ? Feed("bias", TensorAssert.Random([directions, 2 * gates * Hidden], 4, -Scale, Scale), WeightsAtRunTime) : null,
                Lengths is null ? null : Feed("lengths", Tensor.From<int>(ElementType.Int32, [Batch], Lengths), LengthsAtRunTime),
                State(InitialH ? Feed("h0", TensorAssert.Random(state, 5), StatesAreInputs) : null),
            };
            if (Op == "LSTM")
            {
                inputs.Add(State(InitialC ? Feed("c0", TensorAssert.Random(state, 6), StatesAreInputs) : null));
                inputs.Add(Peepholes ? Feed("p", TensorAssert.Random([directions, 3 * Hidden], 7), WeightsAtRunTime) : null);
            }

            while (inputs[^1] is null)
            {
                inputs.RemoveAt(inputs.Count - 1);
            }

            bool[] wanted = Op == "LSTM" ? [Y, YH, YC] : [Y, YH];
            string[] outputs = wanted.Select((on, i) => on ? $"out{i}" : string.Empty).ToArray();
            (string, object)[] attributes = [("direction", Direction), ("hidden_size", HiddenSizeAttribute ?? Hidden), .. Layout == 0 || transposed ? [] : new (string, object)[] { ("layout", Layout) }, .. _attributes];
            b.NodeWithOutputs(Op, inputs.ToArray(), outputs.Select(o => transposed && o.Length > 0 ? o + "_time_major" : o).ToArray(), attributes);
            for (int i = 0; i < outputs.Length; i++)
            {
                if (outputs[i].Length > 0)
                {
                    b.Output(transposed ? b.Node("Transpose", [outputs[i] + "_time_major"], ("perm", i == 0 ? new[] { 2, 0, 1, 3 } : new[] { 1, 0, 2 })) : outputs[i]);
                }
            }

            return (b.Build(), feeds);
        }
    }
}
