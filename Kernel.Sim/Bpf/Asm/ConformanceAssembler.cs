using System.Globalization;
using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// Assembles the bpf_conformance assembly syntax (<c>mov32 %r0, 1</c>, <c>ldxw %r0, [%r1+4]</c>,
/// <c>lock fetch add [%r10-8], %r1</c>, labels, <c>+N</c> offsets, the implicit <c>exit</c> label) plus the
/// KernelSim extensions documented in docs/bpf.md (<c>call runtime N</c> for kfuncs, <c>lddw %rN, map_fd N</c>
/// and friends, <c>ldabsw</c>/<c>ldindw</c>). Errors are <see cref="AsmException"/>s with file, line and column.
/// </summary>
public sealed class ConformanceAssembler
{
    private readonly string _file;
    private readonly List<Instruction> _output = [];
    private readonly Dictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly List<Fixup> _fixups = [];
    private int _firstExit = -1;
    private int _line;

    private ConformanceAssembler(string file) => _file = file;

    /// <summary>Assembles <paramref name="text"/>; <paramref name="file"/> names the source in error messages.</summary>
    public static Instruction[] Assemble(string text, string file = "<input>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var assembler = new ConformanceAssembler(file);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            assembler._line = i + 1;
            assembler.AssembleLine(lines[i].TrimEnd('\r'));
        }

