using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// BPF_PROG_TYPE_TRACING for one attach target (fentry/fexit): the context is <c>u64 args[]</c>, one slot per
/// parameter of the target's prototype and, for fexit, the return value after them; read-only, 8-byte loads
/// (btf_ctx_access: an access past the prototype's arguments is refused, as Linux does).
/// </summary>
public sealed class TracingProgramType(int argumentCount, bool isExit) : ProgramType
{
    /// <summary>The slots the program may read: the arguments, plus the return value for fexit.</summary>
    public int Slots { get; } = argumentCount + (isExit ? 1 : 0);

    public bool IsExit { get; } = isExit;

    public override string Name => "tracing";

    public override int LinuxType => 26;

    public override int ContextSize => Math.Max(8, Slots * 8);

    public override bool IsTracing => true;

    public override bool IsValidContextAccess(int off, int size, bool write, out RegType loadedType)
    {
        loadedType = RegType.Scalar;
        return !write && off >= 0 && off % 8 == 0 && size == 8 && off + size <= Slots * 8;
    }
}

/// <summary>BPF_PROG_TYPE_RAW_TRACEPOINT: <c>u64 args[]</c> of the tracepoint's arguments, read-only.</summary>
public sealed class RawTracepointProgramType(int argumentCount) : ProgramType
{
    public int ArgumentCount { get; } = argumentCount;

    public override string Name => "raw_tracepoint";

    public override int LinuxType => 17;

    public override int ContextSize => Math.Max(8, ArgumentCount * 8);

    public override bool IsTracing => true;

    public override bool IsValidContextAccess(int off, int size, bool write, out RegType loadedType)
    {
        loadedType = RegType.Scalar;
        return !write && off >= 0 && off % size == 0 && off + size <= ArgumentCount * 8;
    }
}
