using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Operators.Common;

/// <summary>
/// The loop nest of a broadcast elementwise kernel: the output shape collapsed to as few dimensions
/// as possible, with each operand's element stride per dimension (0 where it is broadcast).
/// </summary>
public sealed record BroadcastLayout(int[] Shape, int[][] Strides)
{
    /// <summary>Computes the layout of operands <paramref name="inputs"/> broadcast to <paramref name="output"/>.</summary>
    public static BroadcastLayout Create(int[] output, params int[][] inputs) => Create(output, inputs, inputs.Select(i => Shapes.Strides(i)).ToArray());

    /// <summary>
    /// Computes the layout of operands <paramref name="inputs"/> broadcast to <paramref name="output"/> whose
    /// elements lie at <paramref name="elementStrides"/> (one per dimension of each operand: a transposed view,
    /// or a prefix of a larger tensor's strides) instead of densely.
    /// </summary>
    public static BroadcastLayout Create(int[] output, int[][] inputs, int[][] elementStrides)
    {
        int rank = output.Length;
        var dims = new List<int>();
        var strides = inputs.Select(_ => new List<int>()).ToArray();
        for (int d = 0; d < rank; d++)
        {
            if (output[d] == 1)
            {
                continue; // a size-1 output dimension never advances
            }

            dims.Add(output[d]);
            for (int k = 0; k < inputs.Length; k++)
            {
                int offset = rank - inputs[k].Length;
                int id = d - offset;
                bool present = id >= 0 && inputs[k][id] != 1;
                strides[k].Add(present ? elementStrides[k][id] : 0);
            }
        }

        // Merge dimension d into d-1 when every operand walks both as one contiguous (or broadcast) run.
        for (int d = dims.Count - 1; d > 0; d--)
        {
            bool mergeable = true;
            for (int k = 0; k < inputs.Length && mergeable; k++)
            {
                int outer = strides[k][d - 1], inner = strides[k][d];
                mergeable = (outer == 0 && inner == 0) || (inner != 0 && outer == (long)inner * dims[d]);
            }

            if (mergeable)
            {
                dims[d - 1] *= dims[d];
                dims.RemoveAt(d);
                foreach (List<int> s in strides)
                {
                    s.RemoveAt(d - 1);
                }
            }
        }

        if (dims.Count == 0)
        {
            dims.Add(1);
            foreach (List<int> s in strides)
            {
                s.Add(0);
            }
        }

        return new BroadcastLayout(dims.ToArray(), strides.Select(s => s.ToArray()).ToArray());
    }
}
