using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Bpf.Asm;

/// <summary>
/// Compares <see cref="LlvmDisassembler"/> with the real LLVM 14 tools over a batch of programs, with one llvm-mc run and
/// two llvm-objdump runs per batch:
/// (1) our text, assembled by <c>llvm-mc-14 -triple bpfel -mattr=+alu32 -filetype=obj</c>, must give our bytes;
/// (2) our text must equal what <c>llvm-objdump-14 -d --no-show-raw-insn</c> prints for our bytes (plain, or with
/// <c>--mattr=+alu32</c>, which is how LLVM shows 32-bit atomics), once the address column and <c>&lt;symbol&gt;</c>
/// annotations are removed, modulo whitespace and the base of numbers.
/// The forms LLVM 14 cannot express are listed in <see cref="AssemblerExemption"/> and <see cref="TextExemption"/>
/// with the reason; in half (1) an exempt instruction is handed to llvm-mc as <c>.quad</c> so the rest still lines up.
/// </summary>
public static partial class LlvmAgreement
{
    /// <summary>What one batch found, per program name.</summary>
    public sealed class Report
    {
        public Dictionary<string, List<string>> Failures { get; } = [];

        public Dictionary<string, List<string>> Exempt { get; } = [];

        public int TextCompared { get; set; }

        public int BytesCompared { get; set; }

        public void Fail(string program, string message) => Add(Failures, program, message);

        public void Exempted(string program, string message) => Add(Exempt, program, message);

        private static void Add(Dictionary<string, List<string>> map, string key, string message)
        {
            if (!map.TryGetValue(key, out var list))
                map[key] = list = [];
            list.Add(message);
        }
    }

    /// <summary>Runs both comparisons over <paramref name="programs"/> (names must be unique).</summary>
    public static Report Check(IReadOnlyList<(string Name, Instruction[] Program)> programs)
    {
        var report = new Report();
        var dir = Directory.CreateTempSubdirectory("kernelsim-llvm-agreement-");
        try
        {
            CheckAssembler(programs, dir.FullName, report);
            CheckText(programs, dir.FullName, report);
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("KERNELSIM_KEEP_LLVM_FILES") is null)
                dir.Delete(recursive: true);
        }

