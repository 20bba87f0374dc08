using ModelSdk.Compiler.Execution;
using ModelSdk.Compiler.Import;
using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Lowering;
using ModelSdk.Compiler.Operators;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;
using ModelSdk.Runtime;
using ModelSdk.Runtime.Kernels;

namespace ModelSdk.Compiler.Tests.Operators;

/// <summary>
/// The float32 GEMM engine below the operators: every vector width forced in turn, every operand layout
/// (row-major, transposed, pre-packed), every fused activation, threads, batches and allocations, against a
/// double-precision reference.
/// </summary>
public class GemmEngineTests
{
    public static TheoryData<int> Widths => new() { 512, 256, 128 };

    public static TheoryData<int, int, int, int> Sizes()
    {
        var data = new TheoryData<int, int, int, int>();
        (int M, int N, int K)[] sizes =
        [
            (1, 1, 1), (1, 70, 33), (1, 130, 513), (1, 64, 2), (2, 200, 31), (5, 15, 7), (6, 64, 256), (7, 65, 257), (13, 130, 513), (125, 600, 40), (3, 17, 0),
        ];
        foreach ((int m, int n, int k) in sizes)
        {
            foreach (int width in new[] { 512, 256, 128 })
            {
                data.Add(m, n, k, width);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_width_and_operand_layout_matches_the_reference(int m, int n, int k, int bits)
    {
        float[] a = Random(m * k, 1), b = Random(k * n, 2);
        double[] expected = Reference(a, b, m, n, k);
        foreach (GemmOperand aLayout in Enum.GetValues<GemmOperand>())
        {
            foreach (GemmOperand bLayout in Enum.GetValues<GemmOperand>())
            {
                var y = new float[m * n];
                y.AsSpan().Fill(float.NaN); // every element must be written, none read
                Gemm.Multiply(Stored(a, aLayout, m, k, packA: true), aLayout, Stored(b, bLayout, k, n, packA: false), bLayout, y, m, n, k, new GemmEpilogue(), null, Width(bits));
                AssertClose(expected, y, $"A {aLayout}, B {bLayout}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Every_activation_after_bias_and_residual_matches_the_reference(Activation activation, int bits)
    {
        // A ragged row panel and a ragged column panel; one row takes the matrix-vector path. Without a scale,
        // the micro-kernel finishes a per-row bias with the common activations (or a residual) in registers,
        // padded tiles included; with it, and for the other epilogues, a second pass over the tile does.
        foreach (int rows in new[] { 7, 1 })
        {
            foreach ((float scale, bool residual) in new[] { (0.5f, true), (1f, true), (1f, false) })
            {
                CheckEpilogue(activation, bits, rows, 83, 19, scale, residual);
            }
        }

        // One depth pass (a single row block over a few column panels), and two depth blocks, where the last one
        // adds to the sums in y before the epilogue (more rows than a row block; more columns than the scratch
        // holds over the whole depth).
        foreach ((int rows, int columns) in new[] { (13, 83), (130, 83), (13, 520) })
        {
            CheckEpilogue(activation, bits, rows, columns, 300, 1, residual: false);
            CheckEpilogue(activation, bits, rows, columns, 300, 1, residual: true);
        }
    }

    private static void CheckEpilogue(Activation activation, int bits, int m, int n, int k, float scale, bool residual)
    {
        (float alpha, float beta) = Parameters(activation);
        float[] a = Random(m * k, 3), b = Random(k * n, 4), r = residual ? Random(m * n, 6) : [];
        foreach ((string name, float[] c, int rowStride, int colStride) in Biases(m, n))
        {
            double[] product = Reference(a, b, m, n, k);
            var expected = new double[m * n];
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double v = scale * product[i * n + j] + (c.Length == 0 ? 0 : 1.5 * c[i * rowStride + j * colStride]) + (residual ? r[i * n + j] : 0);
                    expected[i * n + j] = ActivationFunctions.Apply(activation, (float)v, alpha, beta);
                }
            }

            foreach (GemmOperand bLayout in new[] { GemmOperand.RowMajor, GemmOperand.Packed })
            {
                var y = new float[m * n];
                var epilogue = new GemmEpilogue(scale, c, rowStride, colStride, 1.5f, r, activation, alpha, beta);
                Gemm.Multiply(a, GemmOperand.RowMajor, Stored(b, bLayout, k, n, packA: false), bLayout, y, m, n, k, epilogue, null, Width(bits));
                AssertClose(expected, y, $"{activation}, m {m}, k {k}, alpha {scale}, residual {residual}, bias {name}, B {bLayout}");
            }
        }
    }

    public static TheoryData<Activation, int> Activations()
    {
        var data = new TheoryData<Activation, int>();
        foreach (Activation activation in Enum.GetValues<Activation>())
        {
            foreach (int width in new[] { 512, 256, 128 })
            {
                data.Add(activation, width);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void The_public_kernel_follows_the_forced_width_and_runs_batches_over_threads(int bits)
    {
        // y[2, 3] = x[2, 1] · w[3]: A broadcast over the last batch dimension, a pre-packed B over the first.
        const int m = 37, n = 90, k = 50;
        float[] a = Random(2 * m * k, 7), b = Random(3 * k * n, 8), residual = Random(6 * m * n, 9);
        var packed = new float[3 * GemmPacking.PackedBLength(k, n)];
        for (int t = 0; t < 3; t++)
        {
            GemmPacking.PackB(b.AsSpan(t * k * n, k * n), false, k, n, packed.AsSpan(t * GemmPacking.PackedBLength(k, n), GemmPacking.PackedBLength(k, n)));
        }

        var single = new float[6 * m * n];
        var parallel = new float[6 * m * n];
        using var context = new KernelContext(2);
        SimdWidth saved = Simd.Forced;
        Simd.Forced = Width(bits);
        try
        {
            Run(single, KernelContext.SingleThreaded);
            context.Workers.BeginRun();
            try
            {
                Run(parallel, context);
            }
            finally
            {
                context.Workers.EndRun();
            }
        }
        finally
        {
            Simd.Forced = saved;
        }

        // The split over threads changes no sum.
        Assert.Equal(single, parallel);
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                int t = i * 3 + j;
                double[] product = Reference(a.AsSpan(i * m * k, m * k).ToArray(), b.AsSpan(j * k * n, k * n).ToArray(), m, n, k);
                double[] expected = product.Select((v, e) => (double)MathF.Max((float)(v + residual[t * m * n + e]), 0)).ToArray();
                AssertClose(expected, single.AsSpan(t * m * n, m * n).ToArray(), $"product {t}");
            }
        }

        void Run(float[] y, KernelContext ctx) => Gemm.Run(
            a, packed, default, residual, y, m, n, k, transA: false, transB: false, packedB: true, alpha: 1, beta: 0, cRowStride: 0, cColStride: 0,
            batchShape: [2, 3], aBatchStrides: [m * k, 0], bBatchStrides: [0, GemmPacking.PackedBLength(k, n)],
            Activation.Relu, 0, 0, ctx);
    }

    [Theory]
    [InlineData(150, 300, 200, false)] // split by columns
    [InlineData(500, 160, 300, false)] // enough rows to split a pre-packed B's product by rows
    [InlineData(150, 300, 200, true)] // a convolution's epilogue, finished in registers
    [InlineData(500, 160, 300, true)]
    [InlineData(96, 49, 576, true)] // a 1×1 convolution on a 7×7 plane, split by rows: its input packed once for every item
    public void Large_products_split_over_threads_give_the_single_thread_result(int m, int n, int k, bool perRowBias)
    {
        float[] a = Random(m * k, 10), b = Random(k * n, 11), c = Random(perRowBias ? m : n, 12);
        GemmEpilogue epilogue = perRowBias
            ? new GemmEpilogue(1, c, 1, 0, 1, activation: Activation.HardSwish)
            : new GemmEpilogue(1, c, 0, 1, 1, activation: Activation.Tanh);
        using var context = new KernelContext(2);
        foreach (GemmOperand bLayout in Enum.GetValues<GemmOperand>())
        {
            float[] stored = Stored(b, bLayout, k, n, packA: false);
            var single = new float[m * n];
            var parallel = new float[m * n];
            Gemm.Multiply(a, GemmOperand.RowMajor, stored, bLayout, single, m, n, k, epilogue, null);
            long loops = context.Workers.ParallelLoops;
            context.Workers.BeginRun();
            Gemm.Multiply(a, GemmOperand.RowMajor, stored, bLayout, parallel, m, n, k, epilogue, context);
            context.Workers.EndRun();
            Assert.True(context.Workers.ParallelLoops > loops, $"{m}×{n}×{k}, B {bLayout}: the product did not split");
            Assert.Equal(single, parallel);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void A_single_row_split_over_threads_gives_the_single_thread_result(int bits)
    {
        // One row of A against a pre-packed B: the matrix-vector path, its columns split over the threads.
        const int m = 1, n = 1000, k = 601;
        float[] a = Random(m * k, 15), b = Random(k * n, 16), c = Random(n, 17);
        float[] packed = Stored(b, GemmOperand.Packed, k, n, packA: false);
        var single = new float[m * n];
        var parallel = new float[m * n];
        using var context = new KernelContext(2);
        var epilogue = new GemmEpilogue(1, c, 0, 1, 1, activation: Activation.Relu);
        Gemm.Multiply(a, GemmOperand.RowMajor, packed, GemmOperand.Packed, single, m, n, k, epilogue, null, Width(bits));
        context.Workers.BeginRun();
        Gemm.Multiply(a, GemmOperand.RowMajor, packed, GemmOperand.Packed, parallel, m, n, k, epilogue, context, Width(bits));
        context.Workers.EndRun();
        Assert.Equal(single, parallel);
        double[] expected = Reference(a, b, m, n, k).Select((v, j) => (double)MathF.Max((float)(v + c[j]), 0)).ToArray();
        AssertClose(expected, single, "one row");
    }

    [Fact]
    public void Runs_allocate_nothing_after_the_first()
    {
        const int m = 64, n = 100, k = 70;
        float[] a = Random(m * k, 13), packed = new float[GemmPacking.PackedBLength(k, n)], b = Random(k * n, 14), y = new float[m * n];
        GemmPacking.PackB(b, false, k, n, packed);

        // The lists live in arrays made beforehand: a debug build's collection expressions allocate.
        int[] one = [1], zero = [0];
        for (int i = 0; i < 20; i++)
        {
            Run(packed, packedB: true);
            Run(b, packedB: false);
        }

        // Over many calls, so that a one-off allocation of the JIT's tiering on this thread cannot pass for one
        // per call, while any real per-call allocation (24 bytes at least) shows up many times over.
        const int calls = 200;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            Run(packed, packedB: true);
            Run(b, packedB: false);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < calls, $"the GEMM allocated {allocated} bytes in {calls} calls");

        void Run(float[] right, bool packedB) => Gemm.Run(
            a, right, default, default, y, m, n, k, false, false, packedB, 1, 0, 0, 0, one, zero, zero, Activation.Gelu, 0, 0, KernelContext.SingleThreaded);
    }

    [Fact]
    public void A_packed_right_operand_keeps_its_layout_whatever_the_shape()
    {
        // The layout is fixed (64-column panels, the last rounded up to 16), so a plan compiled on one machine runs on any.
        const int k = 3, n = 70;
        float[] b = Enumerable.Range(0, k * n).Select(i => (float)i).ToArray();
        var packed = new float[GemmPacking.PackedBLength(k, n)];
        GemmPacking.PackB(b, false, k, n, packed);
        Assert.Equal(k * (64 + 16), packed.Length);
        Assert.Equal(b[1 * n + 5], packed[1 * 64 + 5]); // (1, 5) in the first panel
        Assert.Equal(b[2 * n + 69], packed[64 * k + 2 * 16 + 5]); // (2, 69) in the last, 16 wide
        Assert.Equal(0, packed[64 * k + 2 * 16 + 6]); // its padding
    }

    [Theory]
    [InlineData("MatMul", Activation.Sigmoid)]
    [InlineData("MatMul", Activation.HardSwish)]
    [InlineData("Gemm", Activation.Relu)]
    [InlineData("Gemm", Activation.GeluTanh)]
    public void An_epilogue_set_on_the_node_is_applied_in_the_store(string op, Activation activation)
    {
        // The fusion pass is not part of this change: set Node.Epilogue by hand, as it would.
        const int m = 5, k = 33, n = 70;
        float[] w = Random(k * n, 20), bias = Random(n, 21), x = Random(m * k, 22), r = Random(m * n, 23);
        var builder = new OnnxModelBuilder();
        string xName = builder.Input("x", ElementType.Float32, m, k);
        string rName = builder.Input("r", ElementType.Float32, m, n);
        string wName = builder.Initializer("w", new Tensor(ElementType.Float32, [k, n], Bytes(w)));
        string[] inputs = op == "Gemm" ? [xName, wName, builder.Initializer("bias", new Tensor(ElementType.Float32, [n], Bytes(bias)))] : [xName, wName];
        builder.Output(builder.Node(op, inputs));
        builder.Output(builder.Node("Identity", [rName]));
        string path = ModelRunner.WriteTemp(builder.Build());
        ImportResult imported = OnnxImporter.Import(path);
        Graph graph = imported.Graph;
        PassPipeline.Run(graph, OperatorRegistry.Default, path);
        Node node = graph.Nodes.Single(nd => nd.OpType == op);
        Assert.True(((IAcceptsEpilogue)OperatorRegistry.Default.Find(node.Domain, node.OpType, graph.Opset)!).AcceptsEpilogue(node));
        node.Epilogue = new Epilogue(activation, Residual: graph.Inputs.Single(v => v.Name == rName));

        PlanWithWeights built = PlanBuilder.Build(graph, OperatorRegistry.Default, imported.Sha256, path);
        PlanStep step = built.Plan.Steps.Single(s => s.Kernel == nameof(Gemm));
        Assert.Equal(1, step["packedB"].IntValue);
        Assert.Equal($"{nameof(Activation)}.{activation}", step["activation"].Symbol);
        byte[][] outputs = Executor.Run(built.Plan, built.Weights, [Bytes(x), Bytes(r)]);
        float[] y = new Tensor(ElementType.Float32, [m, n], outputs[0]).Span<float>().ToArray();

        double[] product = Reference(x, w, m, n, k);
        double[] expected = product.Select((v, e) => (double)ActivationFunctions.Apply(
            activation, (float)(v + (op == "Gemm" ? bias[e % n] : 0) + r[e]), 0, 0)).ToArray();
        AssertClose(expected, y, op);
    }

    private static SimdWidth Width(int bits) => bits switch { 512 => SimdWidth.W512, 256 => SimdWidth.W256, _ => SimdWidth.W128 };

    private static (float Alpha, float Beta) Parameters(Activation activation) => activation switch
    {
        Activation.LeakyRelu => (0.1f, 0),
        Activation.Clip => (-0.5f, 0.75f),
        Activation.HardSigmoid => (0.2f, 0.5f),
        _ => (0, 0),
    };

    private static IEnumerable<(string Name, float[] C, int RowStride, int ColStride)> Biases(int m, int n)
    {
        yield return ("none", [], 0, 0);
        yield return ("scalar", Random(1, 30), 0, 0);
        yield return ("row", Random(n, 31), 0, 1);
        yield return ("column", Random(m, 32), 1, 0);
        yield return ("full", Random(m * n, 33), n, 1);
        yield return ("strided", Random(2 * n, 34), 0, 2);
    }

    /// <summary><paramref name="x"/> (<c>[rows, cols]</c> row-major) stored in <paramref name="layout"/>.</summary>
    private static float[] Stored(float[] x, GemmOperand layout, int rows, int cols, bool packA)
    {
        switch (layout)
        {
            case GemmOperand.RowMajor:
                return x;
            case GemmOperand.Transposed:
                var t = new float[x.Length];
                for (int i = 0; i < rows; i++)
                {
                    for (int j = 0; j < cols; j++)
                    {
                        t[j * rows + i] = x[i * cols + j];
                    }
                }

                return t;
            default:
                if (packA)
                {
                    var pa = new float[GemmPacking.PackedALength(rows, cols)];
                    GemmPacking.PackA(x, false, rows, cols, pa);
                    return pa;
                }

                var pb = new float[GemmPacking.PackedBLength(rows, cols)];
                GemmPacking.PackB(x, false, rows, cols, pb);
                return pb;
        }
    }

    private static double[] Reference(float[] a, float[] b, int m, int n, int k)
    {
        var y = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++)
            {
                double x = a[i * k + p];
                for (int j = 0; j < n; j++)
                {
                    y[i * n + j] += x * b[p * n + j];
                }
            }
        }

        return y;
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"{what}: NaN at {i}");
            error += (expected[i] - actual[i]) * (expected[i] - actual[i]);
            norm += expected[i] * expected[i];
        }

        Assert.True(error <= 1e-10 * Math.Max(norm, 1e-30), $"{what}: relative L2 error {Math.Sqrt(error / Math.Max(norm, 1e-30)):E2}");
    }

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static byte[] Bytes(float[] x) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray();
}
