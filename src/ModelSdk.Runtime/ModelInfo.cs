namespace ModelSdk.Runtime;

/// <summary>Element type of a model input or output, as exposed by <see cref="TensorInfo"/>.</summary>
public enum TensorElementType
{
    /// <summary><c>float</c></summary>
    Float32,
    /// <summary><c>System.Half</c></summary>
    Float16,
    /// <summary><see cref="Runtime.BFloat16"/></summary>
    BFloat16,
    /// <summary><c>double</c></summary>
    Float64,
    /// <summary><c>sbyte</c></summary>
    Int8,
    /// <summary><c>byte</c></summary>
    UInt8,
    /// <summary><c>short</c></summary>
    Int16,
    /// <summary><c>ushort</c></summary>
    UInt16,
    /// <summary><c>int</c></summary>
    Int32,
    /// <summary><c>uint</c></summary>
    UInt32,
    /// <summary><c>long</c></summary>
    Int64,
    /// <summary><c>ulong</c></summary>
    UInt64,
    /// <summary><c>bool</c></summary>
    Bool,
}

/// <summary>Name, element type and fixed shape of one model input or output.</summary>
/// <param name="Name">The name in the ONNX graph.</param>
/// <param name="MemberName">The C# name the generated class uses for it.</param>
/// <param name="ElementType">The element type.</param>
/// <param name="Shape">The shape, fixed at build time.</param>
public sealed record TensorInfo(string Name, string MemberName, TensorElementType ElementType, IReadOnlyList<int> Shape)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/>.</summary>
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {ElementType}[{string.Join(",", Shape)}]";
}

/// <summary>What a generated model class knows about its model at compile time.</summary>
/// <param name="ModelName">The ONNX graph name (or the file name when the graph has none).</param>
/// <param name="Inputs">Inputs, in ONNX graph order (the order of <c>Run</c>'s parameters).</param>
/// <param name="Outputs">Outputs, in ONNX graph order.</param>
/// <param name="Parameters">Number of weight elements.</param>
/// <param name="Macs">Multiply-accumulate operations per run.</param>
/// <param name="WeightsBytes">Size of the weights blob.</param>
/// <param name="ArenaBytes">Size of the scratch memory one instance holds.</param>
public sealed record ModelInfo(
    string ModelName,
    IReadOnlyList<TensorInfo> Inputs,
    IReadOnlyList<TensorInfo> Outputs,
    long Parameters,
    long Macs,
    long WeightsBytes,
    long ArenaBytes);

/// <summary>The hardware a model instance runs on.</summary>
public enum ModelTarget
{
    /// <summary>The CPU, with SIMD kernels.</summary>
    Cpu,
}
