using ModelSdk.Compiler.Ir;
using ModelSdk.Compiler.Passes;
using ModelSdk.Compiler.Tests.Support;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Passes;

public class AttentionFusionTests
{
    [Fact]
    public void Scaled_masked_attention_becomes_one_node()
    {
        var b = new OnnxModelBuilder(13);
        string q = b.Input("q", ElementType.Float32, 2, 3, 5, 8);
        string k = b.Input("k", ElementType.Float32, 2, 3, 7, 8);
        string v = b.Input("v", ElementType.Float32, 2, 3, 7, 6);
        string mask = b.Input("mask", ElementType.Float32, 2, 1, 1, 7);
        string scores = b.Node("MatMul", [q, b.Node("Transpose", [k], ("perm", new[] { 0, 1, 3, 2 }))]);
        string scaled = b.Node("Div", [scores, b.Initializer("root", Tensor.FromFloats([], MathF.Sqrt(8)))]);
        string probabilities = b.Node("Softmax", [b.Node("Add", [scaled, mask])], ("axis", -1));
        string y = b.Node("MatMul", [probabilities, v]);
        b.Output(y);
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new AttentionFusionPass());

        Assert.Equal(
            """
            input q: float32[2,3,5,8]
            input k: float32[2,3,7,8]
            input v: float32[2,3,7,6]
            input mask: float32[2,1,1,7]
            transpose_0_0: float32[2,3,8,7] = Transpose(k) perm=[0,1,3,2]
            matmul_1_0: float32[2,3,5,7] = MatMul(q, transpose_0_0)
            div_2_0: float32[2,3,5,7] = Div(matmul_1_0, 2.828427)
            add_3_0: float32[2,3,5,7] = Add(div_2_0, mask)
            softmax_4_0: float32[2,3,5,7] = Softmax(add_3_0) axis=-1
            matmul_5_0: float32[2,3,5,6] = MatMul(softmax_4_0, v)
            output matmul_5_0

            """.ReplaceLineEndings("\n"), before);
        Assert.Equal(
            """
            input q: float32[2,3,5,8]
            input k: float32[2,3,7,8]
            input v: float32[2,3,7,6]
            input mask: float32[2,1,1,7]
            matmul_5_0: float32[2,3,5,6] = modelsdk.fused.Attention(q, k, v, mask) key_transposed=0 scale=0.35355338
            output matmul_5_0

            """.ReplaceLineEndings("\n"), after);
        Assert.Equal(["Attention"], PassHarness.Kernels(model));
        OrtAgreement.AssertMatches(model, Inputs([2, 3, 5, 8], [2, 3, 7, 8], [2, 3, 7, 6], [2, 1, 1, 7]));
    }

    /// <summary>Layouts and spellings: K already transposed, scale as a product, mask on the left or absent, broadcast batches, opset 11.</summary>
    [Theory]
    [InlineData(13, new[] { 2, 3, 5, 8 }, new[] { 2, 3, 8, 7 }, new[] { 2, 3, 7, 8 }, new[] { 1, 7 }, "mul", true)]
    [InlineData(13, new[] { 2, 3, 5, 8 }, new[] { 2, 3, 7, 8 }, new[] { 2, 3, 7, 8 }, null, "none", false)]
    [InlineData(13, new[] { 4, 5, 16 }, new[] { 4, 9, 16 }, new[] { 4, 9, 3 }, new[] { 4, 5, 9 }, "mul-left", false)]
    [InlineData(13, new[] { 2, 1, 5, 8 }, new[] { 1, 3, 8, 7 }, new[] { 7, 8 }, new[] { 5, 7 }, "div", true)] // batch broadcast
    [InlineData(11, new[] { 2, 3, 37, 8 }, new[] { 2, 3, 8, 37 }, new[] { 2, 3, 37, 19 }, new[] { 2, 1, 37, 37 }, "div", true)]
    public void Attention_variants_fuse_and_match_onnxruntime(int opset, int[] qShape, int[] keyShape, int[] vShape, int[]? maskShape, string scaling, bool keyTransposed)
    {
        var b = new OnnxModelBuilder(opset);
        string q = b.Input("q", ElementType.Float32, OrtAgreement.Dims(qShape));
        string k = b.Input("k", ElementType.Float32, OrtAgreement.Dims(keyShape));
        string v = b.Input("v", ElementType.Float32, OrtAgreement.Dims(vShape));
        string? mask = maskShape is null ? null : b.Input("mask", ElementType.Float32, OrtAgreement.Dims(maskShape));
        int rank = keyShape.Length;
        int[] swap = [.. Enumerable.Range(0, rank - 2), rank - 1, rank - 2];
        string scores = b.Node("MatMul", [q, keyTransposed ? k : b.Node("Transpose", [k], ("perm", swap))]);
        string factor = b.Initializer("factor", Tensor.FromFloats([1], scaling == "div" ? 2.5f : 0.4f));
        string scaled = scaling switch
        {
            "mul" => b.Node("Mul", [scores, factor]),
            "mul-left" => b.Node("Mul", [factor, scores]),
            "div" => b.Node("Div", [scores, factor]),
            _ => scores,
        };
        string logits = mask is null ? scaled : b.Node("Add", scaling == "mul-left" ? [mask, scaled] : [scaled, mask]);
        string probabilities = b.Node("Softmax", [logits], ("axis", qShape.Length - 1));
        b.Output(b.Node("MatMul", [probabilities, v]));
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new AttentionFusionPass());

        Assert.Contains($"modelsdk.fused.Attention(q, k, v, {mask ?? "-"}) key_transposed={(keyTransposed ? 1 : 0)}", after);
        Assert.DoesNotContain("Softmax", after);
        OrtAgreement.AssertMatches(model, Inputs(qShape, keyShape, vShape, maskShape));
    }

    /// <summary>
    /// Exporters' multi-head layout: heads split from <c>[batch, sequence, heads, depth]</c> by Transposes
    /// (Kᵀ by perm 0,2,3,1) and merged back after the product. Every Transpose is read in place by the kernel;
    /// a second reader of one keeps that Transpose (and only it) in the graph.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Head_split_and_merge_transposes_are_read_in_place(bool valueTransposeShared)
    {
        var b = new OnnxModelBuilder(13);
        string q = b.Input("q", ElementType.Float32, 2, 5, 3, 8);
        string k = b.Input("k", ElementType.Float32, 2, 7, 3, 8);
        string v = b.Input("v", ElementType.Float32, 2, 7, 3, 6);
        string mask = b.Input("mask", ElementType.Float32, 2, 1, 1, 7);
        int[] heads = [0, 2, 1, 3];
        string qh = b.Node("Transpose", [q], ("perm", heads));
        string kt = b.Node("Transpose", [k], ("perm", new[] { 0, 2, 3, 1 }));
        string vh = b.Node("Transpose", [v], ("perm", heads));
        string scaled = b.Node("Mul", [b.Node("MatMul", [qh, kt]), b.Initializer("factor", Tensor.FromFloats([], 0.35f))]);
        string probabilities = b.Node("Softmax", [b.Node("Add", [scaled, mask])], ("axis", -1));
        string merged = b.Node("Transpose", [b.Node("MatMul", [probabilities, vh])], ("perm", heads));
        b.Output(b.Node("Reshape", [merged, b.Initializer("shape", Tensor.FromInt64s([3], [2, 5, 18]))]));
        if (valueTransposeShared)
        {
            b.Output(vh);
        }

        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new AttentionFusionPass());

        string vOperand = valueTransposeShared ? "transpose_2_0" : "v";
        string vPerm = valueTransposeShared ? "" : " v_perm=[0,2,1,3]";
        Assert.Contains($"transpose_8_0: float32[2,5,3,6] = modelsdk.fused.Attention(q, k, {vOperand}, mask) k_perm=[0,2,1,3] key_transposed=0 q_perm=[0,2,1,3] scale=0.35{vPerm} y_perm=[0,2,1,3]", after);
        Assert.Equal(valueTransposeShared ? 1 : 0, after.Split('\n').Count(line => line.Contains("= Transpose(")));
        OrtAgreement.AssertMatches(model, Inputs([2, 5, 3, 8], [2, 7, 3, 8], [2, 7, 3, 6], [2, 1, 1, 7]));
    }

    [Fact]
    public void A_transposed_key_view_whose_rows_stay_whole_is_read_in_place()
    {
        // Kᵀ = Transpose(x [depth, batch, keys], perm 1,0,2): rows of Kᵀ are whole rows of x, 14 apart.
        var b = new OnnxModelBuilder(13);
        string q = b.Input("q", ElementType.Float32, 2, 5, 8);
        string k = b.Input("k", ElementType.Float32, 8, 2, 7);
        string v = b.Input("v", ElementType.Float32, 2, 7, 6);
        string kt = b.Node("Transpose", [k], ("perm", new[] { 1, 0, 2 }));
        b.Output(b.Node("MatMul", [b.Node("Softmax", [b.Node("MatMul", [q, kt])], ("axis", -1)), v]));
        byte[] model = b.Build();

        (_, string after) = PassHarness.Run(model, new AttentionFusionPass());

        Assert.Contains("= modelsdk.fused.Attention(q, k, v, -) k_perm=[1,0,2] key_transposed=1 scale=1", after);
        Assert.DoesNotContain("Transpose(", after);
        OrtAgreement.AssertMatches(model, Inputs([2, 5, 8], [8, 2, 7], [2, 7, 6], null));
    }

    [Fact]
    public void Probabilities_used_elsewhere_prevent_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string q = b.Input("q", ElementType.Float32, 2, 5, 8);
        string k = b.Input("k", ElementType.Float32, 2, 8, 7);
        string v = b.Input("v", ElementType.Float32, 2, 7, 8);
        string probabilities = b.Node("Softmax", [b.Node("MatMul", [q, k])], ("axis", -1));
        b.Output(b.Node("MatMul", [probabilities, v]));
        b.Output(probabilities);
        byte[] model = b.Build();

        (string before, string after) = PassHarness.Run(model, new AttentionFusionPass());

        Assert.Equal(before, after);
        OrtAgreement.AssertMatches(model, Inputs([2, 5, 8], [2, 8, 7], [2, 7, 8], null));
    }

    [Fact]
    public void Softmax_over_another_axis_prevents_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string q = b.Input("q", ElementType.Float32, 2, 5, 8);
        string k = b.Input("k", ElementType.Float32, 2, 8, 5);
        string v = b.Input("v", ElementType.Float32, 2, 5, 8);
        b.Output(b.Node("MatMul", [b.Node("Softmax", [b.Node("MatMul", [q, k])], ("axis", 1)), v]));

        (string before, string after) = PassHarness.Run(b.Build(), new AttentionFusionPass());

        Assert.Equal(before, after);
    }

    [Fact]
    public void Opset_11_softmax_with_its_default_axis_is_not_attention()
    {
        // Before opset 13 the default axis 1 normalises over everything after the batch, not per row.
        var b = new OnnxModelBuilder(11);
        string q = b.Input("q", ElementType.Float32, 2, 5, 8);
        string k = b.Input("k", ElementType.Float32, 2, 8, 5);
        string v = b.Input("v", ElementType.Float32, 2, 5, 8);
        b.Output(b.Node("MatMul", [b.Node("Softmax", [b.Node("MatMul", [q, k])]), v]));

        (string before, string after) = PassHarness.Run(b.Build(), new AttentionFusionPass());

        Assert.Equal(before, after);
    }

    [Fact]
    public void A_mask_that_widens_the_scores_prevents_the_fusion()
    {
        var b = new OnnxModelBuilder(13);
        string q = b.Input("q", ElementType.Float32, 5, 8);
        string k = b.Input("k", ElementType.Float32, 8, 7);
        string v = b.Input("v", ElementType.Float32, 7, 8);
        string mask = b.Input("mask", ElementType.Float32, 2, 5, 7);
        b.Output(b.Node("MatMul", [b.Node("Softmax", [b.Node("Add", [b.Node("MatMul", [q, k]), mask])], ("axis", -1)), v]));

        (string before, string after) = PassHarness.Run(b.Build(), new AttentionFusionPass());

        Assert.Equal(before, after);
    }

    private static (string, Tensor)[] Inputs(int[] q, int[] k, int[] v, int[]? mask)
        =>
        [
            ("q", TensorAssert.Random(q, 1, -2, 2)),
            ("k", TensorAssert.Random(k, 2, -2, 2)),
            ("v", TensorAssert.Random(v, 3)),
            .. mask is null ? Array.Empty<(string, Tensor)>() : [("mask", TensorAssert.Random(mask, 4, -3, 0))],
        ];
}
