using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// A tracepoint's TP_printk as its <c>format</c> file shows it — a C string literal and its arguments
/// (<c>"dev=%s skbaddr=%p len=%u", __get_str(name), REC->skbaddr, REC->len</c>) — and the printf that turns a record
/// into its trace line, as the kernel's trace output (and trace-cmd, from the same format file) do. Conversions:
/// <c>%d %i %u %x %X %c %s %p %%</c> with flags <c>-0+ #</c>, a width and the length modifiers <c>hh h l ll z</c>;
/// arguments: <c>REC-&gt;FIELD</c> and <c>__get_str(FIELD)</c>. <c>%p</c> prints <c>0x</c> and the value in hex, as
/// trace-cmd and perf print it (the kernel's own <c>trace</c> file hashes <c>%p</c>; a simulation has nothing to hide).
/// </summary>
internal sealed class TracepointPrintFormat
{
    private readonly Piece[] _pieces;

    private TracepointPrintFormat(string text, Piece[] pieces)
    {
        Text = text;
        _pieces = pieces;
    }

    /// <summary>The format as the <c>print fmt:</c> line shows it.</summary>
    public string Text { get; }

    /// <summary>Every field as <c>name=value</c>: <c>%d</c>/<c>%u</c>/<c>%llu</c> by size and sign, <c>%p</c> for pointers, <c>%s</c> for strings.</summary>
    public static string Default(IReadOnlyList<TracepointField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var format = new StringBuilder("\"");
        var args = new StringBuilder();
        foreach (var f in fields)
        {
            if (format.Length > 1)
                format.Append(' ');
            var conversion = f.IsString ? "%s"
                : f.Type.Contains('*', StringComparison.Ordinal) ? "%p"
                : (f.Size == 8 ? "%ll" : "%") + (f.Signed ? "d" : "u");
            format.Append(CultureInfo.InvariantCulture, $"{f.Name}={conversion}");
            args.Append(f.IsString ? $", __get_str({f.Name})" : $", REC->{f.Name}");
        }

        return format.Append('"').Append(args).ToString();
    }

