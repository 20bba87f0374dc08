using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelSdk.Generators
{
    /// <summary>
    /// Maps ONNX names onto C# identifiers. The name is split on every character that is not a
    /// letter or digit; each part is capitalised and the parts are joined (<c>input.1</c> → <c>Input1</c>,
    /// <c>save_infer_model/scale_0.tmp_1</c> → <c>SaveInferModelScale0Tmp1</c>). Parameters use the
    /// same with a lower-case first letter. A leading digit gets <c>_</c>, a keyword <c>@</c>, and a
    /// collision <c>_2</c>, <c>_3</c>… in graph order.
    /// </summary>
    internal static class Naming
    {
        /// <summary>The PascalCase form of an ONNX name (before collision handling); "Tensor" when nothing is left.</summary>
        public static string ToPascal(string onnxName)
        {
            var sb = new StringBuilder();
            bool startOfPart = true;
            foreach (char c in onnxName)
            {
                if (!char.IsLetterOrDigit(c) || c > 0x7F && !SyntaxFacts.IsIdentifierPartCharacter(c))
                {
                    startOfPart = true;
                    continue;
                }

                sb.Append(startOfPart ? char.ToUpperInvariant(c) : c);
                startOfPart = false;
            }

            if (sb.Length == 0)
            {
                sb.Append("Tensor");
            }

            if (!SyntaxFacts.IsIdentifierStartCharacter(sb[0]))
            {
                sb.Insert(0, '_');
            }

            return sb.ToString();
        }

        /// <summary>The parameter form: PascalCase with a lower-case first letter.</summary>
        public static string ToCamel(string onnxName)
        {
            string pascal = ToPascal(onnxName);
            return pascal[0] == '_' ? pascal : char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
        }

        /// <summary>Prefixes <c>@</c> when the identifier is a C# keyword.</summary>
        public static string EscapeKeyword(string identifier)
            => SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(identifier) == SyntaxKind.ArgListKeyword
                ? "@" + identifier
                : identifier;

        /// <summary>
        /// Returns <paramref name="baseName"/>, or the first of <c>baseName_2</c>, <c>baseName_3</c>… for which
        /// none of the names made with <paramref name="suffixes"/> is taken; marks them taken.
        /// </summary>
        public static string Unique(string baseName, HashSet<string> taken, params string[] suffixes)
        {
            string candidate = baseName;
            for (int n = 2; !AllFree(candidate, taken, suffixes); n++)
            {
                candidate = baseName + "_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            taken.Add(candidate);
            foreach (string s in suffixes)
            {
                taken.Add(candidate + s);
            }

            return candidate;
        }

        /// <summary>Whether <paramref name="text"/> is a valid (unescaped, non-keyword) C# identifier.</summary>
        public static bool IsValidIdentifier(string text)
            => SyntaxFacts.IsValidIdentifier(text) && SyntaxFacts.GetKeywordKind(text) == SyntaxKind.None;

        private static bool AllFree(string candidate, HashSet<string> taken, string[] suffixes)
        {
            if (taken.Contains(candidate))
            {
                return false;
            }

            foreach (string s in suffixes)
            {
                if (taken.Contains(candidate + s))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
