using System.Security.Cryptography;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>The verdict on one program of an object: null <see cref="Result"/> when it was not verified (and why).</summary>
public sealed record ProgramVerdict(BpfProgramSpec Program, VerifierResult? Result, string? NotVerifiedReason)
{
    public bool Verified => Result is { Accepted: true };
}

/// <summary>Runs the verifier over an object's programs with the object's maps, as BPF_PROG_LOAD would after libbpf created them.</summary>
public static class BpfObjectVerifier
{
    /// <summary>
    /// Verifies <paramref name="program"/>; programs whose type the simulation has no verifier model for are reported, not
    /// rejected. <paramref name="typeOf"/>, when given, supplies types that depend on the attach target (a tracepoint's
    /// record, a traced function's arguments), as the kernel's attach_btf_id does; null falls back to the registry.
    /// </summary>
    public static ProgramVerdict Verify(BpfObject obj, BpfProgramSpec program, ProgramTypeRegistry types, int logLevel = 0, Func<BpfProgramSpec, ProgramType?>? typeOf = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(types);
        if (program.TypeUnknown)
            return new ProgramVerdict(program, null, $"missing BPF prog type, check ELF section name '{program.Section}' (or force one with --type)");
        if ((typeOf?.Invoke(program) ?? (types.TryGet(program.TypeName, out var registered) ? registered : null)) is not { } type)
            return new ProgramVerdict(program, null, $"program type '{program.TypeName}' is not simulated yet (simulated: {string.Join(", ", types.Names)})");
        var options = new VerifierOptions
        {
            ProgramType = type,
            LogLevel = logLevel,
            Maps = obj.Maps.Select(m => m.ToDefinition()).ToList(),
            MemSize = type.ContextSize,
        };
        return new ProgramVerdict(program, Verifier.Verifier.Verify(program.Instructions.ToArray(), options), null);
    }

    /// <summary>
    /// The program tag bpftool prints: the first 8 bytes of the SHA-256 of the instructions with the map fds
    /// (both imm fields of map lddw) zeroed, as kernel/bpf/core.c's bpf_prog_calc_tag computes it in Linux 6.18
    /// (which digests with SHA-256 since program signing; older kernels used SHA-1). Checked against the host.
    /// </summary>
    public static string Tag(IReadOnlyList<Instruction> insns)
    {
        ArgumentNullException.ThrowIfNull(insns);
        var copy = insns.ToArray();
        for (var i = 0; i < copy.Length; i++)
        {
            var x = copy[i];
            if (x.IsLdImm64 && x.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE && i + 1 < copy.Length)
            {
                copy[i] = new Instruction(x.Opcode, x.Dst, x.Src, x.Offset, 0);
                var hi = copy[i + 1];
                copy[i + 1] = new Instruction(hi.Opcode, hi.Dst, hi.Src, hi.Offset, 0);
                i++;
            }
        }

        var hash = SHA256.HashData(Instruction.WriteAll(copy));
        return Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }
}
