using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>Parses the statement on one line of LLVM-syntax assembly into instruction slots.</summary>
internal sealed class LineParser(List<LlvmToken> tokens, string file, int line, int lineLength)
{
    private int _pos;

    /// <summary>A register operand: its number and whether it was written as <c>wN</c>.</summary>
    private readonly record struct Reg(byte Number, bool Is32, int Column);

    /// <summary>A memory operand <c>(rN + off)</c>.</summary>
    private readonly record struct Address(byte Base, short Offset);

    public bool AtEnd => _pos >= tokens.Count;

    /// <summary>Consumes leading <c>name:</c> labels (recording them) and an llvm-objdump <c>N:</c> address column.</summary>
    public void SkipLabels(Dictionary<string, int> labels, int index)
    {
        while (_pos + 1 < tokens.Count && tokens[_pos + 1].Is(":"))
        {
            var token = tokens[_pos];
            if (token.Kind == LlvmTokenKind.Identifier)
            {
                if (!labels.TryAdd(token.Text, index))
                    throw Error(token.Column, $"label '{token.Text}' is defined twice");
            }
            else if (token.Kind != LlvmTokenKind.Number)
            {
                throw Error(token.Column, $"unexpected '{token.Text}'");
            }

            _pos += 2;
        }
    }

    public void ParseStatement(List<Instruction> program, List<LlvmAssembler.Fixup> fixups)
    {
        var first = tokens[_pos];
        if (first.Kind == LlvmTokenKind.Identifier && TryParseRegister(first, out _))
        {
            ParseAssignment(program);
        }
        else if (first.Is("*"))
        {
            ParseStore(program);
        }
        else if (first.Kind != LlvmTokenKind.Identifier)
        {
            throw Error(first.Column, $"unexpected '{first.Text}' at start of statement");
        }
        else
        {
            _pos++;
            switch (first.Text)
            {
                case "exit":
                    program.Add(Instruction.Exit());
                    break;
                case "goto":
                    ParseTarget(program, fixups, new Instruction(BPF_JMP | BPF_JA, 0, 0, 0, 0), LlvmAssembler.FixupKind.Jump16);
                    break;
                case "gotol":
                    ParseTarget(program, fixups, new Instruction(BPF_JMP32 | BPF_JA, 0, 0, 0, 0), LlvmAssembler.FixupKind.Jump32);
                    break;
                case "if":
                    ParseConditionalJump(program, fixups);
                    break;
                case "call":
                    ParseCall(program, fixups);
                    break;
                case "callx":
                    var target = ExpectRegister();
                    RequireWide(target, "callx");
                    program.Add(new Instruction(BPF_JMP | BPF_CALL | BPF_X, target.Number, 0, 0, 0));
                    break;
                case "lock":
                    ParseLock(program);
                    break;
                case "ld_pseudo":
                    ParseLdPseudo(program);
                    break;
                case ".quad":
                case ".8byte":
                    program.Add(Instruction.FromUInt64((ulong)ExpectInteger(long.MinValue, ulong.MaxValue, "value")));
                    break;
                default:
                    throw Error(first.Column, first.Text.StartsWith('.') ? $"unknown directive '{first.Text}'" : $"unknown instruction '{first.Text}'");
            }
        }

        if (!AtEnd)
            throw Error(tokens[_pos].Column, $"unexpected '{tokens[_pos].Text}' after the instruction");
    }

    // dst = ... and dst op= ...
    private void ParseAssignment(List<Instruction> program)
    {
        var dst = ExpectRegister();
        var opToken = Next("an assignment operator");
        if (opToken.Kind != LlvmTokenKind.Punct)
            throw Error(opToken.Column, $"expected an assignment operator, found '{opToken.Text}'");
        if (opToken.Text == "=")
        {
            ParseRightHandSide(dst, program);
            return;
        }

        var op = Array.IndexOf(LlvmSyntax.AluOperators, opToken.Text);
        short offset = 0;
        if (op < 0 && opToken.Text is "s/=" or "s%=")
        {
            op = Array.IndexOf(LlvmSyntax.AluOperators, opToken.Text[1..]);
            offset = 1;
        }

        if (op < 0 || op == BPF_MOV >> 4)
            throw Error(opToken.Column, $"unknown operator '{opToken.Text}'");
        EmitAlu(program, dst, (byte)(op << 4), offset);
    }

