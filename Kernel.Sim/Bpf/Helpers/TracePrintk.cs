using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// bpf_trace_printk (6): long bpf_trace_printk(const char *fmt, u32 fmt_size, ...) with at most three arguments
/// (MAX_TRACE_PRINTK_VARARGS). The format follows bpf_bprintf_prepare: it must hold a NUL within fmt_size;
/// conversions are %d %i %u %x %X %c %s %p %px %pK and %%, with optional flags (0 + - space), a width, and l / ll
/// length modifiers; anything else, or a fourth argument, is -EINVAL. %s reads the string as
/// bpf_probe_read_kernel_str would (an unreadable one prints as empty); %p prints the raw value in 16 hex digits
/// (Linux hashes it unless no_hash_pointers). Returns the message length; the message goes to the context's
/// <see cref="ITraceSink"/> with the current CPU, task and time.
/// </summary>
public static unsafe class TracePrintk
{
    /// <summary>MAX_TRACE_PRINTK_VARARGS.</summary>
    public const int MaxArgs = 3;

    /// <summary>The helper.</summary>
    public static ulong TracePrintkHelper(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (uint)r2;
        if (size == 0 || !context.CanAccess(r1, size, write: false))
            return MapHelpers.Errno(BpfErrno.EFAULT);
        var fmt = new ReadOnlySpan<byte>((void*)r1, (int)size);
        var end = fmt.IndexOf((byte)0);
        if (end < 0)
            return MapHelpers.Errno(BpfErrno.EINVAL);
        var message = Format(fmt[..end], r3, r4, r5, context);
        if (message is null)
            return MapHelpers.Errno(BpfErrno.EINVAL);
        var env = context.Environment;
        context.TraceSink.TracePrintk(env.CurrentCpu, env.CurrentPidTgid, env.CurrentComm, env.MonotonicNs, message.TrimEnd('\n'));
        return (ulong)Encoding.UTF8.GetByteCount(message);
    }

    /// <summary>Formats <paramref name="fmt"/> with up to three arguments; null when Linux would refuse the format.</summary>
    public static string? Format(ReadOnlySpan<byte> fmt, ulong a1, ulong a2, ulong a3, HelperContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Span<ulong> args = [a1, a2, a3];
        var used = 0;
        var sb = new StringBuilder();
        for (var i = 0; i < fmt.Length; i++)
        {
            var c = (char)fmt[i];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }

            if (++i >= fmt.Length)
                return null;
            if (fmt[i] == '%')
            {
                sb.Append('%');
                continue;
            }

            if (used == MaxArgs)
                return null;
            var leftAlign = false;
            var zeroPad = false;
            var plus = false;
            var space = false;
            for (; i < fmt.Length && fmt[i] is (byte)'0' or (byte)'+' or (byte)'-' or (byte)' '; i++)
            {
                leftAlign |= fmt[i] == '-';
                zeroPad |= fmt[i] == '0';
                plus |= fmt[i] == '+';
                space |= fmt[i] == ' ';
            }

            var width = 0;
            for (; i < fmt.Length && fmt[i] is >= (byte)'0' and <= (byte)'9'; i++)
                width = Math.Min((width * 10) + (fmt[i] - '0'), 512);
            if (i >= fmt.Length)
                return null;
            var arg = args[used++];
            string text;
            switch ((char)fmt[i])
            {
                case 'c':
                    text = ((char)(byte)arg).ToString();
                    break;
                case 's':
                    text = ReadString(arg, context);
                    break;
                case 'p':
                    // %p, %px, %pK: the next letter belongs to the conversion when it is one of those.
                    if (i + 1 < fmt.Length && fmt[i + 1] is (byte)'x' or (byte)'K')
                        i++;
                    text = arg.ToString("x16", CultureInfo.InvariantCulture);
                    break;
                default:
                    var longs = 0;
                    while (i < fmt.Length && fmt[i] == 'l' && longs < 2)
                    {
                        i++;
                        longs++;
                    }

                    if (i >= fmt.Length)
                        return null;
                    var value = longs == 0 ? (ulong)(uint)arg : arg;
                    var signed = longs == 0 ? (long)(int)(uint)arg : (long)arg;
                    text = (char)fmt[i] switch
                    {
                        'd' or 'i' => (signed >= 0 && plus ? "+" : signed >= 0 && space ? " " : "") + signed.ToString(CultureInfo.InvariantCulture),
                        'u' => value.ToString(CultureInfo.InvariantCulture),
                        'x' => value.ToString("x", CultureInfo.InvariantCulture),
                        'X' => value.ToString("X", CultureInfo.InvariantCulture),
                        _ => "\0",
                    };
                    if (text == "\0")
                        return null;
                    break;
            }

            sb.Append(Pad(text, width, leftAlign, zeroPad && fmt[i] != 's' && fmt[i] != 'c'));
        }

        return sb.ToString();
    }

    /// <summary>
    /// printf's field width: spaces on the left (or the right with <paramref name="leftAlign"/>), or zeros for a
    /// number (<paramref name="zeroPad"/>), which go after its sign or <c>0x</c> prefix as vsnprintf puts them.
    /// </summary>
    internal static string Pad(string text, int width, bool leftAlign, bool zeroPad)
    {
        if (text.Length >= width)
            return text;
        if (leftAlign)
            return text.PadRight(width);
        if (!zeroPad)
            return text.PadLeft(width);
        var prefix = text.StartsWith("0x", StringComparison.Ordinal) || text.StartsWith("0X", StringComparison.Ordinal) ? 2
            : text.Length > 0 && text[0] is '-' or '+' or ' ' ? 1 : 0;
        return text[..prefix] + text[prefix..].PadLeft(width - prefix, '0');
    }

    // As bpf_bprintf_prepare: the string is read with strncpy_from_kernel_nofault into the remaining buffer; a fault
    // leaves it empty.
    private static string ReadString(ulong address, HelperContext context)
    {
        var sb = new StringBuilder();
        for (ulong i = 0; i < 512; i++)
        {
            if (!context.CanAccess(address + i, 1, write: false))
                return "";
            var b = *(byte*)(address + i);
            if (b == 0)
                break;
            sb.Append((char)b);
        }

        return sb.ToString();
    }
}
