using Kernel.Sim.Bench.Benchmarks;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Verifier;
using BpfVerifier = Kernel.Sim.Bpf.Verifier.Verifier;

namespace Kernel.Sim.Tests.Bpf.Jit;

/// <summary>The JIT benchmark programs give the C# results on both engines, and the CRC-32 program is verifiable.</summary>
public sealed class JitBenchmarkProgramsTests
{
    [Test]
    public void Setup_checks_every_engine_against_the_csharp_algorithms()
    {
        var benchmarks = new JitBenchmarks();
        Assert.That(benchmarks.Setup, Throws.Nothing);
        Assert.That((benchmarks.Sieve_Jit(), benchmarks.Sieve_CSharp()), Is.EqualTo((309UL, 309UL)));
        Assert.That(benchmarks.Crc32_Jit(), Is.EqualTo(benchmarks.Crc32_CSharp()));
        Assert.That((benchmarks.Crc32_JitMethods(), benchmarks.Calls_JitInlined()), Is.EqualTo((benchmarks.Crc32_CSharp(), benchmarks.Calls_JitMethods())));
        Assert.That(benchmarks.Compile_ToFirstResult(), Is.EqualTo(benchmarks.Crc32_CSharp()));
    }

    [Test]
    public void The_crc32_program_passes_the_verifier()
    {
        var program = ConformanceAssembler.Assemble(JitBenchmarks.Crc32Program);
        var verdict = BpfVerifier.Verify(program, new VerifierOptions { MemSize = 64 });
        Assert.That(verdict.Accepted, Is.True, verdict.Log);
        Assert.That(program, Has.Length.EqualTo(27));
    }
}
