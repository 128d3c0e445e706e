using Kernel.Sim.Cpu;

namespace Kernel.Sim.Hosting;

/// <summary>How <see cref="KernelSimServiceCollectionExtensions.AddKernelSim"/> composes a kernel.</summary>
public sealed class KernelSimOptions
{
    /// <summary>Number of simulated CPUs.</summary>
    public int Cpus { get; set; } = 1;

    /// <summary>Seed for every deterministic source (traffic, modelled cycles, prandom).</summary>
    public ulong Seed { get; set; } = 1;

    /// <summary>Spectre v2 mitigation of every indirect call site (Linux's <c>spectre_v2=</c>).</summary>
    public Mitigation Mitigation { get; set; } = Mitigation.Retpoline;

    /// <summary>Name of the <see cref="CpuProfile"/> that modelled cycles come from (see <see cref="CpuProfiles.Names"/>).</summary>
    public string Profile { get; set; } = CpuProfiles.Skylake.Name;
}
