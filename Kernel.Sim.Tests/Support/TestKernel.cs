using Kernel.Sim.Core;
using Kernel.Sim.Hosting;

namespace Kernel.Sim.Tests.Support;

/// <summary>Builds kernels for tests and small traceable functions.</summary>
public static class TestKernel
{
    public static SimulatedKernel Create(int cpus = 1, bool workloads = true)
    {
        var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = cpus });
        if (workloads)
            kernel.Workloads.InstallAll();
        return kernel;
    }

    /// <summary>Runs <paramref name="work"/> on CPU <paramref name="cpu"/> of the kernel.</summary>
    public static void On(this SimulatedKernel kernel, int cpu, Action work) => kernel.Core.Cpus[cpu].Run(work);

    /// <summary>Defines <c>long NAME(long a, long b)</c> returning a + b (advancing the clock by 100 ns).</summary>
    public static KernelFunction DefineAdd(this SimulatedKernel kernel, string name) =>
        kernel.Core.Functions.Define($"long {name}(long a, long b)", (ref PtRegs r) =>
        {
            kernel.Core.Cpus.RequireCurrent().Advance(100);
            return r.di + r.si;
        });
}