    // Operand after "dst op=": a register of the same width or a 32-bit immediate.
    private void EmitAlu(List<Instruction> program, Reg dst, byte op, short offset)
    {
        var cls = dst.Is32 ? BPF_ALU : BPF_ALU64;
        if (PeekRegister(out var src))
        {
            _pos++;
            RequireSameWidth(dst, src);
            program.Add(new Instruction((byte)(cls | op | BPF_X), dst.Number, src.Number, offset, 0));
            return;
        }

        var imm = ExpectImm32();
        program.Add(new Instruction((byte)(cls | op | BPF_K), dst.Number, 0, offset, imm));
    }

    private void ParseRightHandSide(Reg dst, List<Instruction> program)
    {
        var token = Peek("an operand");
        if (token.Is("-") && _pos + 1 < tokens.Count && TryParseRegister(tokens[_pos + 1], out var negated))
        {
            _pos += 2;
            if (negated.Number != dst.Number || negated.Is32 != dst.Is32)
                throw Error(negated.Column, $"negation must name the destination register {Name(dst)}");
            program.Add(new Instruction((byte)((dst.Is32 ? BPF_ALU : BPF_ALU64) | BPF_NEG), dst.Number, 0, 0, 0));
            return;
        }

        if (token.Is("*"))
        {
            ParseLoad(dst, program);
            return;
        }

        if (token.Is("(") && _pos + 1 < tokens.Count && tokens[_pos + 1].Kind == LlvmTokenKind.Identifier
            && tokens[_pos + 1].Text is "s8" or "s16" or "s32")
        {
            ParseMovsx(dst, program);
            return;
        }

        if (token.Kind == LlvmTokenKind.Identifier)
        {
            switch (token.Text)
            {
                case "le16" or "le32" or "le64" or "be16" or "be32" or "be64" or "bswap16" or "bswap32" or "bswap64":
                    ParseByteSwap(dst, program);
                    return;
                case "atomic_fetch_add" or "atomic_fetch_or" or "atomic_fetch_and" or "atomic_fetch_xor":
                    ParseAtomicFetch(dst, program);
                    return;
                case "xchg_64" or "xchg32_32" or "cmpxchg_64" or "cmpxchg32_32":
                    ParseExchange(dst, program);
                    return;
            }
        }

        if (PeekRegister(out _))
        {
            EmitAlu(program, dst, BPF_MOV, 0);
            return;
        }

        // dst = imm (mov) or dst = imm64 ll (lddw).
        var start = _pos;
        var value = ExpectInteger(long.MinValue, ulong.MaxValue, "immediate");
        if (!AtEnd && tokens[_pos].IsWord("ll"))
        {
            _pos++;
            RequireWide(dst, "a 64-bit load (ll)");
            var (lo, hi) = Instruction.LdImm64Pair(dst.Number, (ulong)value);
            program.Add(lo);
            program.Add(hi);
            return;
        }

        _pos = start;
        program.Add(new Instruction((byte)((dst.Is32 ? BPF_ALU : BPF_ALU64) | BPF_MOV | BPF_K), dst.Number, 0, 0, ExpectImm32()));
    }

    // dst = *(u32 *)(rS + off), dst = *(s16 *)(rS + off), r0 = *(u8 *)skb[...]
    private void ParseLoad(Reg dst, List<Instruction> program)
    {
        _pos++;
        var (size, signed, typeColumn) = ParsePointerType();
        if (!AtEnd && tokens[_pos].IsWord("skb"))
        {
            ParsePacketLoad(dst, size, signed, typeColumn, program);
            return;
        }

        var address = ParseAddress();
        if (signed && size == BPF_DW)
            throw Error(typeColumn, "there is no sign-extending 64-bit load");
        if (dst.Is32 && (signed || size == BPF_DW))
            throw Error(dst.Column, $"a {(signed ? "sign-extending" : "64-bit")} load needs a 64-bit destination register");
        var mode = signed ? BPF_MEMSX : BPF_MEM;
        program.Add(new Instruction((byte)(BPF_LDX | mode | size), dst.Number, address.Base, address.Offset, 0));
    }

