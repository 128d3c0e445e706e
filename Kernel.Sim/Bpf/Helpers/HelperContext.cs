using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// What a helper can reach of the kernel side: the memory regions (so helpers such as probe_read check addresses
/// exactly as the interpreter does) and an optional service provider for subsystems registered by later issues.
/// One instance per engine; the engine passes it as the last argument of every helper call.
/// </summary>
public sealed class HelperContext
{
    public HelperContext(MemoryRegionTable regions, IServiceProvider? services = null)
    {
        Regions = regions;
        Services = services;
    }

    /// <summary>Memory beyond the program's stack and input that the program and helpers may touch.</summary>
    public MemoryRegionTable Regions { get; }

    /// <summary>Kernel services for helpers that need them (maps, clock, trace output), when composed.</summary>
    public IServiceProvider? Services { get; }
}
