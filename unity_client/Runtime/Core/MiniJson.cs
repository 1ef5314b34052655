// A small JSON reader/writer with no UnityEngine dependency.
// Unity's JsonUtility cannot read arbitrary objects (it needs [Serializable] classes and cannot
// represent unions or dictionaries) and System.Text.Json is not available in Mono, so the
// protocol code works on plain values:
//   object -> Dictionary<string, object>, array -> List<object>, string -> string,
//   integer -> long, other number -> double, true/false -> bool, null -> null.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace HoloMate.Core
{
    public static class MiniJson
    {
        public static object Parse(string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            var parser = new Parser(json);
            object value = parser.ParseDocument();
            return value;
        }

        /// <summary>Parses a JSON document whose top level must be an object.</summary>
        public static Dictionary<string, object> ParseObject(string json)
        {
            var obj = Parse(json) as Dictionary<string, object>;
            if (obj == null) throw new FormatException("JSON document is not an object");
            return obj;
        }

        public static string Serialize(object value)
        {
            var sb = new StringBuilder();
            Write(sb, value);
            return sb.ToString();
        }

        // ------------------------------------------------------------------ writer

        static void Write(StringBuilder sb, object value)
        {
            if (value == null) { sb.Append("null"); return; }
            var s = value as string;
            if (s != null) { WriteString(sb, s); return; }
            if (value is bool) { sb.Append((bool)value ? "true" : "false"); return; }
            if (value is char) { WriteString(sb, value.ToString()); return; }
            if (value is Enum) { WriteString(sb, value.ToString()); return; }
            if (IsInteger(value)) { sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture)); return; }
            if (value is double || value is float || value is decimal) { WriteNumber(sb, Convert.ToDouble(value, CultureInfo.InvariantCulture)); return; }
            var dict = value as IDictionary;
            if (dict != null) { WriteObject(sb, dict); return; }
            var list = value as IEnumerable;
            if (list != null) { WriteArray(sb, list); return; }
            throw new ArgumentException("MiniJson cannot serialize " + value.GetType().FullName);
        }

        static bool IsInteger(object v)
        {
            return v is int || v is long || v is short || v is byte || v is sbyte
                || v is uint || v is ulong || v is ushort;
        }

        static void WriteNumber(StringBuilder sb, double d)
        {
            // JSON has no NaN/Infinity; null is the usual stand-in.
            if (double.IsNaN(d) || double.IsInfinity(d)) { sb.Append("null"); return; }
            // "R" round-trips the exact double value.
            sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
        }

        static void WriteObject(StringBuilder sb, IDictionary dict)
        {
            sb.Append('{');
            bool first = true;
            foreach (DictionaryEntry e in dict)
            {
                if (!first) sb.Append(',');
                first = false;
                WriteString(sb, Convert.ToString(e.Key, CultureInfo.InvariantCulture));
                sb.Append(':');
                Write(sb, e.Value);
            }
            sb.Append('}');
        }

        static void WriteArray(StringBuilder sb, IEnumerable list)
        {
            sb.Append('[');
            bool first = true;
            foreach (object item in list)
            {
                if (!first) sb.Append(',');
                first = false;
                Write(sb, item);
            }
            sb.Append(']');
        }

        static void WriteString(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        // Control characters must be escaped; U+2028/9 are escaped so the output is
                        // also safe to embed in JavaScript.
                        if (c < 0x20 || c == '\u2028' || c == '\u2029')
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        // ------------------------------------------------------------------ reader

        sealed class Parser
        {
            readonly string _s;
            int _i;

            public Parser(string s) { _s = s; }

            public object ParseDocument()
            {
                SkipWhitespace();
                object v = ParseValue();
                SkipWhitespace();
                if (_i != _s.Length) throw Error("unexpected trailing characters");
                return v;
            }

            object ParseValue()
            {
                if (_i >= _s.Length) throw Error("unexpected end of input");
                char c = _s[_i];
                switch (c)
                {
                    case '{': return ParseObject();
                    case '[': return ParseArray();
                    case '"': return ParseString();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
                        throw Error("unexpected character '" + c + "'");
                }
            }

            Dictionary<string, object> ParseObject()
            {
                var obj = new Dictionary<string, object>();
                _i++; // {
                SkipWhitespace();
                if (Peek() == '}') { _i++; return obj; }
                while (true)
                {
                    SkipWhitespace();
                    if (Peek() != '"') throw Error("expected a string key");
                    string key = ParseString();
                    SkipWhitespace();
                    if (Peek() != ':') throw Error("expected ':'");
                    _i++;
                    SkipWhitespace();
                    obj[key] = ParseValue(); // last duplicate wins, like most parsers
                    SkipWhitespace();
                    char c = Peek();
                    _i++;
                    if (c == ',') continue;
                    if (c == '}') return obj;
                    throw Error("expected ',' or '}'");
                }
            }

            List<object> ParseArray()
            {
                var list = new List<object>();
                _i++; // [
                SkipWhitespace();
                if (Peek() == ']') { _i++; return list; }
                while (true)
                {
                    SkipWhitespace();
                    list.Add(ParseValue());
                    SkipWhitespace();
                    char c = Peek();
                    _i++;
                    if (c == ',') continue;
                    if (c == ']') return list;
                    throw Error("expected ',' or ']'");
                }
            }

            string ParseString()
            {
                _i++; // opening quote
                var sb = new StringBuilder();
                while (true)
                {
                    if (_i >= _s.Length) throw Error("unterminated string");
                    char c = _s[_i++];
                    if (c == '"') return sb.ToString();
                    if (c < 0x20) throw Error("control character in string");
                    if (c != '\\') { sb.Append(c); continue; }
                    if (_i >= _s.Length) throw Error("unterminated escape");
                    char e = _s[_i++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            // Surrogate pairs arrive as two \u escapes; appending both UTF-16 units
                            // rebuilds the character.
                            if (_i + 4 > _s.Length) throw Error("short \\u escape");
                            int code;
                            if (!int.TryParse(_s.Substring(_i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
                                throw Error("bad \\u escape");
                            sb.Append((char)code);
                            _i += 4;
                            break;
                        default: throw Error("bad escape '\\" + e + "'");
                    }
                }
            }

            object ParseNumber()
            {
                int start = _i;
                bool isInteger = true;
                if (Peek() == '-') _i++;
                if (Peek() == '0') _i++;
                else if (IsDigit(Peek())) { while (IsDigit(Peek())) _i++; }
                else throw Error("bad number");
                if (Peek() == '.')
                {
                    isInteger = false;
                    _i++;
                    if (!IsDigit(Peek())) throw Error("bad fraction");
                    while (IsDigit(Peek())) _i++;
                }
                if (Peek() == 'e' || Peek() == 'E')
                {
                    isInteger = false;
                    _i++;
                    if (Peek() == '+' || Peek() == '-') _i++;
                    if (!IsDigit(Peek())) throw Error("bad exponent");
                    while (IsDigit(Peek())) _i++;
                }
                string text = _s.Substring(start, _i - start);
                long l;
                if (isInteger && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l))
                    return l;
                return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            void Expect(string word)
            {
                if (string.CompareOrdinal(_s, _i, word, 0, word.Length) != 0) throw Error("expected '" + word + "'");
                _i += word.Length;
            }

            char Peek() { return _i < _s.Length ? _s[_i] : '\0'; }
            static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

            void SkipWhitespace()
            {
                while (_i < _s.Length)
                {
                    char c = _s[_i];
                    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') _i++;
                    else break;
                }
            }

            FormatException Error(string message)
            {
                return new FormatException("JSON: " + message + " at position " + _i);
            }
        }
    }

    /// <summary>Typed, null-tolerant access to values produced by <see cref="MiniJson"/>.</summary>
    public static class Json
    {
        public static object Get(object obj, string key)
        {
            var d = obj as Dictionary<string, object>;
            object v;
            return d != null && d.TryGetValue(key, out v) ? v : null;
        }

        public static Dictionary<string, object> Obj(object obj, string key)
        {
            return Get(obj, key) as Dictionary<string, object>;
        }

        public static List<object> List(object obj, string key)
        {
            return Get(obj, key) as List<object>;
        }

        public static string Str(object obj, string key, string fallback = null)
        {
            object v = Get(obj, key);
            if (v == null) return fallback;
            return v as string ?? Convert.ToString(v, CultureInfo.InvariantCulture);
        }

        public static double Num(object obj, string key, double fallback = 0)
        {
            object v = Get(obj, key);
            if (v is long) return (long)v;
            if (v is double) return (double)v;
            return fallback;
        }

        public static int Int(object obj, string key, int fallback = 0)
        {
            object v = Get(obj, key);
            if (v is long) return (int)(long)v;
            if (v is double) return (int)Math.Round((double)v);
            return fallback;
        }

        public static bool Bool(object obj, string key, bool fallback = false)
        {
            object v = Get(obj, key);
            return v is bool ? (bool)v : fallback;
        }

        /// <summary>Builds a JSON object inline: Json.O("type", "ping").</summary>
        public static Dictionary<string, object> O(params object[] keyValues)
        {
            if (keyValues.Length % 2 != 0) throw new ArgumentException("key/value pairs expected");
            var d = new Dictionary<string, object>();
            for (int i = 0; i < keyValues.Length; i += 2) d[(string)keyValues[i]] = keyValues[i + 1];
            return d;
        }
    }
}
