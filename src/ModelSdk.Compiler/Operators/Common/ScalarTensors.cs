using ModelSdk.Compiler.Ir;
using ModelSdk.Plan;
using ModelSdk.Runtime;

namespace ModelSdk.Compiler.Operators.Common;

/// <summary>One-element constants of any element type, for attributes that give a value as a float (Pad's value, EyeLike's one).</summary>
internal static class ScalarTensors
{
    /// <summary>A tensor of shape <c>[1]</c> holding <paramref name="value"/> converted to <paramref name="type"/> (integers truncate, as a C cast does).</summary>
    public static Tensor Of(ElementType type, double value) => type switch
    {
        ElementType.Float32 => One(type, (float)value),
        ElementType.Float64 => One(type, value),
        ElementType.Float16 => One(type, (Half)value),
        ElementType.BFloat16 => One(type, ((BFloat16)(float)value).Bits),
        ElementType.Int8 => One(type, (sbyte)value),
        ElementType.UInt8 => One(type, (byte)value),
        ElementType.Int16 => One(type, (short)value),
        ElementType.UInt16 => One(type, (ushort)value),
        ElementType.Int32 => One(type, (int)value),
        ElementType.UInt32 => One(type, (uint)value),
        ElementType.Int64 => One(type, (long)value),
        ElementType.UInt64 => One(type, (ulong)value),
        _ => One(type, value != 0 ? (byte)1 : (byte)0),
    };

    private static Tensor One<T>(ElementType type, T value) where T : unmanaged => Tensor.From<T>(type, [1], [value]);
}
