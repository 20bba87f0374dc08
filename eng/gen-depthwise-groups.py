#!/usr/bin/env python3
# Prints the unrolled row-group routines of src/ModelSdk.Runtime/Kernels/DepthwiseBlocked.cs (Group8S1K3 … Group8S2K5):
# a group of G outputs of one row, stride s, kernel width k. Regenerate after changing the pattern and paste the
# output over those routines: python3 eng/gen-depthwise-groups.py
G = 8
def routine(s, k):
    out = []
    name = f"Group{G}S{s}K{k}"
    out.append(f"    /// <summary>{G} consecutive outputs of a row, stride {s}, kernel width {k}: the weights of a kernel row stay in registers and each patch column is loaded once for every output that reads it.</summary>")
    out.append("    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]")
    out.append(f"    private static void {name}(float** rows, int kh, int column, float* weights, Vector512<float> bias, float* results, Activation activation, float alpha, float beta)")
    out.append("    {")
    out.append("        " + ", ".join(f"a{j} = bias" for j in range(G)).join(["Vector512<float> ", ";"]))
    out.append("        for (int ky = 0; ky < kh; ky++)")
    out.append("        {")
    out.append("            float* p = rows[ky] + column;")
    out.append(f"            float* wr = weights + ky * {k * 16};")
    for i in range(k):
        out.append(f"            Vector512<float> w{i} = Vector512.Load(wr + {i * 16});")
    out.append("            Vector512<float> v;")
    cols = s * (G - 1) + k
    for c in range(cols):
        uses = [(j, c - s * j) for j in range(G) if 0 <= c - s * j < k]
        if not uses:
            continue
        out.append(f"            v = Vector512.Load(p + {c * 16});")
        for j, t in uses:
            out.append(f"            a{j} = Avx512F.FusedMultiplyAdd(v, w{t}, a{j});")
    out.append("        }")
    out.append("")
    out.append("        Store8(results, a0, a1, a2, a3, a4, a5, a6, a7, activation, alpha, beta);")
    out.append("    }")
    return "\n".join(out)
print("\n\n".join(routine(s, k) for s in (1, 2) for k in (3, 5)))
