using Kernel.Sim.Bench.Cli;

namespace Kernel.Sim.Bench;

/// <summary>The <c>kernelsim</c> command line.</summary>
public static class Program
{
    public static int Main(string[] args) => KernelSimCli.Run(args, Console.Out, Console.Error, Console.In);
}
