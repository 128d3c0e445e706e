using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Tests.Bpf.Verifier;

/// <summary>
/// The orientation case (the verifier benchmark's InsertionSort24): clang's 24-element insertion sort
/// over unknown values, which Linux 6.18 gives up on at the complexity limit; KernelSim must give the same verdict.
/// </summary>
public sealed class InsertionSortProgramTests
{
    [Test]
    public void Clang_insertion_sort_of_24_unknowns_stops_at_the_complexity_limit()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Bpf", "Verifier", "Programs", "insertion_sort24.o");
        var program = BpfObject.LoadFile(path).Programs.Single(p => p.Name == "insertion_sort24");
        Assert.That(program.TypeName, Is.EqualTo("socket_filter"));
        var options = new VerifierOptions { ProgramType = ProgramTypeRegistry.CreateDefault().Get(program.TypeName) };
        var result = Kernel.Sim.Bpf.Verifier.Verifier.Verify([.. program.Instructions], options);
        Assert.That(result.Accepted, Is.False);
        Assert.That(result.Error, Is.EqualTo("BPF program is too large. Processed 1000001 insn"));
        Assert.That(result.ProcessedInsns, Is.EqualTo(1_000_001));
    }
}
