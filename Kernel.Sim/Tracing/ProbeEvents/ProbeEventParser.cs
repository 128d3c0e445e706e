using System.Globalization;
using System.Text;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>A parsed (not yet registered) kprobe_events definition.</summary>
public sealed record ProbeDefinition(string Group, string Event, bool IsReturn, int MaxActive, string? Symbol, ulong Offset, ulong Address, KernelFunction Function, IReadOnlyList<ProbeArgument> Arguments)
{
    /// <summary>The command letter: <c>p</c>/<c>r</c> (kprobe events) or <c>f</c> (fprobe events).</summary>
    public char Kind { get; init; } = IsReturn ? 'r' : 'p';
}

/// <summary>
/// Parses kprobe_events lines per Documentation/trace/kprobetrace.rst:
/// <c>p[:[GRP/][EVENT]] [MOD:]SYM[+offs]|MEMADDR [FETCHARGS]</c>, <c>r[MAXACTIVE][:[GRP/][EVENT]] SYM[+0] [FETCHARGS]</c>
/// (or <c>p SYM%return</c>). Errors carry trace_probe.h's messages and the position error_log points at.
/// </summary>
public sealed class ProbeEventParser
{
    /// <summary>MAX_EVENT_NAME_LEN.</summary>
    public const int MaxEventNameLength = 64;

    /// <summary>MAX_ARG_NAME_LEN.</summary>
    public const int MaxArgNameLength = 32;

    /// <summary>MAX_ARGSTR_LEN.</summary>
    public const int MaxArgStringLength = 63;

    /// <summary>MAX_TRACE_ARGS.</summary>
    public const int MaxTraceArgs = 128;

    /// <summary>KRETPROBE_MAXACTIVE_MAX.</summary>
    public const int MaxActiveLimit = 4096;

    /// <summary>FETCH_INSN_MAX: nested dereferences allowed.</summary>
    public const int MaxFetchSteps = 16;

    /// <summary>MAX_ARRAY_LEN.</summary>
    public const int MaxArrayLength = 64;

    private readonly KernelCore _core;
    private string[] _argv = [];
    private string _command = string.Empty;
    private int _index;

    public ProbeEventParser(KernelCore core) => _core = core ?? throw new ArgumentNullException(nameof(core));

