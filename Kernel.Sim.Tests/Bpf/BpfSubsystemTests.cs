using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kernel.Sim.Tests.Bpf;

public sealed class BpfSubsystemTests
{
    [Test]
    public void Each_kernel_has_its_own_bpf_subsystem()
    {
        using var a = new ServiceCollection().AddKernelSim().BuildServiceProvider();
        using var b = new ServiceCollection().AddKernelSim().BuildServiceProvider();
        var bpfA = a.GetRequiredService<SimulatedKernel>().Bpf;
        var bpfB = b.GetRequiredService<SimulatedKernel>().Bpf;
        Assert.That(bpfA, Is.SameAs(a.GetRequiredService<Kernel.Sim.Bpf.BpfSubsystem>()));
        Assert.That(bpfA.Helpers, Is.Not.SameAs(bpfB.Helpers));
        Assert.That(bpfA.HelperContext.Services, Is.Not.Null);

        bpfA.Helpers.Register(1, "answer", typeof(BpfSubsystemTests), nameof(Answer));
        var program = ConformanceAssembler.Assemble("call 1\nexit");
        Assert.That(bpfA.CreateInterpreter(program).Run([]).R0, Is.EqualTo(42));
        Assert.That(bpfB.CreateInterpreter(program).Run([]).Error, Is.EqualTo(BpfRunError.UnknownHelper));
    }

    [Test]
    public void Interpreter_options_and_regions_come_from_the_subsystem()
    {
        using var provider = new ServiceCollection().AddKernelSim().BuildServiceProvider();
        var bpf = provider.GetRequiredService<SimulatedKernel>().Bpf;
        bpf.InterpreterOptions.InstructionBudget = 10;
        var looping = bpf.CreateInterpreter(ConformanceAssembler.Assemble("ja -1\nexit"));
        Assert.That(looping.Run([]).Message, Is.EqualTo("insn 0: instruction budget of 10 exceeded"));
        Assert.That(looping.Context.Regions, Is.SameAs(bpf.Regions));
    }

    private static ulong Answer(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) => 42;
}