    private void ParsePacketLoad(Reg dst, byte size, bool signed, int typeColumn, List<Instruction> program)
    {
        _pos++;
        if (signed || size == BPF_DW)
            throw Error(typeColumn, "packet loads (skb[...]) take u8, u16 or u32");
        if (dst.Number != 0 || dst.Is32)
            throw Error(dst.Column, "packet loads (skb[...]) always write r0");
        Expect("[");
        if (PeekRegister(out var index))
        {
            _pos++;
            RequireWide(index, "a packet index");
            var imm = 0;
            if (!AtEnd && (tokens[_pos].Is("+") || tokens[_pos].Is("-")))
                imm = ExpectImm32();
            Expect("]");
            program.Add(new Instruction((byte)(BPF_LD | BPF_IND | size), 0, index.Number, 0, imm));
            return;
        }

        var offset = ExpectImm32();
        Expect("]");
        program.Add(new Instruction((byte)(BPF_LD | BPF_ABS | size), 0, 0, 0, offset));
    }

    private void ParseMovsx(Reg dst, List<Instruction> program)
    {
        _pos++;
        var type = tokens[_pos++];
        Expect(")");
        var src = ExpectRegister();
        RequireSameWidth(dst, src);
        var bits = short.Parse(type.Text.AsSpan(1));
        if (dst.Is32 && bits == 32)
            throw Error(type.Column, "(s32) needs 64-bit registers; a 32-bit move already copies 32 bits");
        program.Add(new Instruction((byte)((dst.Is32 ? BPF_ALU : BPF_ALU64) | BPF_MOV | BPF_X), dst.Number, src.Number, bits, 0));
    }

    private void ParseByteSwap(Reg dst, List<Instruction> program)
    {
        var op = Next("a byte swap");
        var same = ExpectRegister();
        if (dst.Is32 || same.Is32)
            throw Error(dst.Is32 ? dst.Column : same.Column, $"{op.Text} is written with 64-bit register names (r{dst.Number} = {op.Text} r{dst.Number})");
        if (same.Number != dst.Number)
            throw Error(same.Column, $"{op.Text} works in place: the operand must be {Name(dst)}");
        var width = int.Parse(op.Text.AsSpan(op.Text.Length - 2));
        var opcode = op.Text[0] switch
        {
            'l' => BPF_ALU | BPF_END | BPF_TO_LE,
            'b' when op.Text[1] == 'e' => BPF_ALU | BPF_END | BPF_TO_BE,
            _ => BPF_ALU64 | BPF_END | BPF_TO_LE,
        };
        program.Add(new Instruction((byte)opcode, dst.Number, 0, 0, width));
    }

    // rS = atomic_fetch_add((u64 *)(rD + off), rS)
    private void ParseAtomicFetch(Reg result, List<Instruction> program)
    {
        var name = tokens[_pos++];
        Expect("(");
        Expect("(");
        var (size, signed, typeColumn) = ParsePointerTypeBody();
        var address = ParseAddress();
        Expect(",");
        var src = ExpectRegister();
        Expect(")");
        var op = LlvmSyntax.AtomicOperations.First(a => "atomic_fetch_" + a.Name == name.Text).Op;
        RequireAtomicOperand(size, signed, typeColumn, src);
        if (src.Number != result.Number || src.Is32 != result.Is32)
            throw Error(result.Column, $"the fetched value goes to the source register: write {Name(src)} = {name.Text}(..., {Name(src)})");
        program.Add(new Instruction((byte)(BPF_STX | BPF_ATOMIC | size), address.Base, src.Number, address.Offset, op | BPF_FETCH));
    }

    // rS = xchg_64(rD + off, rS), r0 = cmpxchg_64(rD + off, r0, rS) and their 32-bit forms.
    private void ParseExchange(Reg result, List<Instruction> program)
    {
        var name = tokens[_pos++];
        var size = name.Text.Contains("32_32", StringComparison.Ordinal) ? BPF_W : BPF_DW;
        var compare = name.Text.StartsWith("cmp", StringComparison.Ordinal);
        Expect("(");
        var address = ParseAddressBody();
        Expect(",");
        if (compare)
        {
            var old = ExpectRegister();
            if (old.Number != 0)
                throw Error(old.Column, $"{name.Text} compares with r0: write {(size == BPF_W ? "w0" : "r0")} here");
            if (result.Number != 0)
                throw Error(result.Column, $"{name.Text} returns the old value in r0");
            Expect(",");
        }

        var src = ExpectRegister();
        Expect(")");
        RequireAtomicOperand(size, false, name.Column, src);
        if (size == BPF_W != result.Is32)
            throw Error(result.Column, $"{name.Text} returns a {(size == BPF_W ? "32" : "64")}-bit value: write {(size == BPF_W ? "w" : "r")}{result.Number}");
        if (!compare && src.Number != result.Number)
            throw Error(result.Column, $"the exchanged value goes to the source register: write {Name(src)} = {name.Text}(..., {Name(src)})");
        program.Add(new Instruction((byte)(BPF_STX | BPF_ATOMIC | size), address.Base, src.Number, address.Offset, compare ? BPF_CMPXCHG : BPF_XCHG));
    }

