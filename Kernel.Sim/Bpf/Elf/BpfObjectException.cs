namespace Kernel.Sim.Bpf.Elf;

/// <summary>
/// The one error type of the ELF/BTF loader: whatever an object holds, a failure to load it is reported as this,
/// naming the section, symbol, relocation or BTF type id and the reason (in libbpf's words where libbpf has them).
/// </summary>
public sealed class BpfObjectException : Exception
{
    public BpfObjectException(string message) : base(message)
    {
    }

    public BpfObjectException(string message, Exception inner) : base(message, inner)
    {
    }

    public BpfObjectException()
    {
    }
}