    /// <summary>Splits a command into words as argv_split does.</summary>
    public static string[] Split(string command) =>
        (command ?? string.Empty).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Parses one <c>p</c>/<c>r</c> definition; throws <see cref="ProbeEventException"/> with error_log's message and position.</summary>
    public ProbeDefinition Parse(string command)
    {
        _argv = Split(command);
        _command = string.Join(' ', _argv);
        _index = 0;
        if (_argv.Length < 2 || _argv[0][0] is not ('p' or 'r' or 'f'))
            throw new ProbeEventException("Invalid command", 0, -Errno.EINVAL, _command);
        var head = _argv[0];
        var isFprobe = head[0] == 'f';
        var isReturn = head[0] == 'r' || (isFprobe && _argv[1].EndsWith("%return", StringComparison.Ordinal));
        var colon = head.IndexOf(':', StringComparison.Ordinal);
        var maxActiveText = colon < 0 ? head[1..] : head[1..colon];
        var maxActive = 0;
        if (maxActiveText.Length > 0)
        {
            if (!char.IsDigit(maxActiveText[0]))
                Fail(1, "Invalid command", -Errno.EINVAL);
            if (!isReturn)
                Fail(1, "Maxactive is only for function exit");
            if (isFprobe)
                Fail(1, "Maxactive is not for fprobe");
            if (!int.TryParse(maxActiveText, NumberStyles.None, CultureInfo.InvariantCulture, out maxActive) || maxActive == 0)
                Fail(1, "Invalid maxactive number");
            if (maxActive > MaxActiveLimit)
                Fail(1, "Maxactive is too big");
        }

        string group = isFprobe ? "fprobes" : "kprobes", eventName = string.Empty;
        if (colon >= 0)
            (group, eventName) = ParseEventName(head[(colon + 1)..], colon + 1, group);

        // The probe point.
        _index = 1;
        var point = _argv[1];
        string? symbol = null;
        ulong offset = 0, address;
        KernelFunction? function;
        if (isFprobe && (char.IsDigit(point[0]) || point.IndexOfAny(['+', '-']) >= 0))
            Fail(0, "Invalid probed address or symbol");
        if (char.IsDigit(point[0]))
        {
            if (!TryParseUnsigned(point, out address))
                Fail(0, "Invalid probed address or symbol");
            var at = _core.Symbols.Find(address);
            function = at is null ? null : _core.Functions.Find(at.Name);
            if (function is null)
                Fail(0, "Invalid probed address or symbol", -Errno.ENOENT);
        }
        else
        {
            var percent = point.IndexOf('%', StringComparison.Ordinal);
            if (percent >= 0)
            {
                if (point[percent..] != "%return")
                    Fail(percent, "Invalid probed address suffix");
                isReturn = true;
                point = point[..percent];
            }

            var sign = point.IndexOfAny(['+', '-']);
            symbol = sign < 0 ? point : point[..sign];
            if (sign >= 0)
            {
                if (point[sign] == '-' || !TryParseUnsigned(point[(sign + 1)..], out offset) || offset > uint.MaxValue)
                    Fail(0, "Invalid probed address or symbol");
            }

            var count = _core.Symbols.CountNamed(symbol);
            if (count == 0)
                Fail(0, "Invalid probed address or symbol", -Errno.ENOENT);
            if (count > 1)
                Fail(0, "The symbol is not unique", -Errno.EADDRNOTAVAIL);
            if (isReturn && offset != 0)
                Fail(0, "Retprobe address must be an function entry");
            var sym = _core.Symbols.Lookup(symbol)!;
            address = sym.Address + offset;
            function = _core.Functions.Find(symbol);
            if (function is null)
                Fail(0, "Invalid probed address or symbol", -Errno.ENOENT);
        }

        if (eventName.Length == 0 && isFprobe)
            eventName = symbol + (isReturn ? "__exit" : "__entry");
        if (eventName.Length == 0)
        {
            eventName = symbol is null
                ? string.Create(CultureInfo.InvariantCulture, $"{(isReturn ? 'r' : 'p')}_0x{address:x}")
                : string.Create(CultureInfo.InvariantCulture, $"{(isReturn ? 'r' : 'p')}_{symbol}_{offset}");
        }

        if (_argv.Length - 2 > MaxTraceArgs)
        {
            _index = 2 + MaxTraceArgs;
            Fail(0, "Too many arguments are specified");
        }

        var arguments = new List<ProbeArgument>();
        for (_index = 2; _index < _argv.Length; _index++)
            arguments.Add(ParseArgument(_argv[_index], arguments, isReturn, offset, function!));
        return new ProbeDefinition(group, eventName, isReturn, maxActive, symbol, offset, address, function!, arguments) { Kind = isFprobe ? 'f' : isReturn ? 'r' : 'p' };
    }

    /// <summary>Parses <c>[GRP/]EVENT</c> of a definition or a <c>-:</c> removal.</summary>
    public (string Group, string Event) ParseEventName(string text, int at, string defaultGroup = "kprobes")
    {
        var group = defaultGroup;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (slash == 0)
                Fail(at, "Group name is not specified");
            if (slash >= MaxEventNameLength)
                Fail(at, "Group name is too long");
            group = text[..slash];
            if (!IsGoodName(group))
                Fail(at, "Group name must follow the same rules as C identifiers");
            at += slash + 1;
            text = text[(slash + 1)..];
        }

