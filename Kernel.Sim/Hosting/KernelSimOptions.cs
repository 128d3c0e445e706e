namespace Kernel.Sim.Hosting;

/// <summary>How <see cref="KernelSimServiceCollectionExtensions.AddKernelSim"/> composes a kernel.</summary>
public sealed class KernelSimOptions
{
    /// <summary>Number of simulated CPUs.</summary>
    public int Cpus { get; set; } = 1;

    /// <summary>Seed for every deterministic source (traffic, modelled cycles, prandom).</summary>
    public ulong Seed { get; set; } = 1;
}