        assembler.ResolveLabels();
        return [.. assembler._output];
    }

    private readonly record struct Token(string Text, int Column);

    private readonly record struct Fixup(int Index, Token Target, int Line, bool InImm);

    private AsmException Error(int column, string reason) => new(_file, _line, column, reason);

    private AsmException Error(Token token, string reason) => Error(token.Column, reason);

    private void AssembleLine(string line)
    {
        var hash = line.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
            line = line[..hash];
        var tokens = Tokenize(line);
        if (tokens.Count == 0)
            return;
        if (tokens[0].Text.EndsWith(':'))
        {
            var name = tokens[0].Text[..^1];
            if (!IsLabelName(name))
                throw Error(tokens[0], $"invalid label name '{name}'");
            if (!_labels.TryAdd(name, _output.Count))
                throw Error(tokens[0], $"duplicate label '{name}'");
            tokens.RemoveAt(0);
            if (tokens.Count == 0)
                return;
        }

        AssembleInstruction(tokens[0], tokens.GetRange(1, tokens.Count - 1));
    }

    /// <summary>Splits on whitespace and commas; a bracketed memory operand is one token even with spaces inside.</summary>
    private List<Token> Tokenize(string line)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]) || line[i] == ',')
            {
                i++;
                continue;
            }

            var start = i;
            if (line[i] == '[')
            {
                var close = line.IndexOf(']', i);
                if (close < 0)
                    throw Error(start + 1, "bad memory operand: missing ']'");
                i = close + 1;
                tokens.Add(new Token(string.Concat(line[start..i].Where(c => !char.IsWhiteSpace(c))), start + 1));
                continue;
            }

            while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] != ',')
                i++;
            tokens.Add(new Token(line[start..i], start + 1));
        }

        return tokens;
    }

    private static bool IsLabelName(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] is '_' or '.') &&
        name.All(c => char.IsLetterOrDigit(c) || c is '_' or '.');

    private void Emit(Instruction insn) => _output.Add(insn);

    private void AssembleInstruction(Token mnemonic, List<Token> ops)
    {
        var m = mnemonic.Text;
        if (m == "exit")
        {
            Expect(mnemonic, ops, 0);
            if (_firstExit < 0)
                _firstExit = _output.Count;
            Emit(Instruction.Exit());
            return;
        }

        if (m == "lock")
        {
            AssembleAtomic(mnemonic, ops);
            return;
        }

        if (m == "call")
        {
            AssembleCall(mnemonic, ops);
            return;
        }

        if (m == "lddw")
        {
            AssembleLddw(mnemonic, ops);
            return;
        }

        if (m is "ja" or "ja32")
        {
            Expect(mnemonic, ops, 1);
            if (m == "ja")
                EmitJump(new Instruction(BPF_JMP | BPF_JA, 0, 0, 0, 0), ops[0], inImm: false);
            else
                EmitJump(new Instruction(BPF_JMP32 | BPF_JA, 0, 0, 0, 0), ops[0], inImm: true);
            return;
        }

        var is32 = m.EndsWith("32", StringComparison.Ordinal) && !m.StartsWith("movsx", StringComparison.Ordinal);
        var stem = is32 ? m[..^2] : m;

        foreach (var (name, op, offset) in ConformanceSyntax.AluOps)
        {
            if (stem != name)
                continue;
            Expect(mnemonic, ops, 2);
            var cls = is32 ? BPF_ALU : BPF_ALU64;
            var dst = Register(ops[0]);
            if (IsRegister(ops[1]))
                Emit(new Instruction((byte)(cls | op | BPF_X), dst, Register(ops[1]), offset, 0));
            else
                Emit(new Instruction((byte)(cls | op | BPF_K), dst, 0, offset, Imm32(ops[1])));
            return;
        }

        foreach (var (name, op) in ConformanceSyntax.JumpOps)
        {
            if (stem != name)
                continue;
            Expect(mnemonic, ops, 3);
            var cls = is32 ? BPF_JMP32 : BPF_JMP;
            var dst = Register(ops[0]);
            var insn = IsRegister(ops[1])
                ? new Instruction((byte)(cls | op | BPF_X), dst, Register(ops[1]), 0, 0)
                : new Instruction((byte)(cls | op | BPF_K), dst, 0, 0, Imm32(ops[1]));
            EmitJump(insn, ops[2], inImm: false);
            return;
        }

        if (stem == "neg")
        {
            Expect(mnemonic, ops, 1);
            Emit(new Instruction((byte)((is32 ? BPF_ALU : BPF_ALU64) | BPF_NEG | BPF_K), Register(ops[0]), 0, 0, 0));
            return;
        }

        if (TryByteOrder(mnemonic, ops) || TryMovsx(mnemonic, ops) || TryLoadStore(mnemonic, ops) || TryLegacyPacket(mnemonic, ops))
            return;

        throw Error(mnemonic, $"unknown mnemonic '{m}'");
    }

    private bool TryByteOrder(Token mnemonic, List<Token> ops)
    {
        var m = mnemonic.Text;
        byte opcode;
        string width;
        if (m.StartsWith("le", StringComparison.Ordinal))
            (opcode, width) = (BPF_ALU | BPF_END | BPF_TO_LE, m[2..]);
        else if (m.StartsWith("be", StringComparison.Ordinal))
            (opcode, width) = (BPF_ALU | BPF_END | BPF_TO_BE, m[2..]);
        else if (m.StartsWith("bswap", StringComparison.Ordinal))
            (opcode, width) = (BPF_ALU64 | BPF_END | BPF_TO_LE, m[5..]);
        else if (m.StartsWith("swap", StringComparison.Ordinal))
            (opcode, width) = (BPF_ALU64 | BPF_END | BPF_TO_LE, m[4..]);
        else
            return false;
        if (width is not ("16" or "32" or "64"))
            return false;
        Expect(mnemonic, ops, 1);
        Emit(new Instruction(opcode, Register(ops[0]), 0, 0, int.Parse(width, CultureInfo.InvariantCulture)));
        return true;
    }

    private bool TryMovsx(Token mnemonic, List<Token> ops)
    {
        // movsx{8,16,32}{32,64}: sign-extending register move, the source width in off.
        var (cls, offset) = mnemonic.Text switch
        {
            "movsx832" => (BPF_ALU, (short)8),
            "movsx1632" => (BPF_ALU, (short)16),
            "movsx864" => (BPF_ALU64, (short)8),
            "movsx1664" => (BPF_ALU64, (short)16),
            "movsx3264" => (BPF_ALU64, (short)32),
            _ => (0, (short)0),
        };
        if (offset == 0)
            return false;
        Expect(mnemonic, ops, 2);
        Emit(new Instruction((byte)(cls | BPF_MOV | BPF_X), Register(ops[0]), Register(ops[1]), offset, 0));
        return true;
    }

    private bool TryLoadStore(Token mnemonic, List<Token> ops)
    {
        var m = mnemonic.Text;
        foreach (var (suffix, size) in ConformanceSyntax.Sizes)
        {
            if (m == "ldx" + suffix)
            {
                Expect(mnemonic, ops, 2);
                var dst = Register(ops[0]);
                var (src, off) = Memory(ops[1]);
                Emit(new Instruction((byte)(BPF_LDX | BPF_MEM | size), dst, src, off, 0));
                return true;
            }

            if (m == "ldxs" + suffix && size != BPF_DW)
            {
                Expect(mnemonic, ops, 2);
                var dst = Register(ops[0]);
                var (src, off) = Memory(ops[1]);
                Emit(new Instruction((byte)(BPF_LDX | BPF_MEMSX | size), dst, src, off, 0));
                return true;
            }

            if (m == "st" + suffix)
            {
                Expect(mnemonic, ops, 2);
                var (dst, off) = Memory(ops[0]);
                Emit(new Instruction((byte)(BPF_ST | BPF_MEM | size), dst, 0, off, Imm32(ops[1])));
                return true;
            }

            if (m == "stx" + suffix)
            {
                Expect(mnemonic, ops, 2);
                var (dst, off) = Memory(ops[0]);
                Emit(new Instruction((byte)(BPF_STX | BPF_MEM | size), dst, Register(ops[1]), off, 0));
                return true;
            }
        }

        return false;
    }

    private bool TryLegacyPacket(Token mnemonic, List<Token> ops)
    {
        // Extension: ldabs{b,h,w} IMM and ldind{b,h,w} %rS, IMM (uBPF's names for BPF_LD | BPF_ABS/BPF_IND).
        foreach (var (suffix, size) in ConformanceSyntax.Sizes)
        {
            if (size == BPF_DW)
                continue;
            if (mnemonic.Text == "ldabs" + suffix)
            {
                Expect(mnemonic, ops, 1);
                Emit(new Instruction((byte)(BPF_LD | BPF_ABS | size), 0, 0, 0, Imm32(ops[0])));
                return true;
            }

            if (mnemonic.Text == "ldind" + suffix)
            {
                Expect(mnemonic, ops, 2);
                Emit(new Instruction((byte)(BPF_LD | BPF_IND | size), 0, Register(ops[0]), 0, Imm32(ops[1])));
                return true;
            }
        }

        return false;
    }

    private void AssembleAtomic(Token mnemonic, List<Token> ops)
    {
        // lock [fetch] OP[32] [dst+off], src
        var fetch = ops.Count > 0 && ops[0].Text == "fetch";
        var rest = fetch ? ops.GetRange(1, ops.Count - 1) : ops;
        if (rest.Count != 3)
            throw Error(mnemonic, $"'lock' takes [fetch] OP [dst+off], src ({ops.Count} operands given)");
        var opToken = rest[0];
        var is32 = opToken.Text.EndsWith("32", StringComparison.Ordinal);
        var name = is32 ? opToken.Text[..^2] : opToken.Text;
        var found = Array.FindIndex(ConformanceSyntax.AtomicOps, a => a.Name == name);
        if (found < 0)
            throw Error(opToken, $"unknown atomic operation '{opToken.Text}'");
        var imm = ConformanceSyntax.AtomicOps[found].Imm;
        if (fetch)
        {
            if (imm is BPF_XCHG or BPF_CMPXCHG)
                throw Error(ops[0], $"'fetch' is implied by '{name}'");
            imm |= BPF_FETCH;
        }

        var (dst, off) = Memory(rest[1]);
        var src = Register(rest[2]);
        Emit(new Instruction((byte)(BPF_STX | BPF_ATOMIC | (is32 ? BPF_W : BPF_DW)), dst, src, off, imm));
    }

    private void AssembleCall(Token mnemonic, List<Token> ops)
    {
        if (ops.Count == 1 && IsRegister(ops[0]))
        {
            // callx: the register goes in dst, as bpf_conformance encodes it.
            Emit(new Instruction(BPF_JMP | BPF_CALL | BPF_X, Register(ops[0]), 0, 0, 0));
            return;
        }

        if (ops.Count == 1)
        {
            Emit(new Instruction(BPF_JMP | BPF_CALL, 0, 0, 0, Imm32(ops[0])));
            return;
        }

        if (ops.Count < 2)
            throw Error(mnemonic, "'call' takes N, helper N, local TARGET, runtime N [OFF] or %rN");
        switch (ops[0].Text)
        {
            case "helper":
                Expect(mnemonic, ops, 2);
                Emit(new Instruction(BPF_JMP | BPF_CALL, 0, 0, 0, Imm32(ops[1])));
                return;
            case "local":
                Expect(mnemonic, ops, 2);
                EmitJump(new Instruction(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0), ops[1], inImm: true);
                return;
            case "runtime":
                // kfunc: imm is the BTF id; an optional off is the BTF fd index (KernelSim extension).
                if (ops.Count > 3)
                    throw Error(ops[3], "too many operands for 'call runtime'");
                var off = ops.Count == 3 ? Offset(ops[2]) : (short)0;
                Emit(new Instruction(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, off, Imm32(ops[1])));
                return;
            default:
                throw Error(ops[0], $"unknown call mode '{ops[0].Text}' (helper, local or runtime)");
        }
    }

    private void AssembleLddw(Token mnemonic, List<Token> ops)
    {
        if (ops.Count is not (2 or 3))
            throw Error(mnemonic, $"'lddw' takes 2 operands ({ops.Count} given)");
        var dst = Register(ops[0]);
        byte src = 0;
        var valueToken = ops[1];
        if (ops.Count == 3)
        {
            var kind = Array.IndexOf(ConformanceSyntax.LddwKinds, ops[1].Text);
            if (kind <= 0)
                throw Error(ops[1], $"unknown lddw kind '{ops[1].Text}' (map_fd, map_value, btf_id, func, map_idx, map_idx_value)");
            src = (byte)kind;
            valueToken = ops[2];
        }

        var value = Imm64(valueToken);
        var (first, second) = Instruction.LdImm64Pair(dst, value, src);
        Emit(first);
        Emit(second);
    }

    private void EmitJump(Instruction insn, Token target, bool inImm)
    {
        var t = target.Text;
        if (t.Length > 0 && (t[0] == '+' || t[0] == '-'))
        {
            if (inImm)
                Emit(new Instruction(insn.Opcode, insn.Dst, insn.Src, insn.Offset, Imm32(target)));
            else
                Emit(new Instruction(insn.Opcode, insn.Dst, insn.Src, Offset(target), insn.Imm));
            return;
        }

        if (!IsLabelName(t))
            throw Error(target, $"bad jump target '{t}' (a label or +N/-N)");
        _fixups.Add(new Fixup(_output.Count, target, _line, inImm));
        Emit(insn);
    }

    private void ResolveLabels()
    {
        foreach (var fixup in _fixups)
        {
            _line = fixup.Line;
            var name = fixup.Target.Text;
            if (!_labels.TryGetValue(name, out var target))
            {
                if (name == "exit" && _firstExit >= 0)
                    target = _firstExit;
                else
                    throw Error(fixup.Target, $"undefined label '{name}'");
            }

            var delta = (long)target - fixup.Index - 1;
            var insn = _output[fixup.Index];
            if (fixup.InImm)
            {
                _output[fixup.Index] = new Instruction(insn.Opcode, insn.Dst, insn.Src, insn.Offset, (int)delta);
                continue;
            }

            if (delta is < short.MinValue or > short.MaxValue)
                throw Error(fixup.Target, $"jump out of range: '{name}' is {delta} slots away (off is s16; use ja32 for a long jump)");
            _output[fixup.Index] = new Instruction(insn.Opcode, insn.Dst, insn.Src, (short)delta, insn.Imm);
        }
    }

    private void Expect(Token mnemonic, List<Token> ops, int count)
    {
        if (ops.Count != count)
            throw Error(ops.Count > count ? ops[count] : mnemonic, $"'{mnemonic.Text}' takes {count} operand{(count == 1 ? "" : "s")} ({ops.Count} given)");
    }

    private static bool IsRegister(Token token) => token.Text.StartsWith('%');

    private byte Register(Token token)
    {
        var t = token.Text;
        if (t.StartsWith("%r", StringComparison.Ordinal) && t.Length is 3 or 4 &&
            byte.TryParse(t.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= ProgramValidator.MaxRegister &&
            (t.Length == 3 || t[2] != '0'))
            return n;
        throw Error(token, $"bad register '{t}' (expected %r0..%r10)");
    }

    private (byte Reg, short Offset) Memory(Token token)
    {
        var t = token.Text;
        if (t.Length < 4 || t[0] != '[' || t[^1] != ']')
            throw Error(token, $"bad memory operand '{t}' (expected [%rN], [%rN+off] or [%rN-off])");
        var inner = t[1..^1];
        var sign = inner.IndexOfAny(['+', '-']);
        var reg = Register(new Token(sign < 0 ? inner : inner[..sign], token.Column + 1));
        if (sign < 0)
            return (reg, 0);
        var offset = new Token(inner[sign..], token.Column + 1 + sign);
        if (offset.Text.Length == 1)
            throw Error(offset, $"bad memory operand '{t}': missing offset");
        return (reg, Offset(offset));
    }

    private short Offset(Token token)
    {
        if (!TryParseInteger(token.Text, out var value, out _))
            throw Error(token, $"bad offset '{token.Text}'");
        if (value is < short.MinValue or > short.MaxValue)
            throw Error(token, $"offset {token.Text} out of range (s16: -32768..32767)");
        return (short)value;
    }

    private int Imm32(Token token)
    {
        if (!TryParseInteger(token.Text, out var value, out var hex))
            throw Error(token, $"bad immediate '{token.Text}'");
        // Hex is the raw 32-bit pattern (0xffffff80 == -128); decimal must fit s32.
        if (hex && value is >= 0 and <= uint.MaxValue)
            return (int)(uint)value;
        if (value is < int.MinValue or > int.MaxValue)
            throw Error(token, $"immediate {token.Text} out of range (s32, or 0x0..0xffffffff)");
        return (int)value;
    }

    private ulong Imm64(Token token)
    {
        var t = token.Text;
        var negative = t.StartsWith('-');
        var digits = negative || t.StartsWith('+') ? t[1..] : t;
        ulong magnitude;
        bool ok;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ok = ulong.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude) && digits.Length > 2;
        else
            ok = ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude);
        if (!ok)
        {
            var overflow = digits.Length > 0 && digits.All(c => char.IsAsciiHexDigit(c) || c is 'x' or 'X');
            throw Error(token, overflow ? $"immediate {t} out of range (64 bits)" : $"bad immediate '{t}'");
        }

        if (!negative)
            return magnitude;
        if (magnitude > 1UL << 63)
            throw Error(token, $"immediate {t} out of range (s64)");
        return 0UL - magnitude;
    }

    /// <summary>Parses decimal or 0x hex with an optional sign into a wide value (range checks are the caller's).</summary>
    private static bool TryParseInteger(string text, out long value, out bool hex)
    {
        value = 0;
        hex = false;
        var negative = text.StartsWith('-');
        var digits = negative || text.StartsWith('+') ? text[1..] : text;
        ulong magnitude;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            hex = true;
            if (digits.Length == 2 || !ulong.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude))
                return false;
        }
        else if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude))
        {
            return false;
        }

        // Clamp absurd magnitudes so the range check reports them instead of wrapping.
        if (magnitude > long.MaxValue)
            magnitude = long.MaxValue;
        value = negative ? -(long)magnitude : (long)magnitude;
        return true;
    }
}
