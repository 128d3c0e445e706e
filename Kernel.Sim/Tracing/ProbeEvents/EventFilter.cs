using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>A rejected filter: trace_events_filter.c's message and the position of the caret.</summary>
public sealed class EventFilterException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}

/// <summary>
/// An event filter in the kernel's grammar (Documentation/trace/events.rst): predicates <c>FIELD OP VALUE</c> with
/// <c>== != &lt; &lt;= &gt; &gt;= &amp;</c> on numeric fields and <c>== != ~</c> (glob) on string fields, combined with
/// <c>&amp;&amp;</c>, <c>||</c>, <c>!</c> and parentheses. Evaluated on the entry before it is committed (a false
/// filter discards it), without allocating.
/// </summary>
public sealed class EventFilter
{
    private readonly Node _root;

    private EventFilter(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    /// <summary>The filter as written.</summary>
    public string Text { get; }

    /// <summary>An event's <c>filter</c> file: the rejected text with a caret and <c>parse_error: …</c>, else the filter or <c>none</c>.</summary>
    public static string FilterFile(EventFilter? filter, (string Text, EventFilterException Error)? failed) =>
        failed is { } f
            ? $"{f.Text}\n{new string(' ', f.Error.Position)}^\nparse_error: {f.Error.Message}\n"
            : (filter?.Text ?? "none") + "\n";

    /// <summary>Whether the entry passes.</summary>
    public bool Matches(ReadOnlySpan<byte> entry, int pid) => _root.Eval(entry, pid);

    /// <summary>Parses <paramref name="text"/> against an event's fields; throws <see cref="EventFilterException"/>.</summary>
    public static EventFilter Parse(string text, ProbeEvent probeEvent)
    {
        ArgumentNullException.ThrowIfNull(probeEvent);
        return Parse(text, probeEvent.Fields);
    }

    /// <summary>Parses <paramref name="text"/> against a record's <paramref name="fields"/> (a tracepoint's, say).</summary>
    public static EventFilter Parse(string text, IReadOnlyList<TraceEventField> fields)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fields);
        var parser = new Parser(text, fields);
        var root = parser.ParseOr();
        parser.SkipSpace();
        if (parser.Position < text.Length)
            throw new EventFilterException(text[parser.Position] == ')' ? "Too few '('" : "Meaningless filter expression", parser.Position);
        return new EventFilter(text.Trim(), root);
    }

    /// <summary>The parsed expression (for compilers such as the BPF filter compiler).</summary>
    internal Node Root => _root;

    internal abstract class Node
    {
        public abstract bool Eval(ReadOnlySpan<byte> entry, int pid);
    }

    internal sealed class And(Node left, Node right) : Node
    {
        public Node Left => left;

        public Node Right => right;

        public override bool Eval(ReadOnlySpan<byte> entry, int pid) => left.Eval(entry, pid) && right.Eval(entry, pid);
    }

    internal sealed class Or(Node left, Node right) : Node
    {
        public Node Left => left;

        public Node Right => right;

        public override bool Eval(ReadOnlySpan<byte> entry, int pid) => left.Eval(entry, pid) || right.Eval(entry, pid);
    }

    internal sealed class Not(Node inner) : Node
    {
        public Node Inner => inner;

        public override bool Eval(ReadOnlySpan<byte> entry, int pid) => !inner.Eval(entry, pid);
    }

    internal sealed class NumericPredicate(int offset, int size, bool signed, bool isPid, string op, long value) : Node
    {
        public int Offset => offset;

        public int Size => size;

        public bool Signed => signed;

        public bool IsPid => isPid;

        public string Op => op;

        public long Value => value;

        public override bool Eval(ReadOnlySpan<byte> entry, int pid)
        {
            long field;
            if (isPid)
            {
                field = pid;
            }
            else
            {
                var span = entry[offset..];
                field = size switch
                {
                    1 => signed ? (sbyte)span[0] : span[0],
                    2 => signed ? BinaryPrimitives.ReadInt16LittleEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span),
                    4 => signed ? BinaryPrimitives.ReadInt32LittleEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span),
                    _ => BinaryPrimitives.ReadInt64LittleEndian(span),
                };
            }

            var unsignedCompare = !signed && !isPid;
            return op switch
            {
                "==" => field == value,
                "!=" => field != value,
                "&" => (field & value) != 0,
                "<" => unsignedCompare ? (ulong)field < (ulong)value : field < value,
                "<=" => unsignedCompare ? (ulong)field <= (ulong)value : field <= value,
                ">" => unsignedCompare ? (ulong)field > (ulong)value : field > value,
                _ => unsignedCompare ? (ulong)field >= (ulong)value : field >= value,
            };
        }
    }

    internal sealed class StringPredicate(int offset, string op, string value) : Node
    {
        public int Offset => offset;

        public string Op => op;

        public string Value => _pattern;

        private readonly byte[] _value = Encoding.ASCII.GetBytes(value);
        private readonly string _pattern = value;

        public override bool Eval(ReadOnlySpan<byte> entry, int pid)
        {
            var loc = BinaryPrimitives.ReadUInt32LittleEndian(entry[offset..]);
            var length = (int)(loc >> 16);
            var start = (int)(loc & 0xffff);
            var text = length == 0 ? ReadOnlySpan<byte>.Empty : entry.Slice(start, length - 1);
            var equal = op == "~" ? Glob(text) : text.SequenceEqual(_value);
            return op == "!=" ? !equal : equal;
        }

        private bool Glob(ReadOnlySpan<byte> text)
        {
            Span<char> chars = stackalloc char[text.Length];
            for (var i = 0; i < text.Length; i++)
                chars[i] = (char)text[i];
            return FtraceGlob.GlobMatch(_pattern, chars);
        }
    }

    private sealed class Parser(string text, IReadOnlyList<TraceEventField> fields)
    {
        public int Position;

        public void SkipSpace()
        {
            while (Position < text.Length && char.IsWhiteSpace(text[Position]))
                Position++;
        }

        public Node ParseOr()
        {
            var left = ParseAnd();
            while (Take("||"))
                left = new Or(left, ParseAnd());
            return left;
        }

        private Node ParseAnd()
        {
            var left = ParseUnary();
            while (Take("&&"))
                left = new And(left, ParseUnary());
            return left;
        }

        private Node ParseUnary()
        {
            SkipSpace();
            if (Position < text.Length && text[Position] == '!' && (Position + 1 >= text.Length || text[Position + 1] != '='))
            {
                Position++;
                return new Not(ParseUnary());
            }

            if (Take("("))
            {
                var open = Position - 1;
                var inner = ParseOr();
                if (!Take(")"))
                    throw new EventFilterException("Too many '('", open);
                return inner;
            }

            return ParsePredicate();
        }

        private Node ParsePredicate()
        {
            SkipSpace();
            var start = Position;
            while (Position < text.Length && (char.IsAsciiLetterOrDigit(text[Position]) || text[Position] == '_'))
                Position++;
            var field = text[start..Position];
            if (field.Length == 0)
                throw new EventFilterException("Meaningless filter expression", start);
            SkipSpace();
            var opStart = Position;
            var op = new[] { "==", "!=", "<=", ">=", "<", ">", "&", "~" }.FirstOrDefault(o => string.CompareOrdinal(text, Position, o, 0, o.Length) == 0 && !(o == "&" && Take("&&", peek: true)));
            if (op is null)
                throw new EventFilterException("Invalid operator", opStart);
            Position += op.Length;
            SkipSpace();
            var valueStart = Position;
            string value;
            if (Position < text.Length && text[Position] is '"' or '\'')
            {
                var quote = text[Position];
                var end = text.IndexOf(quote, Position + 1);
                if (end < 0)
                    throw new EventFilterException("Missing matching quote", Position);
                value = text[(Position + 1)..end];
                Position = end + 1;
            }
            else
            {
                while (Position < text.Length && !char.IsWhiteSpace(text[Position]) && text[Position] is not (')' or '&' or '|'))
                    Position++;
                value = text[valueStart..Position];
            }

            if (value.Length == 0)
                throw new EventFilterException("Invalid value (did you forget quotes)?", valueStart);
            if (field == "common_pid")
                return new NumericPredicate(0, 4, true, true, CheckNumericOp(op, opStart), ParseInt(value, valueStart));
            var argument = fields.FirstOrDefault(a => a.Name == field)
                ?? throw new EventFilterException("Field not found", start);
            if (argument.IsString)
            {
                if (op is not ("==" or "!=" or "~"))
                    throw new EventFilterException("Illegal operation for field type", opStart);
                return new StringPredicate(argument.Offset, op, value);
            }

            if (argument.IsArray)
                throw new EventFilterException("Illegal operation for field type", opStart);
            return new NumericPredicate(argument.Offset, argument.Size, argument.Signed, false, CheckNumericOp(op, opStart), ParseInt(value, valueStart));
        }

        private static string CheckNumericOp(string op, int at) =>
            op == "~" ? throw new EventFilterException("Illegal operation for field type", at) : op;

        private static long ParseInt(string value, int at)
        {
            var negative = value.StartsWith('-');
            var digits = negative ? value[1..] : value;
            ulong parsed;
            var ok = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? ulong.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out parsed)
                : ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out parsed);
            if (!ok)
                throw new EventFilterException("Illegal integer value", at);
            return negative ? -(long)parsed : (long)parsed;
        }

        private bool Take(string token, bool peek = false)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, Position, token, 0, token.Length) != 0)
                return false;
            if (!peek)
                Position += token.Length;
            return true;
        }
    }
}
