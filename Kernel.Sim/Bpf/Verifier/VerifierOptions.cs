using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>What to verify a program as.</summary>
public sealed record VerifierOptions
{
    /// <summary>The program type (context, helpers, exit rules). Defaults to <c>raw</c>.</summary>
    public ProgramType ProgramType { get; init; } = new RawProgramType();

    /// <summary>For <c>raw</c>: the size of the memory block R1 points to.</summary>
    public int MemSize { get; init; }

    /// <summary>Privileged (root/CAP_BPF+CAP_PERFMON) load; false applies Linux's unprivileged restrictions.</summary>
    public bool Privileged { get; init; } = true;

    /// <summary>0 none, 1 the failing path and the error, 2 every instruction with its state.</summary>
    public int LogLevel { get; init; }

    /// <summary>The maps the program references: lddw src=5 (map idx) indexes this list directly.</summary>
    public IReadOnlyList<MapDefinition> Maps { get; init; } = [];

    /// <summary>lddw src=1 (map fd): fd to index in <see cref="Maps"/>. Null: the fd is the index.</summary>
    public IReadOnlyDictionary<int, int>? MapFds { get; init; }

    /// <summary>BPF_COMPLEXITY_LIMIT_INSNS.</summary>
    public int ComplexityLimit { get; init; } = Verifier.ComplexityLimitInsns;
}

/// <summary>The verdict, the log and the statistics Linux prints in its trailer.</summary>
public sealed record VerifierResult(
    bool Accepted,
    string Log,
    string? Error,
    int ProcessedInsns,
    int MaxStatesPerInsn,
    int TotalStates,
    int PeakStates,
    int MarkRead,
    AccessKind[] Accesses,
    bool[] Visited)
{
    /// <summary>
    /// The program with every instruction no path reached replaced by <c>goto -1</c>, as Linux's
    /// sanitize_dead_code does before JIT/interpretation (dead code is never checked, so it must not run).
    /// </summary>
    public Kernel.Sim.Bpf.Isa.Instruction[] SanitizeDeadCode(ReadOnlySpan<Kernel.Sim.Bpf.Isa.Instruction> program)
    {
        var result = program.ToArray();
        for (var i = 0; i < result.Length && i < Visited.Length; i++)
        {
            if (!Visited[i] && !(i > 0 && result[i - 1].Opcode == Kernel.Sim.Bpf.Isa.Opcodes.LdImm64 && Visited[i - 1]))
                result[i] = Kernel.Sim.Bpf.Isa.Instruction.Ja(-1);
        }

        return result;
    }

    /// <summary>Linux's last log line: <c>processed N insns (limit 1000000) max_states_per_insn M total_states T peak_states P mark_read R</c>.</summary>
    public string Trailer =>
        $"processed {ProcessedInsns} insns (limit {Verifier.ComplexityLimitInsns}) max_states_per_insn {MaxStatesPerInsn} total_states {TotalStates} peak_states {PeakStates} mark_read {MarkRead}";
}

/// <summary>What a load or store instruction was proven to touch (on every path that reached it).</summary>
[Flags]
public enum AccessKind : byte
{
    None = 0,
    Stack = 1,
    Context = 2,
    MapValue = 4,
    Packet = 8,
    Memory = 16,
}
