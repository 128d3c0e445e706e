using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Tests.Bpf.Maps;
using Kernel.Sim.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kernel.Sim.Tests.Bpf.Helpers;

/// <summary>
/// The helpers' prototypes and the maps' definitions agree with the verifier: programs using each kind of helper
/// pass the verifier (on the unresolved program, as Linux verifies before rewriting) and then run on the interpreter.
/// </summary>
public sealed class VerifiedHelperProgramsTests
{
    private static IEnumerable<TestCaseData> Programs()
    {
        yield return new TestCaseData(BpfMapType.Hash, 4, 8, 16, """
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            ld_pseudo r1, 1, {fd}
            call 1
            if r0 == 0 goto +3
            r1 = 1
            lock *(u64 *)(r0 + 0) += r1
            r0 = 0
            exit
            """, 0UL).SetName("lookup and atomic add");
        yield return new TestCaseData(BpfMapType.Ringbuf, 0, 0, 4096, """
            ld_pseudo r1, 1, {fd}
            r2 = 16
            r3 = 0
            call 131
            if r0 == 0 goto +6
            r1 = 5
            *(u64 *)(r0 + 0) = r1
            r1 = r0
            r2 = 0
            call 132
            r0 = 1
            exit
            """, 1UL).SetName("ringbuf reserve and submit");
        yield return new TestCaseData(BpfMapType.ProgArray, 4, 4, 2, """
            ld_pseudo r2, 1, {fd}
            r3 = 1
            call 12
            r0 = 3
            exit
            """, 3UL).SetName("tail call miss");
        yield return new TestCaseData(BpfMapType.Array, 4, 8, 1, """
            r6 = r1
            call 5
            r7 = r0
            call 14
            r1 = r10
            r1 += -16
            r2 = 16
            call 16
            r1 = r10
            r1 += -8
            r2 = 8
            r3 = r6
            call 113
            r0 = 0
            exit
            """, 0UL).SetName("clock, task and probe_read_kernel");
    }

    [TestCaseSource(nameof(Programs))]
    public void Accepted_by_the_verifier_and_run(BpfMapType type, int keySize, int valueSize, int maxEntries, string asm, ulong expected)
    {
        using var k = new MapTestKernel();
        var map = k.Create(type, keySize, valueSize, maxEntries);
        var program = LlvmAssembler.Assemble(asm.Replace("{fd}", map.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var (maps, fds) = MapReferences.VerifierView(program, k.Maps);
        var result = Kernel.Sim.Bpf.Verifier.Verifier.Verify(program, new VerifierOptions { ProgramType = new KprobeProgramType(), Maps = maps, MapFds = fds });
        Assert.That(result.Accepted, Is.True, result.Error + "\n" + result.Log);
        var loaded = k.Bpf.Load(program, new KprobeProgramType());
        Assert.That(MapTestKernel.Run(loaded, new byte[168]), Is.EqualTo(expected));
    }

    [Test]
    public void The_composed_kernel_creates_per_cpu_values_for_its_cpus()
    {
        using var provider = new ServiceCollection().AddKernelSim(o => o.Cpus = 3).BuildServiceProvider();
        var kernel = provider.GetRequiredService<SimulatedKernel>();
        var map = kernel.Bpf.Maps.Create(new MapDefinition(BpfMapType.PercpuArray, 4, 4, 1));
        Assert.That(map.UserValueSize, Is.EqualTo(24));
    }
}
