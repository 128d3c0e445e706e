namespace Kernel.Sim.Bpf.Isa;

/// <summary>
/// A malformed program: the instruction at <see cref="Index"/> cannot be decoded. The message reads
/// <c>insn N: reason</c>, with the reasons worded as the Linux verifier words them where it has one.
/// </summary>
public sealed class BpfDecodeException : Exception
{
    public BpfDecodeException(int index, string reason)
        : base($"insn {index}: {reason}")
    {
        Index = index;
        Reason = reason;
    }

    /// <summary>The index of the offending 8-byte slot.</summary>
    public int Index { get; }

    /// <summary>Why the slot was rejected, without the index.</summary>
    public string Reason { get; }
}
