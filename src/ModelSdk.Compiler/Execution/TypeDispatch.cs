using System.Numerics;
using ModelSdk.Plan;

namespace ModelSdk.Compiler.Execution;

/// <summary>A kernel binding generic over any element type (data movement: copy, gather, transpose…).</summary>
public interface ISizedStep
{
    /// <summary>Runs the step with elements of type <typeparamref name="T"/>.</summary>
    void Run<T>(StepContext s) where T : unmanaged;
}

/// <summary>A kernel binding generic over numeric element types.</summary>
public interface INumericStep
{
    /// <summary>Runs the step with elements of type <typeparamref name="T"/>.</summary>
    void Run<T>(StepContext s) where T : unmanaged, INumber<T>;
}

/// <summary>
/// Turns a step's element type into a generic instantiation, so one binding serves every type a
/// kernel supports (the JIT specialises each struct step per type; no boxing, no reflection).
/// </summary>
public static class TypeDispatch
{
    /// <summary>
    /// Instantiates <paramref name="step"/> per element size (byte, ushort, uint, ulong): for kernels that
    /// only move elements, this serves every element type; generated code uses the real type.
    /// </summary>
    public static void BySize<TStep>(ElementType type, StepContext s, TStep step)
        where TStep : struct, ISizedStep
    {
        switch (type.SizeInBytes())
        {
            case 1:
                step.Run<byte>(s);
                break;
            case 2:
                step.Run<ushort>(s);
                break;
            case 4:
                step.Run<uint>(s);
                break;
            case 8:
                step.Run<ulong>(s);
                break;
            default:
                throw Unsupported(s);
        }
    }

    /// <summary>Instantiates <paramref name="step"/> with the C# type of a numeric element type.</summary>
    public static void Numeric<TStep>(ElementType type, StepContext s, TStep step)
        where TStep : struct, INumericStep
    {
        switch (type)
        {
            case ElementType.Float32:
                step.Run<float>(s);
                break;
            case ElementType.Float64:
                step.Run<double>(s);
                break;
            case ElementType.Float16:
                step.Run<Half>(s);
                break;
            case ElementType.Int8:
                step.Run<sbyte>(s);
                break;
            case ElementType.UInt8:
                step.Run<byte>(s);
                break;
            case ElementType.Int16:
                step.Run<short>(s);
                break;
            case ElementType.UInt16:
                step.Run<ushort>(s);
                break;
            case ElementType.Int32:
                step.Run<int>(s);
                break;
            case ElementType.UInt32:
                step.Run<uint>(s);
                break;
            case ElementType.Int64:
                step.Run<long>(s);
                break;
            case ElementType.UInt64:
                step.Run<ulong>(s);
                break;
            default:
                throw Unsupported(s);
        }
    }

    /// <summary>The error for a type a binding has no instantiation for (a compiler bug, never a user error).</summary>
    public static NotSupportedException Unsupported(StepContext s)
        => new($"Kernel {s.Step.Kernel} has no {string.Join(",", s.Step.TypeArgs.Select(t => t.ToPlanName()))} variant.");
}
