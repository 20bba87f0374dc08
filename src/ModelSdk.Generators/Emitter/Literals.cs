using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Emitter
{
    /// <summary>C# spellings of plan values. Model-supplied text only ever reaches source through these.</summary>
    internal static class Literals
    {
        /// <summary>A C# string literal (escaped by Roslyn).</summary>
        public static string String(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

        /// <summary>Text safe inside an XML doc comment line: XML-escaped, control characters replaced.</summary>
        public static string Doc(string value)
        {
            var sb = new StringBuilder(value.Length);
            foreach (char c in value)
            {
                switch (c)
                {
                    case '&':
                        sb.Append("&amp;");
                        break;
                    case '<':
                        sb.Append("&lt;");
                        break;
                    case '>':
                        sb.Append("&gt;");
                        break;
                    default:
                        sb.Append(char.IsControl(c) || c == '\u2028' || c == '\u2029' || c == '\u0085' ? ' ' : c);
                        break;
                }
            }

            return sb.ToString();
        }

        public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

        public static string Float(float value)
        {
            if (float.IsNaN(value))
            {
                return "float.NaN";
            }

            if (float.IsPositiveInfinity(value))
            {
                return "float.PositiveInfinity";
            }

            if (float.IsNegativeInfinity(value))
            {
                return "float.NegativeInfinity";
            }

            return PlanSyntax.FormatFloat(value) + "f";
        }

        public static string Ints(int[] values) => "[" + string.Join(", ", values.Select(v => Int(v))) + "]";

        public static string Floats(float[] values) => "[" + string.Join(", ", values.Select(Float)) + "]";

        public static string ElementType(ElementType type) => type.ToCSharpName();

        public static string RuntimeElementType(ElementType type) => "global::ModelSdk.Runtime.TensorElementType." + type switch
        {
            Plan.ElementType.Float32 => "Float32",
            Plan.ElementType.Float16 => "Float16",
            Plan.ElementType.BFloat16 => "BFloat16",
            Plan.ElementType.Float64 => "Float64",
            Plan.ElementType.Int8 => "Int8",
            Plan.ElementType.UInt8 => "UInt8",
            Plan.ElementType.Int16 => "Int16",
            Plan.ElementType.UInt16 => "UInt16",
            Plan.ElementType.Int32 => "Int32",
            Plan.ElementType.UInt32 => "UInt32",
            Plan.ElementType.Int64 => "Int64",
            Plan.ElementType.UInt64 => "UInt64",
            _ => "Bool",
        };
    }
}
