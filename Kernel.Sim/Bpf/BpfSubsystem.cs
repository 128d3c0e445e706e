using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bpf;

/// <summary>
/// The eBPF subsystem of one kernel: its helper registry, the memory regions programs may touch beyond their
/// stack and input, and the engines that load programs. Later issues register helpers and regions here
/// (maps, probes, packets); nothing is static, so two kernels never share a registry.
/// </summary>
public sealed class BpfSubsystem
{
    public BpfSubsystem(IServiceProvider? services = null)
    {
        Regions = new MemoryRegionTable();
        Helpers = new HelperRegistry();
        HelperContext = new HelperContext(Regions, services);
    }

    /// <summary>Helper id -> implementation for programs of this kernel.</summary>
    public HelperRegistry Helpers { get; }

    /// <summary>Map values, packets and other memory programs may touch.</summary>
    public MemoryRegionTable Regions { get; }

    /// <summary>What helpers receive.</summary>
    public HelperContext HelperContext { get; }

    /// <summary>Options for interpreters created by <see cref="CreateInterpreter"/>.</summary>
    public BpfInterpreterOptions InterpreterOptions { get; } = new();

    /// <summary>Validates <paramref name="program"/> and loads it into an interpreter bound to this kernel's helpers and regions.</summary>
    public BpfInterpreter CreateInterpreter(ReadOnlySpan<Instruction> program) =>
        new(program, Helpers, HelperContext, InterpreterOptions);
}
