using System.Runtime.InteropServices;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Execution;

/// <summary>Returns the bytes of tensor <paramref name="tensorId"/> (exactly its size).</summary>
public delegate Span<byte> BufferResolver(int tensorId);

/// <summary>What a kernel binding sees of one plan step: typed views of its tensor arguments and its literal arguments.</summary>
public sealed class StepContext(PlanStep step, BufferResolver buffers, Runtime.KernelContext kernelContext)
{
    /// <summary>The worker threads kernels may use (the <c>ctx</c> argument of plan steps).</summary>
    public Runtime.KernelContext KernelContext { get; } = kernelContext;

    /// <summary>The step.</summary>
    public PlanStep Step { get; } = step;

    /// <summary>Generic type argument <paramref name="index"/> of the kernel call.</summary>
    public ElementType TypeArg(int index) => Step.TypeArgs[index];

    /// <summary>A tensor argument as read-only elements; empty for an absent optional tensor.</summary>
    public ReadOnlySpan<T> In<T>(string name) where T : unmanaged
    {
        PlanArg a = Step[name];
        return a.Kind == PlanArgKind.None ? default : MemoryMarshal.Cast<byte, T>(buffers(a.Tensor));
    }

    /// <summary>A tensor argument that only some steps of a kernel carry (a trailing optional parameter); empty when the step has none.</summary>
    public ReadOnlySpan<T> OptionalIn<T>(string name) where T : unmanaged
        => Step.Args.Any(a => a.Name == name) ? In<T>(name) : default;

    /// <summary>A tensor argument as writable elements.</summary>
    public Span<T> Out<T>(string name) where T : unmanaged
    {
        PlanArg a = Step[name];
        return a.Kind == PlanArgKind.None ? default : MemoryMarshal.Cast<byte, T>(buffers(a.Tensor));
    }

    /// <summary>An <c>int</c> argument.</summary>
    public int Int(string name) => Step[name].IntValue;

    /// <summary>A <c>bool</c> argument.</summary>
    public bool Bool(string name) => Step[name].IntValue != 0;

    /// <summary>A <c>float</c> argument.</summary>
    public float Float(string name) => Step[name].FloatValue;

    /// <summary>An <c>int</c>-list argument.</summary>
    public ReadOnlySpan<int> Ints(string name) => Step[name].Ints;

    /// <summary>A <c>float</c>-list argument.</summary>
    public ReadOnlySpan<float> Floats(string name) => Step[name].Floats;

    /// <summary>An enum argument.</summary>
    public TEnum Enum<TEnum>(string name) where TEnum : struct, System.Enum
    {
        string symbol = Step[name].Symbol;
        string member = symbol[(symbol.IndexOf('.') + 1)..];
        return System.Enum.Parse<TEnum>(member);
    }
}

/// <summary>Marks a static method <c>void M(StepContext)</c> as the executor's binding of a runtime kernel.</summary>
/// <param name="kernel">The kernel class name in <c>ModelSdk.Runtime.Kernels</c>, as written in plans.</param>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KernelBindingAttribute(string kernel) : Attribute
{
    /// <summary>The kernel name.</summary>
    public string Kernel { get; } = kernel;
}
