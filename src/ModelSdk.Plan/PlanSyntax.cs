using System;
using System.Globalization;
using System.Text;

namespace ModelSdk.Plan
{
    /// <summary>Lexical rules of the plan text format, shared by the writer, the reader and the generator.</summary>
    public static class PlanSyntax
    {
        /// <summary>Whether <paramref name="text"/> is an ASCII identifier (<c>[A-Za-z_][A-Za-z0-9_]*</c>).</summary>
        public static bool IsIdentifier(string text)
        {
            if (string.IsNullOrEmpty(text) || char.IsDigit(text[0]))
            {
                return false;
            }

            foreach (char c in text)
            {
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// Formats a float so that parsing the text gives the same bits on every runtime
        /// (.NET Framework's "R" is not always round-trippable, so it is checked and "G9" used instead).
        /// </summary>
        public static string FormatFloat(float value)
        {
            if (float.IsNaN(value))
            {
                return "nan";
            }

            if (float.IsPositiveInfinity(value))
            {
                return "inf";
            }

            if (float.IsNegativeInfinity(value))
            {
                return "-inf";
            }

            string text = value.ToString("R", CultureInfo.InvariantCulture);
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float back) ||
                BitConverter.ToInt32(BitConverter.GetBytes(back), 0) != BitConverter.ToInt32(BitConverter.GetBytes(value), 0))
            {
                text = value.ToString("G9", CultureInfo.InvariantCulture);
            }

            return text;
        }

        /// <summary>Parses a float written by <see cref="FormatFloat"/>.</summary>
        public static bool TryParseFloat(string text, out float value)
        {
            switch (text)
            {
                case "nan":
                    value = float.NaN;
                    return true;
                case "inf":
                    value = float.PositiveInfinity;
                    return true;
                case "-inf":
                    value = float.NegativeInfinity;
                    return true;
                default:
                    return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) &&
                           !float.IsNaN(value) && !float.IsInfinity(value);
            }
        }

        /// <summary>Quotes a string: <c>"</c> and <c>\</c> are escaped, and so is every control or non-ASCII character.</summary>
        public static string Quote(string text)
        {
            var sb = new StringBuilder(text.Length + 2);
            sb.Append('"');
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"':
                        sb.Append("\\\"");
                        break;
                    case '\\':
                        sb.Append("\\\\");
                        break;
                    default:
                        if (c < 0x20 || c > 0x7E)
                        {
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            sb.Append(c);
                        }

                        break;
                }
            }

            sb.Append('"');
            return sb.ToString();
        }

        /// <summary>Reads a quoted string starting at <paramref name="pos"/>; on success <paramref name="pos"/> is just past the closing quote.</summary>
        public static bool TryUnquote(string line, ref int pos, out string value)
        {
            value = string.Empty;
            if (pos >= line.Length || line[pos] != '"')
            {
                return false;
            }

            var sb = new StringBuilder();
            int i = pos + 1;
            while (i < line.Length)
            {
                char c = line[i];
                if (c == '"')
                {
                    value = sb.ToString();
                    pos = i + 1;
                    return true;
                }

                if (c == '\\')
                {
                    if (i + 1 >= line.Length)
                    {
                        return false;
                    }

                    char e = line[i + 1];
                    if (e == '"' || e == '\\')
                    {
                        sb.Append(e);
                        i += 2;
                    }
                    else if (e == 'u' && i + 5 < line.Length &&
                             int.TryParse(line.Substring(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                    {
                        sb.Append((char)code);
                        i += 6;
                    }
                    else
                    {
                        return false;
                    }
                }
                else
                {
                    sb.Append(c);
                    i++;
                }
            }

            return false;
        }
    }
}