    // lock *(u64 *)(rD + off) += rS
    private void ParseLock(List<Instruction> program)
    {
        Expect("*");
        var (size, signed, typeColumn) = ParsePointerType();
        var address = ParseAddress();
        var opToken = Next("an atomic operator (+= |= &= ^=)");
        var op = Array.FindIndex(LlvmSyntax.AtomicOperations, a => opToken.Is(a.Operator));
        if (op < 0)
            throw Error(opToken.Column, $"expected an atomic operator (+= |= &= ^=), found '{opToken.Text}'");
        var src = ExpectRegister();
        RequireAtomicOperand(size, signed, typeColumn, src);
        program.Add(new Instruction((byte)(BPF_STX | BPF_ATOMIC | size), address.Base, src.Number, address.Offset, LlvmSyntax.AtomicOperations[op].Op));
    }

    // *(u32 *)(rD + off) = rS | imm
    private void ParseStore(List<Instruction> program)
    {
        _pos++;
        var (size, signed, typeColumn) = ParsePointerType();
        if (signed)
            throw Error(typeColumn, "stores take an unsigned type (u8, u16, u32, u64)");
        var address = ParseAddress();
        Expect("=");
        if (PeekRegister(out var src))
        {
            _pos++;
            if (src.Is32 && size == BPF_DW)
                throw Error(src.Column, $"a 64-bit store needs a 64-bit source register: write r{src.Number}");
            program.Add(new Instruction((byte)(BPF_STX | BPF_MEM | size), address.Base, src.Number, address.Offset, 0));
            return;
        }

        program.Add(new Instruction((byte)(BPF_ST | BPF_MEM | size), address.Base, 0, address.Offset, ExpectImm32()));
    }

    private void ParseConditionalJump(List<Instruction> program, List<LlvmAssembler.Fixup> fixups)
    {
        var dst = ExpectRegister();
        var opToken = Next("a comparison operator");
        var op = opToken.Kind == LlvmTokenKind.Punct ? Array.IndexOf(LlvmSyntax.JumpOperators, opToken.Text) : -1;
        if (op < 0)
            throw Error(opToken.Column, $"expected a comparison operator (== != > >= < <= s> s>= s< s<= &), found '{opToken.Text}'");
        var cls = dst.Is32 ? BPF_JMP32 : BPF_JMP;
        Instruction insn;
        if (PeekRegister(out var src))
        {
            _pos++;
            RequireSameWidth(dst, src);
            insn = new Instruction((byte)(cls | (op << 4) | BPF_X), dst.Number, src.Number, 0, 0);
        }
        else
        {
            insn = new Instruction((byte)(cls | (op << 4) | BPF_K), dst.Number, 0, 0, ExpectImm32());
        }

        var gotoToken = Next("'goto'");
        if (!gotoToken.IsWord("goto"))
            throw Error(gotoToken.Column, $"expected 'goto', found '{gotoToken.Text}'");
        ParseTarget(program, fixups, insn, LlvmAssembler.FixupKind.Jump16);
    }

    private void ParseCall(List<Instruction> program, List<LlvmAssembler.Fixup> fixups)
    {
        var token = Peek("a helper number, label or pc+N");
        if (token.IsWord("kfunc"))
        {
            _pos++;
            var btfId = ExpectImm32();
            short fdIndex = 0;
            if (!AtEnd && tokens[_pos].Is(","))
            {
                _pos++;
                fdIndex = (short)ExpectInteger(short.MinValue, (ulong)short.MaxValue, "fd_array index");
            }

            program.Add(new Instruction(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, fdIndex, btfId));
            return;
        }

        if (token.Kind == LlvmTokenKind.Identifier)
        {
            ParseTarget(program, fixups, new Instruction(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0), LlvmAssembler.FixupKind.Call);
            return;
        }

        program.Add(new Instruction(BPF_JMP | BPF_CALL, 0, 0, 0, ExpectImm32()));
    }

