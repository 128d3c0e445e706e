using System.Globalization;
using System.Text;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>
/// The "function based events" syntax: <c>ip_rcv(x64 skb, u32 len)</c> defines the event <c>functions/ip_rcv</c> on
/// the function's entry; the Nth declared parameter fetches the Nth argument with its type. Types are the fetch types
/// (u8…x64, s8…s64, char, string, symbol) or C spellings (int, unsigned int, long, unsigned long, short, bool, and any
/// pointer, printed as x64). Errors point into the line as written.
/// </summary>
public static class FunctionEventSyntax
{
    /// <summary>Turns a function event line into the equivalent kprobe_events definition.</summary>
    public static string Translate(string line, KernelCore core)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(core);
        var open = line.IndexOf('(', StringComparison.Ordinal);
        if (open <= 0)
            throw Error(line, "Function name and '(' expected", 0);
        var name = line[..open].Trim();
        if (!ProbeEventParser.IsGoodName(name) || core.Functions.Find(name) is not { Notrace: false })
            throw Error(line, "Invalid probed address or symbol", 0, -Errno.ENOENT);
        var close = line.LastIndexOf(')');
        if (close < open || line[(close + 1)..].Trim().Length > 0)
            throw Error(line, "Argument list is not closed", open);
        var command = new StringBuilder().Append(CultureInfo.InvariantCulture, $"p:functions/{name} {name}");
        var list = line[(open + 1)..close];
        var at = open + 1;
        var index = 0;
        foreach (var part in list.Split(','))
        {
            var text = part.Trim();
            var position = at + part.IndexOf(text, StringComparison.Ordinal);
            at += part.Length + 1;
            if (text.Length == 0 || text == "void")
            {
                if (list.Trim().Length == 0 || text == "void")
                    continue;
                throw Error(line, "Argument expression is missing", position);
            }

            index++;
            if (index > FunctionPrototype.MaxRegisterArguments)
                throw Error(line, "Invalid argument number", position);
            var split = text.LastIndexOfAny([' ', '*']);
            if (split <= 0)
                throw Error(line, "Type and name expected", position);
            var argName = text[(split + 1)..];
            var cType = text[..(split + 1)].Trim();
            if (!ProbeEventParser.IsGoodName(argName))
                throw Error(line, "Argument name must follow the same rules as C identifiers", position + split + 1);
            var type = FetchTypeOf(cType) ?? throw Error(line, "Unknown type is specified", position);
            command.Append(CultureInfo.InvariantCulture, $" {argName}=$arg{index}:{type}");
        }

        return command.ToString();
    }

    private static string? FetchTypeOf(string cType)
    {
        if (cType.EndsWith('*'))
            return "x64";
        var normalized = string.Join(' ', cType.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return normalized switch
        {
            "int" or "signed int" => "s32",
            "unsigned int" or "unsigned" => "u32",
            "long" or "long long" => "s64",
            "unsigned long" or "unsigned long long" => "u64",
            "short" => "s16",
            "unsigned short" => "u16",
            "bool" or "unsigned char" => "u8",
            _ => FetchType.Parse(normalized) is { Kind: not FetchKind.String } ? normalized : null,
        };
    }

    private static ProbeEventException Error(string line, string message, int position, int errno = -Errno.EINVAL) =>
        new(message, position, errno, line);
}