        return report;
    }

    /// <summary>Why llvm-mc-14 cannot assemble our text for this instruction, or null when it can.</summary>
    public static string? AssemblerExemption(ReadOnlySpan<Instruction> program, int i)
    {
        var insn = program[i];
        if (ProgramValidator.Check(program, i) is not null)
            return null; // printed as .quad, which llvm-mc assembles
        if (insn.Opcode == LdImm64)
            return insn.Src == 0 ? null : "ld_pseudo (lddw src_reg 1-6): LLVM 14 prints it but its assembler cannot parse it";
        if (Class(insn.Opcode) == BPF_STX && Mode(insn.Opcode) == BPF_ATOMIC
            && insn.Imm is not (BPF_ADD or BPF_OR or BPF_AND or BPF_XOR))
            return "atomic_fetch_*/xchg/cmpxchg: LLVM 14 prints them but its assembler cannot parse them";
        if (Class(insn.Opcode) == BPF_LD && Mode(insn.Opcode) == BPF_IND && insn.Imm != 0)
            return "skb[rN + imm]: LLVM 14 has only skb[rN] (imm 0)";
        var callTarget = (long)i + 1 + insn.Imm;
        if (insn.Opcode == (BPF_JMP | BPF_CALL) && insn.Src == BPF_PSEUDO_CALL && (callTarget < 0 || callTarget > program.Length))
            return "local call outside the program: LLVM 14 spells a local call only as 'call label'";
        return CommonExemption(insn);
    }

    /// <summary>Why llvm-objdump-14 cannot print this instruction as we do, or null when it can.</summary>
    public static string? TextExemption(ReadOnlySpan<Instruction> program, int i)
    {
        var insn = program[i];
        if (ProgramValidator.Check(program, i) is not null)
            return "not a valid instruction (printed as .quad); LLVM 14 decodes some such encodings loosely";
        if (insn.Opcode == LdImm64 && insn.Src != 0 && program[i + 1].Imm != 0)
            return "ld_pseudo with a nonzero upper half: LLVM 14 prints only the low 32 bits of the immediate";
        if (Class(insn.Opcode) == BPF_LD && Mode(insn.Opcode) == BPF_IND && insn.Imm != 0)
            return "skb[rN + imm]: LLVM 14 prints skb[rN] and drops imm";
        return CommonExemption(insn);
    }

    // Forms neither LLVM 14 tool has: later LLVM (cpu v4) and binutils spell most of them as we do.
    private static string? CommonExemption(Instruction insn)
    {
        var cls = Class(insn.Opcode);
        var op = Op(insn.Opcode);
        if (cls is BPF_ALU or BPF_ALU64)
        {
            if (op is BPF_DIV or BPF_MOD && insn.Offset == 1)
                return "sdiv/smod (cpu v4, off 1): LLVM 14 ignores off and has no s/= s%= syntax";
            if (op == BPF_MOD)
                return "mod: LLVM 14 has no BPF_MOD instruction (it lowers % to div, mul, sub) and prints <unknown>";
            if (op == BPF_MOV && insn.Offset != 0)
                return "movsx (cpu v4): LLVM 14 ignores off and has no (s8)/(s16)/(s32) syntax";
            if (op == BPF_END && cls == BPF_ALU64)
                return "bswap (cpu v4, ALU64 | END): unknown to LLVM 14";
        }

        if (cls == BPF_LDX && Mode(insn.Opcode) == BPF_MEMSX)
            return "sign-extending load (cpu v4, BPF_MEMSX): unknown to LLVM 14";
        if (cls == BPF_ST)
            return "store immediate (BPF_ST): LLVM 14 never emits it and has no syntax for it";
        if (cls is BPF_JMP or BPF_JMP32 && op == BPF_JSET)
            return "jset: LLVM 14 never emits it and has no syntax for it";
        if (cls == BPF_JMP32 && op == BPF_JA)
            return "gotol (cpu v4, JMP32 | JA): unknown to LLVM 14";
        if (cls == BPF_JMP && op == BPF_CALL && Source(insn.Opcode) == BPF_X)
            return "callx: LLVM 14 takes the register from imm; the kernel, bpf_conformance and later LLVM use dst_reg";
        if (cls == BPF_JMP && op == BPF_CALL && insn.Src == BPF_PSEUDO_KFUNC_CALL)
            return "kfunc call (src_reg 2): LLVM 14 has no syntax and prints it as a helper call";
        return null;
    }

    private static void CheckAssembler(IReadOnlyList<(string Name, Instruction[] Program)> programs, string dir, Report report)
    {
        var source = new StringBuilder();
        for (var k = 0; k < programs.Count; k++)
        {
            source.Append(CultureInfo.InvariantCulture, $"\t.section p{k},\"ax\",@progbits\n");
            source.Append(LlvmMcText(k, programs[k].Name, programs[k].Program, report));
        }

        var input = Path.Combine(dir, "ours.s");
        var output = Path.Combine(dir, "ours.o");
        File.WriteAllText(input, source.ToString());
        LlvmTools.Run(LlvmTools.Mc, "-triple", "bpfel", "-mattr=+alu32", "-filetype=obj", input, "-o", output);
        var sections = LlvmTools.ProgramSections(output).ToDictionary(s => s.Name, s => s.Program);
        for (var k = 0; k < programs.Count; k++)
        {
            var (name, program) = programs[k];
            var assembled = sections.GetValueOrDefault($"p{k}", []);
            report.BytesCompared += program.Length;
            for (var i = 0; i < Math.Max(program.Length, assembled.Length); i++)
            {
                if (i < program.Length && i < assembled.Length && program[i] == assembled[i])
                    continue;
                var ours = i < program.Length ? LlvmDisassembler.FormatInstruction(program, InstructionStart(program, i)) : "(none)";
                var theirs = i < assembled.Length ? assembled[i].ToString() : "(none)";
                report.Fail(name, $"llvm-mc: slot {i} ({ours}): expected {(i < program.Length ? program[i].ToString() : "(none)")}, llvm-mc gave {theirs}");
                break;
            }
        }
    }

    // Our text for llvm-mc: exempt instructions as .quad, local calls through a label at the callee (LLVM's only
    // spelling of a call with src_reg 1), everything else exactly as LlvmDisassembler prints it.
    private static string LlvmMcText(int k, string name, Instruction[] program, Report report)
    {
        var callTargets = new HashSet<int>();
        for (var i = 0; i < program.Length; i++)
        {
            if (IsLocalCall(program, i))
                callTargets.Add(i + 1 + program[i].Imm);
            if (program[i].IsLdImm64 && ProgramValidator.Check(program, i) is null)
                i++;
        }

        var text = new StringBuilder();
        for (var i = 0; i < program.Length; i++)
        {
            if (callTargets.Contains(i))
                text.Append(CultureInfo.InvariantCulture, $"Lcall_{k}_{i}:\n");
            var slots = program[i].IsLdImm64 && ProgramValidator.Check(program, i) is null ? 2 : 1;
            var exemption = AssemblerExemption(program, i);
            if (exemption is not null)
            {
                report.Exempted(name, $"llvm-mc: slot {i} '{LlvmDisassembler.FormatInstruction(program, i)}': {exemption}");
                for (var s = 0; s < slots; s++)
                    text.Append(LlvmDisassembler.Quad(program[i + s])).Append('\n');
            }
            else if (IsLocalCall(program, i) && callTargets.Contains(i + 1 + program[i].Imm))
            {
                text.Append(CultureInfo.InvariantCulture, $"call Lcall_{k}_{i + 1 + program[i].Imm}\n");
            }
            else
            {
                text.Append(LlvmDisassembler.FormatInstruction(program, i)).Append('\n');
            }

            i += slots - 1;
        }

        // A call may target the slot just past the end.
        if (callTargets.Contains(program.Length))
            text.Append(CultureInfo.InvariantCulture, $"Lcall_{k}_{program.Length}:\n");
        return text.ToString();
    }

    private static bool IsLocalCall(Instruction[] program, int i)
    {
        var insn = program[i];
        var target = (long)i + 1 + insn.Imm;
        return insn.Opcode == (BPF_JMP | BPF_CALL) && insn.Src == BPF_PSEUDO_CALL && target >= 0 && target <= program.Length
            && ProgramValidator.Check(program, i) is null;
    }

    private static void CheckText(IReadOnlyList<(string Name, Instruction[] Program)> programs, string dir, Report report)
    {
        var source = new StringBuilder();
        for (var k = 0; k < programs.Count; k++)
        {
            source.Append(CultureInfo.InvariantCulture, $"\t.section p{k},\"ax\",@progbits\n");
            foreach (var insn in programs[k].Program)
                source.Append(LlvmDisassembler.Quad(insn)).Append('\n');
        }

        var input = Path.Combine(dir, "raw.s");
        var output = Path.Combine(dir, "raw.o");
        File.WriteAllText(input, source.ToString());
        LlvmTools.Run(LlvmTools.Mc, "-triple", "bpfel", "-filetype=obj", input, "-o", output);
        var plain = ParseObjdump(LlvmTools.Run(LlvmTools.Objdump, "-d", "--no-show-raw-insn", output));
        var alu32 = ParseObjdump(LlvmTools.Run(LlvmTools.Objdump, "-d", "--no-show-raw-insn", "--mattr=+alu32", output));
        for (var k = 0; k < programs.Count; k++)
        {
            var (name, program) = programs[k];
            var plainLines = plain.GetValueOrDefault($"p{k}", []);
            var alu32Lines = alu32.GetValueOrDefault($"p{k}", []);
            for (var i = 0; i < program.Length; i++)
            {
                var ours = LlvmDisassembler.FormatInstruction(program, i);
                var slots = program[i].IsLdImm64 && ProgramValidator.Check(program, i) is null ? 2 : 1;
                var exemption = TextExemption(program, i);
                if (exemption is not null)
                {
                    report.Exempted(name, $"llvm-objdump: slot {i} '{ours}': {exemption}");
                }
                else
                {
                    report.TextCompared++;
                    var a = plainLines.GetValueOrDefault(i, "(missing)");
                    var b = alu32Lines.GetValueOrDefault(i, "(missing)");
                    var normal = Normalize(ours);
                    if (normal != Normalize(a) && normal != Normalize(b))
                        report.Fail(name, $"llvm-objdump: slot {i}: ours '{ours}', llvm-objdump-14 '{a}' (alu32: '{b}')");
                }

                i += slots - 1;
            }
        }
    }

    /// <summary>Per section, slot index → instruction text with the address column and &lt;symbol&gt; removed.</summary>
    private static Dictionary<string, Dictionary<int, string>> ParseObjdump(string output)
    {
        var result = new Dictionary<string, Dictionary<int, string>>();
        Dictionary<int, string>? current = null;
        foreach (var line in output.Split('\n'))
        {
            const string header = "Disassembly of section ";
            if (line.StartsWith(header, StringComparison.Ordinal))
            {
                current = [];
                result[line[header.Length..].TrimEnd(':', '\r', ' ')] = current;
                continue;
            }

            var match = AddressLine().Match(line);
            if (current is not null && match.Success)
                current[int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)] = Annotation().Replace(match.Groups[2].Value, "").Trim();
        }

        return result;
    }

    /// <summary>
    /// Whitespace collapsed, every number as the decimal value of its 64-bit two's complement (so <c>0xffffffffffffffff</c>
    /// and <c>-1</c> agree), and our <c>call pc+N</c> (a local call) as LLVM 14 prints it, <c>call N</c>.
    /// </summary>
    public static string Normalize(string text)
    {
        var collapsed = Whitespace().Replace(text.Trim(), " ");
        collapsed = LocalCall().Replace(collapsed, "call $1");
        return Number().Replace(collapsed, m =>
        {
            var negative = m.Groups[1].Success;
            var digits = m.Groups[2].Value;
            var value = digits.StartsWith("0x", StringComparison.Ordinal)
                ? ulong.Parse(digits.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : ulong.Parse(digits, CultureInfo.InvariantCulture);
            return (negative ? unchecked(0 - value) : value).ToString(CultureInfo.InvariantCulture);
        });
    }

    private static int InstructionStart(Instruction[] program, int slot)
    {
        var start = 0;
        for (var i = 0; i < program.Length && i <= slot; i++)
        {
            start = i;
            if (program[i].IsLdImm64 && ProgramValidator.Check(program, i) is null)
            {
                if (slot == i + 1)
                    return i;
                i++;
            }
        }

        return start;
    }

    [GeneratedRegex(@"^\s*(\d+):\s*(.*)$")]
    private static partial Regex AddressLine();

    [GeneratedRegex(@"\s+<[^\s<>]+>\s*$")]
    private static partial Regex Annotation();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\bcall pc\+?(-?\d+)")]
    private static partial Regex LocalCall();

    [GeneratedRegex(@"(?<![\w])(-)?(0x[0-9a-fA-F]+|\d+)\b")]
    private static partial Regex Number();
}
