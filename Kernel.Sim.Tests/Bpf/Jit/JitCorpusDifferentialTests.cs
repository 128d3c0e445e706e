using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Tests.Bpf.Maps;
using Kernel.Sim.Tests.Bpf.Verifier;

namespace Kernel.Sim.Tests.Bpf.Jit;

/// <summary>
/// Every program of the verifier's accept corpus (maps, helpers, program types) loaded into two kernels, run on
/// the interpreter in one and the JIT in the other: same r0, same input/context memory, same map contents.
/// </summary>
public sealed class JitCorpusDifferentialTests
{
    private static readonly ProgramTypeRegistry Registry = ProgramTypeRegistry.CreateDefault();

    public static IEnumerable<TestCaseData> AcceptFiles() => CorpusTests.AcceptFiles();

    [TestCaseSource(nameof(AcceptFiles))]
    public void Accepted_corpus_program_agrees_on_both_engines(string path)
    {
        var source = VerifierSource.Parse(File.ReadAllText(path), path);
        var type = Registry.Get(source.ProgramTypeName);
        using var interpKernel = new MapTestKernel();
        using var jitKernel = new MapTestKernel();
        var interpMaps = source.Maps.Select(m => interpKernel.Maps.Create(m)).ToArray();
        var jitMaps = source.Maps.Select(m => jitKernel.Maps.Create(m)).ToArray();
        var interpreter = interpKernel.Bpf.Load(source.Program, type, fdArray: interpMaps.Select(m => m.Fd).ToArray());
        var jitFds = jitMaps.Select(m => m.Fd).ToArray();

        // The input: the raw program's memory, or the context; deterministic bytes per file.
        var size = source.ProgramTypeName == "raw" ? source.MemSize : type.ContextSize;
        var memory = new byte[size];
        new Random(path.Length).NextBytes(memory);
        var outcome = JitDifferential.Compare(interpreter, () => jitKernel.Bpf.LoadJit(source.Program, type, fdArray: jitFds), memory);
        // Programs whose context holds pointers (xdp data, skb data) cannot run on made-up bytes: the checked
        // interpreter stops them and the JIT is not run; everything else must agree.
        Assert.That(outcome.Verdict, Is.Not.EqualTo(DifferentialVerdict.Diverge), outcome.Detail);
        if (outcome.Verdict == DifferentialVerdict.Unsafe)
            Assert.Pass($"not run on the JIT: {outcome.Detail}");

        for (var i = 0; i < interpMaps.Length; i++)
            Assert.That(Dump(jitMaps[i]), Is.EqualTo(Dump(interpMaps[i])), $"map {i} ({source.Maps[i].Type})");
    }

    private static List<string> Dump(BpfMap map)
    {
        if (map.Type is BpfMapType.ProgArray or BpfMapType.Ringbuf or BpfMapType.PerfEventArray)
            return [];
        var value = new byte[map.UserValueSize];
        var rows = new List<string>();
        foreach (var key in map.Keys())
        {
            map.LookupElem(key, value);
            rows.Add(Convert.ToHexString(key) + "=" + Convert.ToHexString(value));
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}
