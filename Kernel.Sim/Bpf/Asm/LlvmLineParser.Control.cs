using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>Jumps and calls, and their targets: labels, <c>+N</c>/<c>-N</c> and <c>pc+N</c>.</summary>
internal sealed partial class LlvmLineParser
{
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
}