    /// <summary>Parses <paramref name="text"/> against <paramref name="tracepoint"/>'s fields; throws <see cref="ArgumentException"/> naming the position of a mistake.</summary>
    public static TracepointPrintFormat Parse(string text, Tracepoint tracepoint)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tracepoint);
        var at = 0;
        SkipSpace(text, ref at);
        if (at >= text.Length || text[at] != '"')
            throw Error(tracepoint, text, at, "expected a string literal");
        at++;
        var literal = new StringBuilder();
        while (true)
        {
            if (at >= text.Length)
                throw Error(tracepoint, text, at, "unterminated string literal");
            var c = text[at++];
            if (c == '"')
                break;
            if (c == '\\')
            {
                if (at >= text.Length)
                    throw Error(tracepoint, text, at, "unterminated string literal");
                var e = text[at++];
                literal.Append(e switch { 'n' => '\n', 't' => '\t', '"' => '"', '\\' => '\\', _ => throw Error(tracepoint, text, at - 1, $"unknown escape \\{e}") });
                continue;
            }

            literal.Append(c);
        }

        var args = new List<Argument>();
        SkipSpace(text, ref at);
        while (at < text.Length)
        {
            if (text[at] != ',')
                throw Error(tracepoint, text, at, "expected ','");
            at++;
            SkipSpace(text, ref at);
            var start = at;
            while (at < text.Length && text[at] != ',')
                at++;
            var arg = text[start..at].Trim();
            args.Add(ParseArgument(arg, tracepoint, text, start));
        }

        var pieces = new List<Piece>();
        var next = 0;
        var s = literal.ToString();
        var plain = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '%')
            {
                plain.Append(s[i]);
                continue;
            }

            if (i + 1 < s.Length && s[i + 1] == '%')
            {
                plain.Append('%');
                i++;
                continue;
            }

            var j = i + 1;
            var flags = "";
            while (j < s.Length && "-0+ #".Contains(s[j], StringComparison.Ordinal))
                flags += s[j++];
            var width = 0;
            while (j < s.Length && char.IsAsciiDigit(s[j]))
                width = width * 10 + (s[j++] - '0');
            var bits = 32;
            if (j + 1 < s.Length && s[j] == 'l' && s[j + 1] == 'l')
                (bits, j) = (64, j + 2);
            else if (j < s.Length && s[j] is 'l' or 'z')
                (bits, j) = (64, j + 1);
            else if (j + 1 < s.Length && s[j] == 'h' && s[j + 1] == 'h')
                (bits, j) = (8, j + 2);
            else if (j < s.Length && s[j] == 'h')
                (bits, j) = (16, j + 1);
            if (j >= s.Length || !"diuxXcsp".Contains(s[j], StringComparison.Ordinal))
                throw Error(tracepoint, text, 1 + i, $"unsupported conversion '{s[i..Math.Min(s.Length, j + 1)]}'");
            if (next >= args.Count)
                throw Error(tracepoint, text, text.Length, $"conversion '{s[i..(j + 1)]}' has no argument");
            var arg = args[next++];
            if ((s[j] == 's') != arg.IsString)
                throw Error(tracepoint, text, text.Length, s[j] == 's' ? $"%s needs __get_str(), not REC->{arg.Field.Name}" : $"__get_str({arg.Field.Name}) needs %s");
            if (plain.Length > 0)
                pieces.Add(new Piece(plain.ToString(), default, null));
            plain.Clear();
            pieces.Add(new Piece(null, new Conversion(s[j], flags, width, bits), arg));
            i = j;
        }

        if (next != args.Count)
            throw Error(tracepoint, text, text.Length, $"{args.Count - next} argument(s) without a conversion");
        if (plain.Length > 0)
            pieces.Add(new Piece(plain.ToString(), default, null));
        return new TracepointPrintFormat(text.Trim(), [.. pieces]);
    }

    /// <summary>Prints a trace buffer payload (the record with the id in its first word).</summary>
    public string Format(ReadOnlySpan<byte> record)
    {
        var text = new StringBuilder();
        foreach (var piece in _pieces)
        {
            if (piece.Literal is { } literal)
            {
                text.Append(literal);
                continue;
            }

            var arg = piece.Argument!;
            var c = piece.Conversion;
            string value;
            if (arg.IsString)
            {
                value = TraceRecordReader.ReadDataLocString(record, arg.Offset) ?? "";
            }
            else
            {
                var raw = TraceRecordReader.ReadInteger(record, arg.Offset, arg.Field.Size, arg.Field.Signed);
                value = c.Type switch
                {
                    'd' or 'i' => (c.Bits switch { 8 => (sbyte)raw, 16 => (short)raw, 32 => (int)raw, _ => raw }).ToString(CultureInfo.InvariantCulture),
                    'u' => Truncate(raw, c.Bits).ToString(CultureInfo.InvariantCulture),
                    'x' => (c.Flags.Contains('#', StringComparison.Ordinal) ? "0x" : "") + Truncate(raw, c.Bits).ToString("x", CultureInfo.InvariantCulture),
                    'X' => (c.Flags.Contains('#', StringComparison.Ordinal) ? "0X" : "") + Truncate(raw, c.Bits).ToString("X", CultureInfo.InvariantCulture),
                    'c' => ((char)(byte)raw).ToString(),
                    _ => "0x" + ((ulong)raw).ToString("x", CultureInfo.InvariantCulture),
                };
                if (c.Flags.Contains('+', StringComparison.Ordinal) && c.Type is 'd' or 'i' && !value.StartsWith('-'))
                    value = "+" + value;
            }

            text.Append(Kernel.Sim.Bpf.Helpers.TracePrintk.Pad(value, c.Width, c.Flags.Contains('-', StringComparison.Ordinal),
                c.Flags.Contains('0', StringComparison.Ordinal) && c.Type is not ('s' or 'c')));
        }

        return text.ToString();
    }

    private static ulong Truncate(long raw, int bits) => bits == 64 ? (ulong)raw : (ulong)raw & ((1UL << bits) - 1);

    private static Argument ParseArgument(string arg, Tracepoint tracepoint, string text, int position)
    {
        bool isString;
        string name;
        if (arg.StartsWith("REC->", StringComparison.Ordinal))
        {
            (isString, name) = (false, arg[5..].Trim());
        }
        else if (arg.StartsWith("__get_str(", StringComparison.Ordinal) && arg.EndsWith(')'))
        {
            (isString, name) = (true, arg[10..^1].Trim());
        }
        else
        {
            throw Error(tracepoint, text, position, $"unsupported argument '{arg}' (REC->FIELD or __get_str(FIELD))");
        }

        for (var i = 0; i < tracepoint.RecordFields.Count; i++)
        {
            var field = tracepoint.RecordFields[i];
            if (field.Name != name)
                continue;
            if (isString && !field.IsString)
                throw Error(tracepoint, text, position, $"__get_str({name}): {name} is not a __string field");
            if (!isString && field.IsString)
                throw Error(tracepoint, text, position, $"REC->{name}: {name} is a __data_loc string; print it with __get_str({name})");
            return new Argument(field, tracepoint.FieldOffsets[i], isString);
        }

        throw Error(tracepoint, text, position, $"no field '{name}'");
    }

    private static void SkipSpace(string text, ref int at)
    {
        while (at < text.Length && char.IsWhiteSpace(text[at]))
            at++;
    }

    private static ArgumentException Error(Tracepoint tracepoint, string text, int position, string message) =>
        new($"{tracepoint.Group}:{tracepoint.Name} print fmt, column {position + 1}: {message} in: {text}");

    private readonly record struct Conversion(char Type, string Flags, int Width, int Bits);

    private sealed record Argument(TracepointField Field, int Offset, bool IsString);

    private sealed record Piece(string? Literal, Conversion Conversion, Argument? Argument);
}
