using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>Parses the statement on one line of LLVM-syntax assembly into instruction slots.</summary>
internal sealed partial class LlvmLineParser(List<LlvmToken> tokens, string file, int line, int lineLength)
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
}