    private void ParseLdPseudo(List<Instruction> program)
    {
        var dst = ExpectRegister();
        RequireWide(dst, "ld_pseudo");
        Expect(",");
        var srcToken = Peek("a pseudo source (1-6)");
        var src = ExpectInteger(0, 15, "pseudo source");
        if (src is < 1 or > 6)
            throw Error(srcToken.Column, $"ld_pseudo source {src} is not one of 1..6 (BPF_PSEUDO_MAP_FD..BPF_PSEUDO_MAP_IDX_VALUE)");
        Expect(",");
        var value = (ulong)ExpectInteger(long.MinValue, ulong.MaxValue, "immediate");
        var (lo, hi) = Instruction.LdImm64Pair(dst.Number, value, (byte)src);
        program.Add(lo);
        program.Add(hi);
    }

    // +N, -N, pc+N, pc-N or a label.
    private void ParseTarget(List<Instruction> program, List<LlvmAssembler.Fixup> fixups, Instruction insn, LlvmAssembler.FixupKind kind)
    {
        var token = Peek("a jump target");
        if (token.IsWord("pc") && _pos + 1 < tokens.Count && (tokens[_pos + 1].Is("+") || tokens[_pos + 1].Is("-")))
        {
            _pos++;
            token = tokens[_pos];
        }

        if (token.Kind == LlvmTokenKind.Identifier)
        {
            _pos++;
            fixups.Add(new LlvmAssembler.Fixup(program.Count, token.Text, line, token.Column, kind));
            program.Add(insn);
            return;
        }

        if (!token.Is("+") && !token.Is("-"))
            throw Error(token.Column, $"expected a label or a signed offset such as +2 or -1, found '{token.Text}'");
        if (kind == LlvmAssembler.FixupKind.Jump16)
        {
            var offset = ExpectInteger(short.MinValue, (ulong)short.MaxValue, "jump offset", "jump out of range");
            program.Add(new Instruction(insn.Opcode, insn.Dst, insn.Src, (short)offset, insn.Imm));
        }
        else
        {
            var offset = ExpectInteger(int.MinValue, (ulong)int.MaxValue, "jump offset", "jump out of range");
            program.Add(new Instruction(insn.Opcode, insn.Dst, insn.Src, insn.Offset, (int)offset));
        }
    }

    // "(u32 *)" after a leading '*' was consumed.
    private (byte Size, bool Signed, int Column) ParsePointerType()
    {
        Expect("(");
        return ParsePointerTypeBody();
    }

    private (byte Size, bool Signed, int Column) ParsePointerTypeBody()
    {
        var type = Next("a type (u8, u16, u32, u64, s8, s16, s32)");
        if (type.Kind != LlvmTokenKind.Identifier || !LlvmSyntax.TryParseType(type.Text, out var size, out var signed))
            throw Error(type.Column, $"expected a type (u8, u16, u32, u64, s8, s16, s32), found '{type.Text}'");
        Expect("*");
        Expect(")");
        return (size, signed, type.Column);
    }

    private Address ParseAddress()
    {
        Expect("(");
        var address = ParseAddressBody();
        Expect(")");
        return address;
    }

    // rN + off, rN - off, rN +off (kernel log), or rN alone.
    private Address ParseAddressBody()
    {
        var reg = ExpectRegister();
        RequireWide(reg, "an address");
        if (AtEnd || !(tokens[_pos].Is("+") || tokens[_pos].Is("-")))
            return new Address(reg.Number, 0);
        var offset = ExpectInteger(short.MinValue, (ulong)short.MaxValue, "offset");
        return new Address(reg.Number, (short)offset);
    }

    private void RequireAtomicOperand(byte size, bool signed, int typeColumn, Reg src)
    {
        if (signed || size is not (BPF_W or BPF_DW))
            throw Error(typeColumn, "atomic operations take u32 or u64");
        if (size == BPF_DW && src.Is32)
            throw Error(src.Column, $"a 64-bit atomic operation needs a 64-bit register: write r{src.Number}");
    }

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
