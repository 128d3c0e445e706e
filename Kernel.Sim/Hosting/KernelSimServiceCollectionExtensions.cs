using Kernel.Sim.Bpf;
using Microsoft.Extensions.DependencyInjection;

namespace Kernel.Sim.Hosting;

/// <summary>The Microsoft.Extensions.DependencyInjection entry point of KernelSim.</summary>
public static class KernelSimServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="SimulatedKernel"/> and its subsystems. Each service provider built from the collection
    /// owns its own kernel, so two kernels in one process never interfere.
    /// </summary>
    public static IServiceCollection AddKernelSim(this IServiceCollection services, Action<KernelSimOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new KernelSimOptions();
        configure?.Invoke(options);
        services.AddSingleton(options);
        services.AddSingleton(provider => new BpfSubsystem(provider, options.Cpus));
        services.AddSingleton(_ => new Core.KernelCore(new Core.KernelCoreOptions { Cpus = Math.Max(1, options.Cpus) }));
        services.AddSingleton(provider => new Tracing.KernelTracing(provider.GetRequiredService<Core.KernelCore>(), provider.GetRequiredService<BpfSubsystem>()));
        services.AddSingleton<SimulatedKernel>();
        services.AddSingleton(_ => new Cpu.CostModel(Cpu.CpuProfiles.Resolve(options.Profile), options.Cpus, enabled: false));
        return services;
    }
}
