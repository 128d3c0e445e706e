using Kernel.Sim.Bench.Benchmarks;

namespace Kernel.Sim.Tests.Bpf.Interpreter;

/// <summary>The benchmark programs compute what they claim, in the declared number of instructions.</summary>
public sealed class InterpreterBenchmarkProgramsTests
{
    [Test]
    public void Setup_checks_results_and_instruction_counts()
    {
        var benchmarks = new InterpreterBenchmarks();
        Assert.That(benchmarks.Setup, Throws.Nothing);
        Assert.That(benchmarks.Sieve(), Is.EqualTo(309));
    }
}
