using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>Registers, numbers, punctuation and the width rules every statement shares.</summary>
internal sealed partial class LlvmLineParser
{
    private void RequireSameWidth(Reg dst, Reg src)
    {
        if (dst.Is32 != src.Is32)
            throw Error(src.Column, $"mixed 32-bit and 64-bit registers ({Name(dst)} and {Name(src)}): use w for both or r for both");
    }

    private void RequireWide(Reg reg, string what)
    {
        if (reg.Is32)
            throw Error(reg.Column, $"{what} needs a 64-bit register: write r{reg.Number}");
    }

    private static string Name(Reg reg) => $"{(reg.Is32 ? 'w' : 'r')}{reg.Number}";

    private int ExpectImm32() => (int)(uint)(ulong)ExpectInteger(int.MinValue, uint.MaxValue, "immediate");

    /// <summary>
    /// A number with optional sign in [<paramref name="min"/>, <paramref name="max"/>] (max as unsigned, so a 32-bit
    /// immediate may be written as its bit pattern 0x80000000..0xffffffff). Returns the two's-complement bits.
    /// </summary>
    private long ExpectInteger(long min, ulong max, string what, string? rangeMessage = null)
    {
        var token = Next(what);
        var column = token.Column;
        var negative = false;
        if (token.Is("-") || token.Is("+"))
        {
            negative = token.Is("-");
            token = Next(what);
        }

        if (token.Kind != LlvmTokenKind.Number)
        {
            if (token.Kind == LlvmTokenKind.Identifier && TryParseRegister(token, out _))
                throw Error(token.Column, $"expected {what}, found register '{token.Text}'");
            throw Error(token.Column, $"expected {what}, found '{token.Text}'");
        }

        var text = (negative ? "-" : "") + token.Text;
        var minMagnitude = min < 0 ? (ulong)(-(min + 1)) + 1 : 0;
        var inRange = !token.Overflow && (negative ? token.Value <= minMagnitude : token.Value <= max);
        if (!inRange)
            throw Error(column, rangeMessage is null ? $"{what} {text} out of range [{min}, {max}]" : $"{rangeMessage}: {text} does not fit [{min}, {max}]");
        return negative ? unchecked(-(long)token.Value) : unchecked((long)token.Value);
    }

    private bool PeekRegister(out Reg reg)
    {
        reg = default;
        return !AtEnd && tokens[_pos].Kind == LlvmTokenKind.Identifier && TryParseRegister(tokens[_pos], out reg);
    }

    private Reg ExpectRegister()
    {
        var token = Next("a register");
        if (token.Kind != LlvmTokenKind.Identifier || !TryParseRegister(token, out var reg))
            throw Error(token.Column, $"expected a register (r0-r10 or w0-w10), found '{token.Text}'");
        return reg;
    }

    /// <summary>True for rN/wN; throws for a register-shaped name outside r0..r10 (r11, w15, r01 stays a name).</summary>
    private bool TryParseRegister(LlvmToken token, out Reg reg)
    {
        reg = default;
        var text = token.Text;
        if (text.Length < 2 || text[0] is not ('r' or 'w') || text.AsSpan(1).ContainsAnyExceptInRange('0', '9'))
            return false;
        if (text.Length > 3 || !int.TryParse(text.AsSpan(1), out var number) || number > 10)
            throw Error(token.Column, $"bad register '{text}' (registers are r0-r10, w0-w10)");
        reg = new Reg((byte)number, text[0] == 'w', token.Column);
        return true;
    }

    private LlvmToken Peek(string what) =>
        AtEnd ? throw Error(lineLength + 1, $"expected {what} at end of line") : tokens[_pos];

    private LlvmToken Next(string what)
    {
        var token = Peek(what);
        _pos++;
        return token;
    }

    private void Expect(string punct)
    {
        var token = Next($"'{punct}'");
        if (!token.Is(punct))
            throw Error(token.Column, $"expected '{punct}', found '{token.Text}'");
    }

    private AsmException Error(int column, string reason) => new(file, line, column, reason);
}
