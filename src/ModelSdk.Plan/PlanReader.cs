using System;
using System.Collections.Generic;
using System.Globalization;

namespace ModelSdk.Plan
{
    /// <summary>A plan file that cannot be read; <see cref="Line"/> is 1-based, 0 when not tied to a line.</summary>
    public sealed class PlanFormatException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public PlanFormatException(int line, string message)
            : base(line > 0 ? $"line {line}: {message}" : message)
        {
            Line = line;
        }

        /// <summary>The offending line (1-based), or 0.</summary>
        public int Line { get; }
    }

    /// <summary>Reads the text written by <see cref="PlanWriter"/> and checks that it is consistent.</summary>
    public static class PlanReader
    {
        /// <summary>Parses and validates a plan; throws <see cref="PlanFormatException"/> on any problem.</summary>
        public static CompiledPlan Read(string text)
        {
            var state = new State();
            string[] lines = text.Replace("\r\n", "\n").Split('\n');
            bool sawMagic = false, sawEnd = false;
            for (int n = 0; n < lines.Length; n++)
            {
                string line = lines[n];
                state.Line = n + 1;
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                if (sawEnd)
                {
                    throw state.Error("text after 'end'");
                }

                var cur = new Cursor(line, state);
                string keyword = cur.Word();
                if (!sawMagic)
                {
                    if (keyword != PlanWriter.Magic)
                    {
                        throw state.Error("not a ModelSdk plan (missing 'modelsdk-plan' header)");
                    }

                    int version = (int)cur.Long();
                    if (version != CompiledPlan.FormatVersion)
                    {
                        throw state.Error($"plan format version {version} is not supported (this reader supports version {CompiledPlan.FormatVersion}); rebuild the model with a matching ModelSdk");
                    }

                    sawMagic = true;
                    cur.End();
                    continue;
                }

                switch (keyword)
                {
                    case "compiler":
                        state.Compiler = cur.Quoted();
                        break;
                    case "model":
                        state.Model = cur.Quoted();
                        break;
                    case "source-sha256":
                        state.SourceSha = cur.Hex();
                        break;
                    case "weights":
                        state.WeightsBytes = cur.Long();
                        state.WeightsSha = cur.Hex();
                        state.LoadedWeightsBytes = cur.AtEnd ? state.WeightsBytes : cur.Keyed("loaded");
                        break;
                    case "arena":
                        state.ArenaBytes = cur.Long();
                        break;
                    case "cost":
                        state.Params = cur.Keyed("params");
                        state.Macs = cur.Keyed("macs");
                        break;
                    case "tensor":
                        state.Tensors.Add(ReadTensor(ref cur, state));
                        break;
                    case "input":
                    case "output":
                        {
                            string name = cur.Quoted();
                            int id = state.TensorRef(cur.Long());
                            (keyword == "input" ? state.Inputs : state.Outputs).Add(new PlanValue(name, id));
                            break;
                        }

                    case "step":
                        state.Steps.Add(ReadStep(ref cur, state));
                        break;
                    case "if":
                    case "else":
                    case "endif":
                        state.Steps.Add(ReadControl(keyword, ref cur, state));
                        break;
                    case "end":
                        sawEnd = true;
                        break;
                    default:
                        throw state.Error($"unknown record '{keyword}'");
                }

                cur.End();
            }

            state.Line = 0;
            if (!sawMagic)
            {
                throw state.Error("not a ModelSdk plan (missing 'modelsdk-plan' header)");
            }

            if (!sawEnd)
            {
                throw state.Error("the plan is truncated (missing 'end')");
            }

            return state.Build();
        }

        private static PlanTensor ReadTensor(ref Cursor cur, State state)
        {
            int id = (int)cur.Long();
            if (id != state.Tensors.Count)
            {
                throw state.Error($"tensor {id} is out of order (expected {state.Tensors.Count})");
            }

            string typeName = cur.Word();
            if (!ElementTypes.TryParse(typeName, out ElementType type))
            {
                throw state.Error($"unknown element type '{typeName}'");
            }

            int[] shape = cur.IntList();
            foreach (int d in shape)
            {
                if (d < 0)
                {
                    throw state.Error("negative dimension");
                }
            }

            string storage = cur.Word();
            long where = cur.Long();
            string name = cur.Quoted();
            ElementType storedType = type;
            long storedOffset = where;
            if (!cur.AtEnd)
            {
                // A weight stored narrower than it is computed in: stored=float16@offset.
                string stored = cur.Word();
                int at = stored.IndexOf('@');
                if (storage != "weights" || !stored.StartsWith("stored=", StringComparison.Ordinal) || at < 0
                    || !ElementTypes.TryParse(stored.Substring("stored=".Length, at - "stored=".Length), out storedType))
                {
                    throw state.Error($"malformed stored type '{stored}'");
                }

                storedOffset = state.ParseLong(stored.Substring(at + 1));
            }

            try
            {
                switch (storage)
                {
                    case "input":
                        return new PlanTensor(id, name, type, shape, StorageKind.Input, (int)where, 0);
                    case "output":
                        return new PlanTensor(id, name, type, shape, StorageKind.Output, (int)where, 0);
                    case "weights":
                        return new PlanTensor(id, name, type, shape, StorageKind.Weights, -1, where, storedType, storedOffset);
                    case "arena":
                        return new PlanTensor(id, name, type, shape, StorageKind.Arena, -1, where);
                    default:
                        throw state.Error($"unknown storage '{storage}'");
                }
            }
            catch (OverflowException)
            {
                throw state.Error($"tensor {id} has too many elements");
            }
        }

        private static PlanStep ReadStep(ref Cursor cur, State state)
        {
            string head = cur.Word();
            var typeArgs = new List<ElementType>();
            string kernel = head;
            int lt = head.IndexOf('<');
            if (lt >= 0)
            {
                if (!head.EndsWith(">", StringComparison.Ordinal))
                {
                    throw state.Error($"malformed kernel '{head}'");
                }

                kernel = head.Substring(0, lt);
                foreach (string t in head.Substring(lt + 1, head.Length - lt - 2).Split(','))
                {
                    if (!ElementTypes.TryParse(t, out ElementType et))
                    {
                        throw state.Error($"unknown element type '{t}'");
                    }

                    typeArgs.Add(et);
                }
            }

            if (!PlanSyntax.IsIdentifier(kernel))
            {
                throw state.Error($"malformed kernel name '{kernel}'");
            }

            string opType = cur.Quoted();
            string node = cur.Quoted();
            var args = new List<PlanArg>();
            while (!cur.AtEnd)
            {
                string token = cur.Word();
                int eq = token.IndexOf('=');
                if (eq <= 0)
                {
                    throw state.Error($"malformed argument '{token}'");
                }

                string name = token.Substring(0, eq);
                string value = token.Substring(eq + 1);
                if (!PlanSyntax.IsIdentifier(name))
                {
                    throw state.Error($"malformed argument name '{name}'");
                }

                args.Add(ReadArg(name, value, state));
            }

            return new PlanStep(kernel, typeArgs, args, node, opType);
        }

        private static PlanStep ReadControl(string keyword, ref Cursor cur, State state)
        {
            string opType = cur.Quoted();
            string node = cur.Quoted();
            if (keyword == "if")
            {
                string token = cur.Word();
                if (!token.StartsWith("cond=%", StringComparison.Ordinal))
                {
                    throw state.Error("expected cond=%id");
                }

                int id = state.TensorRef(state.ParseLong(token.Substring("cond=%".Length)));
                if (state.Tensors[id].Type != ElementType.Bool || state.Tensors[id].ElementCount != 1)
                {
                    throw state.Error($"the condition of 'if' must be one bool, tensor {id} is not");
                }

                state.OpenBlocks.Push(false);
                return PlanStep.If(id, node, opType);
            }

            if (state.OpenBlocks.Count == 0)
            {
                throw state.Error($"'{keyword}' without 'if'");
            }

            if (keyword == "else")
            {
                if (state.OpenBlocks.Pop())
                {
                    throw state.Error("a second 'else' for one 'if'");
                }

                state.OpenBlocks.Push(true);
                return PlanStep.Else(node, opType);
            }

            state.OpenBlocks.Pop();
            return PlanStep.EndIf(node, opType);
        }

        private static PlanArg ReadArg(string name, string value, State state)
        {
            if (value == "-")
            {
                return PlanArg.None(name);
            }

            if (value == "ctx")
            {
                return PlanArg.Context(name);
            }

            if (value.StartsWith("%", StringComparison.Ordinal) || value.StartsWith("&", StringComparison.Ordinal))
            {
                int id = state.TensorRef(state.ParseLong(value.Substring(1)));
                return value[0] == '%' ? PlanArg.In(name, id) : PlanArg.Out(name, id);
            }

            int colon = value.IndexOf(':');
            string kind = colon < 0 ? string.Empty : value.Substring(0, colon);
            string body = colon < 0 ? string.Empty : value.Substring(colon + 1);
            switch (kind)
            {
                case "i":
                    return PlanArg.Int(name, checked((int)state.ParseLong(body)));
                case "f":
                    return PlanArg.Float(name, state.ParseFloat(body));
                case "b":
                    if (body != "true" && body != "false")
                    {
                        throw state.Error($"malformed boolean '{body}'");
                    }

                    return PlanArg.Bool(name, body == "true");
                case "is":
                    {
                        string[] parts = state.ListItems(body);
                        var ints = new int[parts.Length];
                        for (int i = 0; i < parts.Length; i++)
                        {
                            long v = state.ParseLong(parts[i]);
                            if (v < int.MinValue || v > int.MaxValue)
                            {
                                throw state.Error($"integer {v} out of range");
                            }

                            ints[i] = (int)v;
                        }

                        return PlanArg.IntList(name, ints);
                    }

                case "fs":
                    {
                        string[] parts = state.ListItems(body);
                        var floats = new float[parts.Length];
                        for (int i = 0; i < parts.Length; i++)
                        {
                            floats[i] = state.ParseFloat(parts[i]);
                        }

                        return PlanArg.FloatList(name, floats);
                    }

                case "e":
                    {
                        int dot = body.IndexOf('.');
                        if (dot <= 0 || !PlanSyntax.IsIdentifier(body.Substring(0, dot)) || !PlanSyntax.IsIdentifier(body.Substring(dot + 1)))
                        {
                            throw state.Error($"malformed enum value '{body}'");
                        }

                        return PlanArg.Enum(name, body.Substring(0, dot), body.Substring(dot + 1));
                    }

                default:
                    throw state.Error($"malformed argument value '{value}'");
            }
        }

        private sealed class State
        {
            public int Line;
            public string? Compiler;
            public string? Model;
            public string? SourceSha;
            public string? WeightsSha;
            public long WeightsBytes = -1;
            public long LoadedWeightsBytes = -1;
            public long ArenaBytes = -1;
            public long Params = -1;
            public long Macs = -1;
            public readonly List<PlanTensor> Tensors = new List<PlanTensor>();
            public readonly List<PlanValue> Inputs = new List<PlanValue>();
            public readonly List<PlanValue> Outputs = new List<PlanValue>();
            public readonly List<PlanStep> Steps = new List<PlanStep>();

            /// <summary>Open conditional blocks; true once the block's 'else' was seen.</summary>
            public readonly Stack<bool> OpenBlocks = new Stack<bool>();

            public PlanFormatException Error(string message) => new PlanFormatException(Line, message);

            public long ParseLong(string text)
            {
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                {
                    throw Error($"malformed number '{text}'");
                }

                return v;
            }

            public float ParseFloat(string text)
            {
                if (!PlanSyntax.TryParseFloat(text, out float v))
                {
                    throw Error($"malformed float '{text}'");
                }

                return v;
            }

            public string[] ListItems(string body)
            {
                if (body.Length < 2 || body[0] != '[' || body[body.Length - 1] != ']')
                {
                    throw Error($"malformed list '{body}'");
                }

                string inner = body.Substring(1, body.Length - 2);
                return inner.Length == 0 ? new string[0] : inner.Split(',');
            }

            public int TensorRef(long id)
            {
                if (id < 0 || id >= Tensors.Count)
                {
                    throw Error($"reference to undefined tensor {id}");
                }

                return (int)id;
            }

            public CompiledPlan Build()
            {
                if (OpenBlocks.Count > 0)
                {
                    throw Error("an 'if' block is not closed");
                }

                if (Compiler == null || Model == null || SourceSha == null || WeightsSha == null || WeightsBytes < 0 || ArenaBytes < 0 || Params < 0 || Macs < 0)
                {
                    throw Error("the plan header is incomplete");
                }

                CheckBindings(StorageKind.Input, Inputs, "input");
                CheckBindings(StorageKind.Output, Outputs, "output");
                foreach (PlanTensor t in Tensors)
                {
                    long limit = t.Storage == StorageKind.Weights ? LoadedWeightsBytes : t.Storage == StorageKind.Arena ? ArenaBytes : long.MaxValue;
                    if (t.Offset < 0 || t.Offset > limit || t.ByteCount > limit - t.Offset)
                    {
                        throw Error($"tensor {t.Id} lies outside its storage");
                    }

                    if (t.ElementCount > int.MaxValue)
                    {
                        throw Error($"tensor {t.Id} has too many elements");
                    }
                }

                var plan = new CompiledPlan(Compiler, Model, SourceSha, WeightsBytes, WeightsSha, LoadedWeightsBytes, ArenaBytes, Tensors, Inputs, Outputs, Steps, new PlanCost(Params, Macs));
                string? layoutProblem = WeightsLayout.Check(plan);
                if (layoutProblem != null)
                {
                    throw Error(layoutProblem);
                }

                return plan;
            }

            private void CheckBindings(StorageKind kind, List<PlanValue> values, string what)
            {
                var seen = new bool[values.Count];
                foreach (PlanTensor t in Tensors)
                {
                    if (t.Storage != kind)
                    {
                        continue;
                    }

                    if (t.Index < 0 || t.Index >= values.Count)
                    {
                        throw Error($"tensor {t.Id} refers to {what} {t.Index}, which does not exist");
                    }

                    PlanTensor bound = Tensors[values[t.Index].TensorId];
                    if (bound.Storage != kind || bound.Index != t.Index || bound.ElementCount != t.ElementCount || bound.Type != t.Type)
                    {
                        throw Error($"tensor {t.Id} does not match {what} {t.Index}");
                    }

                    seen[t.Index] = true;
                }

                for (int i = 0; i < values.Count; i++)
                {
                    if (!seen[i])
                    {
                        throw Error($"{what} {i} has no tensor");
                    }
                }
            }
        }

        private struct Cursor
        {
            private readonly string _line;
            private readonly State _state;
            private int _pos;

            public Cursor(string line, State state)
            {
                _line = line;
                _state = state;
                _pos = 0;
            }

            public bool AtEnd
            {
                get
                {
                    SkipSpace();
                    return _pos >= _line.Length;
                }
            }

            public string Word()
            {
                SkipSpace();
                int start = _pos;
                while (_pos < _line.Length && _line[_pos] != ' ')
                {
                    _pos++;
                }

                if (start == _pos)
                {
                    throw _state.Error("unexpected end of line");
                }

                return _line.Substring(start, _pos - start);
            }

            public long Long() => _state.ParseLong(Word());

            public long Keyed(string key)
            {
                string w = Word();
                if (!w.StartsWith(key + "=", StringComparison.Ordinal))
                {
                    throw _state.Error($"expected '{key}='");
                }

                return _state.ParseLong(w.Substring(key.Length + 1));
            }

            public string Hex()
            {
                string w = Word();
                foreach (char c in w)
                {
                    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                    {
                        throw _state.Error($"malformed hash '{w}'");
                    }
                }

                return w;
            }

            public int[] IntList()
            {
                string w = Word();
                string[] parts = _state.ListItems(w);
                var result = new int[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                {
                    long v = _state.ParseLong(parts[i]);
                    if (v < int.MinValue || v > int.MaxValue)
                    {
                        throw _state.Error($"integer {v} out of range");
                    }

                    result[i] = (int)v;
                }

                return result;
            }

            public string Quoted()
            {
                SkipSpace();
                if (!PlanSyntax.TryUnquote(_line, ref _pos, out string value))
                {
                    throw _state.Error("malformed quoted string");
                }

                return value;
            }

            public void End()
            {
                if (!AtEnd)
                {
                    throw _state.Error($"unexpected text '{_line.Substring(_pos)}'");
                }
            }

            private void SkipSpace()
            {
                while (_pos < _line.Length && _line[_pos] == ' ')
                {
                    _pos++;
                }
            }
        }
    }
}