        if (text.Length == 0)
            Fail(at, "Event name is not specified");
        if (text.Length >= MaxEventNameLength)
            Fail(at, "Event name is too long");
        if (!IsGoodName(text))
            Fail(at, "Event name must follow the same rules as C identifiers");
        return (group, text);
    }

    /// <summary>Sets the parser up for a one-word command (a <c>-:</c> removal) so errors point into it.</summary>
    internal void Begin(string command)
    {
        _argv = Split(command);
        _command = string.Join(' ', _argv);
        _index = 0;
    }

    private ProbeArgument ParseArgument(string arg, List<ProbeArgument> previous, bool isReturn, ulong probeOffset, KernelFunction function)
    {
        if (arg.Length > MaxArgStringLength)
            Fail(0, "Argument expression is too long");
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        string name;
        var body = arg;
        var bodyAt = 0;
        if (equals >= 0)
        {
            name = arg[..equals];
            if (name.Length == 0)
                Fail(0, "Argument name is not specified");
            if (name.Length > MaxArgNameLength)
                Fail(0, "Argument name is too long");
            if (!IsGoodName(name))
                Fail(0, "Argument name must follow the same rules as C identifiers");
            body = arg[(equals + 1)..];
            bodyAt = equals + 1;
        }
        else
        {
            // An unnamed BTF-style argument is named after the parameter, as Linux names BTF arguments.
            var plain = arg.Split(':')[0];
            name = function.Prototype.Parameters.Any(p => p.Name == plain)
                ? plain
                : string.Create(CultureInfo.InvariantCulture, $"arg{previous.Count + 1}");
        }

        if (previous.Any(p => p.Name == name))
            Fail(0, "This argument name is already used");
        if (body.Length == 0)
            Fail(bodyAt, "No argument expression");
        var definition = body;
        FetchType? type = null;
        var colon = body.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var typeName = body[(colon + 1)..];
            var typeAt = bodyAt + colon + 1;
            type = FetchType.Parse(typeName);
            if (type is null)
            {
                var open = typeName.IndexOf('[', StringComparison.Ordinal);
                if (open >= 0 && !typeName.EndsWith(']'))
                    Fail(typeAt + open, "Array is not closed");
                if (open >= 0 && int.TryParse(typeName.AsSpan(open + 1, typeName.Length - open - 2), out var n) && n > MaxArrayLength)
                    Fail(typeAt + open + 1, "Array number is too big");
                if (open >= 0)
                    Fail(typeAt + open + 1, "Invalid array size");
                Fail(typeAt, FetchType.LooksLikeBitfield(typeName) ? "Invalid bitfield" : "Unknown type is specified");
            }

            if (type!.ArrayLength > MaxArrayLength)
                Fail(typeAt + typeName.IndexOf('[', StringComparison.Ordinal) + 1, "Array number is too big");
            body = body[..colon];
        }

        var steps = new List<FetchStep>();
        var source = ParseValue(body, bodyAt, steps, isReturn, probeOffset, function, 0);
        if (source is Source.Comm or Source.ImmediateString)
        {
            type ??= FetchType.Parse("string")!;
            if (type.Kind != FetchKind.String)
                Fail(bodyAt, "$comm and immediate-string only accepts string type");
        }

        type ??= FetchType.Default;
        FetchStore store;
        if (type.Kind == FetchKind.String)
        {
            if (source == Source.ImmediateString)
                store = new StoreImmediateString(Encoding.ASCII.GetBytes(body[2..^1]));
            else if (source == Source.Comm)
                store = new StoreString(0);
            else if (steps[^1] is FetchDereference last)
                store = TakeLast(steps, last, d => new StoreString(DerefOffset(d)));
            else
                throw Fail(bodyAt, "String accepts only memory argument");
        }
        else if (steps.Count > 0 && steps[^1] is FetchDereference last)
        {
            store = TakeLast(steps, last, d => new StoreMemory(DerefOffset(d), type.Size, Math.Max(1, type.ArrayLength), type.Bitfield));
        }
        else
        {
            if (type.ArrayLength > 0)
                Fail(bodyAt, "Array accepts only memory argument");
            store = new StoreRaw(type.Size, type.Bitfield);
        }

        return new ProbeArgument(name, type, definition, [.. steps], store);
    }

    private static FetchStore TakeLast(List<FetchStep> steps, FetchDereference last, Func<FetchDereference, FetchStore> make)
    {
        steps.RemoveAt(steps.Count - 1);
        return make(last);
    }

    private static long DerefOffset(FetchDereference step) => step.Offset;

    private enum Source
    {
        Value,
        Memory,
        Comm,
        ImmediateString,
    }

    private Source ParseValue(string body, int at, List<FetchStep> steps, bool isReturn, ulong probeOffset, KernelFunction function, int depth)
    {
        if (body.Length == 0)
            Fail(at, "Invalid fetch argument");
        switch (body[0])
        {
            case '$':
                return ParseVariable(body, at, steps, isReturn, probeOffset);
            case '%':
            {
                var offset = PtRegs.OffsetOf(body[1..]);
                if (offset < 0)
                    Fail(at, "Invalid register name");
                steps.Add(new FetchRegister(offset));
                return Source.Value;
            }

            case '@':
            {
                ulong address;
                if (body.Length > 1 && char.IsDigit(body[1]))
                {
                    if (!TryParseUnsigned(body[1..], out address))
                        Fail(at, "Invalid memory address");
                }
                else
                {
                    var sign = body.IndexOfAny(['+', '-'], 1);
                    var name = sign < 0 ? body[1..] : body[1..sign];
                    long delta = 0;
                    if (sign >= 0 && !long.TryParse(body[sign..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out delta))
                        Fail(at, "Invalid memory address");
                    var symbol = _core.Symbols.Lookup(name);
                    if (symbol is null)
                        Fail(at, "Invalid memory address", -Errno.ENOENT);
                    address = (ulong)((long)symbol!.Address + delta);
                }

                steps.Add(new FetchImmediate(address));
                steps.Add(new FetchDereference(0));
                return Source.Memory;
            }

            case '+':
            case '-':
            {
                if (depth + 1 >= MaxFetchSteps)
                    Fail(at, "Dereference is too much nested");
                var open = body.IndexOf('(', StringComparison.Ordinal);
                if (open < 0)
                    Fail(at, "Dereference needs a brace");
                var offsetText = body[1..open];
                if (offsetText.StartsWith('u'))
                    offsetText = offsetText[1..];
                if (!TryParseUnsigned(offsetText, out var magnitude) || magnitude > long.MaxValue)
                    Fail(at, "Invalid dereference offset");
                if (!body.EndsWith(')'))
                    Fail(at + open, "Dereference brace is not closed");
                var inner = body[(open + 1)..^1];
                var source = ParseValue(inner, at + open + 1, steps, isReturn, probeOffset, function, depth + 1);
                if (source == Source.Comm)
                    Fail(at + open + 1, "$comm can not be dereferenced");
                if (source == Source.ImmediateString)
                    Fail(at + open + 1, "Invalid fetch argument");
                steps.Add(new FetchDereference(body[0] == '-' ? -(long)magnitude : (long)magnitude));
                return Source.Memory;
            }

            case '\\':
            {
                if (body.Length > 1 && body[1] == '"')
                {
                    if (body.Length < 3 || !body.EndsWith('"'))
                        Fail(at, "String is not closed with '\"'");
                    return Source.ImmediateString;
                }

                var text = body[1..];
                var negative = text.StartsWith('-');
                if (!TryParseUnsigned(negative ? text[1..] : text, out var value))
                    Fail(at, "Invalid immediate value");
                steps.Add(new FetchImmediate(negative ? (ulong)-(long)value : value));
                return Source.Value;
            }

            default:
            {
                // BTF-style argument names: a parameter of the probed function's prototype, at its entry.
                var parameter = function.Prototype.Parameters.Select((p, i) => (p, i)).FirstOrDefault(x => x.p.Name == body);
                if (parameter.p is not null)
                {
                    if (probeOffset != 0)
                        Fail(at, "$arg* can be used only on function entry");
                    steps.Add(new FetchArgument(parameter.i));
                    return Source.Value;
                }

                throw Fail(at, IsGoodName(body) ? "This variable is not found at this probe point" : "Invalid fetch argument");
            }
        }
    }

    private Source ParseVariable(string body, int at, List<FetchStep> steps, bool isReturn, ulong probeOffset)
    {
        var name = body[1..];
        if (name == "retval")
        {
            if (!isReturn)
                Fail(at, "$retval is not available on probe");
            steps.Add(new FetchReturnValue());
            return Source.Value;
        }

        if (name is "comm" or "COMM")
        {
            steps.Add(new FetchComm());
            return Source.Comm;
        }

        if (name == "stack")
        {
            steps.Add(new FetchStackPointer());
            return Source.Value;
        }

        if (name.StartsWith("stack", StringComparison.Ordinal))
        {
            if (!int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > SimulatedCpu.ThreadSize / 8)
                Fail(at, "Invalid stack number");
            steps.Add(new FetchStackEntry(n));
            return Source.Value;
        }

        if (name.StartsWith("arg", StringComparison.Ordinal))
        {
            if (!int.TryParse(name.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n == 0 || n > FunctionPrototype.MaxRegisterArguments)
                Fail(at, "Invalid argument number");
            if (probeOffset != 0)
                Fail(at, "$arg* can be used only on function entry");
            steps.Add(new FetchArgument(n - 1));
            return Source.Value;
        }

        throw Fail(at, "Invalid $-valiable specified");
    }

    private ProbeEventException Fail(int offset, string message, int errno = -Errno.EINVAL)
    {
        var position = offset;
        for (var i = 0; i < _index && i < _argv.Length; i++)
            position += _argv[i].Length + 1;
        throw new ProbeEventException(message, position, errno, _command);
    }

    private static bool TryParseUnsigned(string text, out ulong value)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>is_good_name: a C identifier.</summary>
    public static bool IsGoodName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
