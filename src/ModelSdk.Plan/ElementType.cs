using System;

namespace ModelSdk.Plan
{
    /// <summary>Element type of a tensor in a compiled plan.</summary>
    public enum ElementType
    {
        /// <summary>32-bit IEEE float (<c>float</c>).</summary>
        Float32,
        /// <summary>16-bit IEEE float (<c>System.Half</c>).</summary>
        Float16,
        /// <summary>bfloat16, stored as its 16 raw bits.</summary>
        BFloat16,
        /// <summary>64-bit IEEE float (<c>double</c>).</summary>
        Float64,
        /// <summary>Signed 8-bit integer (<c>sbyte</c>).</summary>
        Int8,
        /// <summary>Unsigned 8-bit integer (<c>byte</c>).</summary>
        UInt8,
        /// <summary>Signed 16-bit integer (<c>short</c>).</summary>
        Int16,
        /// <summary>Unsigned 16-bit integer (<c>ushort</c>).</summary>
        UInt16,
        /// <summary>Signed 32-bit integer (<c>int</c>).</summary>
        Int32,
        /// <summary>Unsigned 32-bit integer (<c>uint</c>).</summary>
        UInt32,
        /// <summary>Signed 64-bit integer (<c>long</c>).</summary>
        Int64,
        /// <summary>Unsigned 64-bit integer (<c>ulong</c>).</summary>
        UInt64,
        /// <summary>Boolean stored as one byte, 0 or 1 (<c>bool</c>).</summary>
        Bool,
    }

    /// <summary>Names, sizes and C# spellings of <see cref="ElementType"/> values.</summary>
    public static class ElementTypes
    {
        private static readonly string[] PlanNames =
        {
            "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int16", "uint16",
            "int32", "uint32", "int64", "uint64", "bool",
        };

        private static readonly string[] CSharpNames =
        {
            "float", "global::System.Half", "global::ModelSdk.Runtime.BFloat16", "double", "sbyte", "byte", "short", "ushort",
            "int", "uint", "long", "ulong", "bool",
        };

        private static readonly int[] Sizes = { 4, 2, 2, 8, 1, 1, 2, 2, 4, 4, 8, 8, 1 };

        /// <summary>The name used in plan files, e.g. <c>float32</c>.</summary>
        public static string ToPlanName(this ElementType type) => PlanNames[(int)type];

        /// <summary>The C# type that generated code uses for this element type.</summary>
        public static string ToCSharpName(this ElementType type) => CSharpNames[(int)type];

        /// <summary>Size of one element in bytes.</summary>
        public static int SizeInBytes(this ElementType type) => Sizes[(int)type];

        /// <summary>Parses a plan-file element type name.</summary>
        public static bool TryParse(string name, out ElementType type)
        {
            int index = Array.IndexOf(PlanNames, name);
            type = (ElementType)Math.Max(index, 0);
            return index >= 0;
        }
    }
}
