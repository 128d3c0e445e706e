using Kernel.Sim.Hosting;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing;
using Kernel.Sim.Tracing.Bpf;
using Kernel.Sim.Tracing.ProbeEvents;

namespace Kernel.Sim.Tests.Tracing.Bpf;

public sealed class FetchProgramTests
{
    private static IEnumerable<TestCaseData> Lines(string file) =>
        File.ReadAllLines(Path.Combine(TestContext.CurrentContext.TestDirectory, "Tracing", "Bpf", "Data", file))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => new TestCaseData(l).SetName($"{Path.GetFileNameWithoutExtension(file)}: {l}"));

    private static IEnumerable<TestCaseData> Definitions() => Lines("fetch-args.txt");

    private static IEnumerable<TestCaseData> Filters() => Lines("filters.txt");

    private const string FilterEvent = "p:t ip_rcv len=+112(%di):u32 sl=+112(%di):s8 ss=+112(%di):s16 dev=+0(%si):string b=+112(%di):u8 w=+112(%di):x64 comm=$comm";

    [TestCaseSource(nameof(Definitions))]
    public void BpfRecordsAreByteIdenticalToTheClassicChain(string definition)
    {
        var pairs = RunBoth(definition, null);
        Assert.That(pairs, Has.Count.EqualTo(4));
    }

    [TestCaseSource(nameof(Filters))]
    public void CompiledFiltersGiveTheInterpretersVerdicts(string filter) => RunBoth(FilterEvent, filter);

    [TestCaseSource(nameof(Filters))]
    public void EveryTestedFilterIsCompiledIntoTheProgram(string filter)
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("dynamic_events", FilterEvent), Is.EqualTo(0));
        Assert.That(fs.Write("events/kprobes/t/filter", filter), Is.EqualTo(0));
        kernel.Tracing.ProbeEvents.FetchEngine = FetchEngine.Bpf;
        var program = kernel.Tracing.ProbeEvents.Events[0].BpfProgram!;
        Assert.That(program.Filter, Is.Not.Null);
        Assert.That(program.Program.Verdict.Accepted, Is.True);
    }

    [Test]
    public void GeneratedProgramsPassTheVerifierAndShowTheirLog()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("kprobe_events", "p:t ip_rcv len=+112(%di):u32 dev=+0(%si):string"), Is.EqualTo(0));
        kernel.Tracing.ProbeEvents.FetchEngine = FetchEngine.Bpf;
        var program = kernel.Tracing.ProbeEvents.Events[0].BpfProgram!;
        Assert.That(program.Program.Verdict.Accepted, Is.True);
        Assert.That(program.Program.Verdict.Log, Does.Contain("processed").And.Contain("call bpf_probe_read_kernel#113"));
        Assert.That(program.Program.Disassembly, Does.Contain("call 113").And.Contain("call 115"));
        Assert.That(program.Program.Type.Name, Is.EqualTo("kprobe"));
        Assert.That(program.Program.Engine, Is.EqualTo(BpfEngine.Jit));
    }

    [Test]
    public void SwitchingBackToClassicDropsThePrograms()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:t ip_rcv a=%di");
        kernel.Tracing.ProbeEvents.FetchEngine = FetchEngine.Bpf;
        Assert.That(kernel.Tracing.ProbeEvents.Events[0].BpfProgram, Is.Not.Null);
        kernel.Tracing.ProbeEvents.FetchEngine = FetchEngine.Classic;
        Assert.That(kernel.Tracing.ProbeEvents.Events[0].BpfProgram, Is.Null);
    }

    [Test]
    public void AGlobTheCompilerRefusesIsStillApplied()
    {
        var pairs = RunBoth(FilterEvent, "dev ~ \"e[st]h*\" && len < 200");
        Assert.That(pairs, Has.Count.EqualTo(3), "ip_rcv lengths 161, 124, 307, 160");
    }

    [Test]
    public void TheInterpreterRunsTheSamePrograms()
    {
        using var kernel = TestKernel.Create();
        kernel.Tracing.Bpf.Engine = BpfEngine.Interpreter;
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:t ip_rcv len=+112(%di):u32 dev=+0(%si):string");
        kernel.Tracing.ProbeEvents.FetchEngine = FetchEngine.Bpf;
        fs.Write("events/enable", "1");
        kernel.Workloads.Run("net", 1);
        Assert.That(fs.Read("trace").Text, Does.Contain("t: (ip_rcv+0x0/0x1a0) len=161 dev=\"eth0\""));
        Assert.That(kernel.Tracing.ProbeEvents.Events[0].BpfProgram!.Program.Engine, Is.EqualTo(BpfEngine.Interpreter));
    }

    /// <summary>
    /// Defines the event twice on the same function (c: classic chain, b: BPF program), runs the net workload over four
    /// packets and checks every hit produced the same entry both ways (bytes after common_type, and the printed line).
    /// </summary>
    private static List<(TraceRecord Classic, TraceRecord Bpf)> RunBoth(string definition, string? filter)
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        var manager = kernel.Tracing.ProbeEvents;
        foreach (var name in new[] { "c", "b" })
            Assert.That(fs.Write("dynamic_events", definition.Replace(":t ", $":{name} ", StringComparison.Ordinal), append: true), Is.EqualTo(0), fs.Read("error_log").Text);
        var classic = manager.Events[0];
        var bpf = manager.Events[1];
        if (filter is not null)
        {
            foreach (var e in manager.Events)
                Assert.That(fs.Write($"events/{e.Group}/{e.Name}/filter", filter), Is.EqualTo(0), fs.Read($"events/{e.Group}/{e.Name}/filter").Text);
        }

        manager.SetFetchEngine(bpf, FetchEngine.Bpf);
        Assert.That(bpf.BpfProgram, Is.Not.Null);
        Assert.That(classic.BpfProgram, Is.Null);
        Assert.That(fs.Write("events/enable", "1"), Is.EqualTo(0));
        kernel.Workloads.Run("net", 4);
        var records = kernel.Tracing.Trace.Buffer.Snapshot(0).Where(r => r.Type == TraceEntryType.ProbeEvent).ToList();
        var fromClassic = records.Where(r => BitConverter.ToUInt16(r.Payload) == classic.Id).ToList();
        var fromBpf = records.Where(r => BitConverter.ToUInt16(r.Payload) == bpf.Id).ToList();
        Assert.That(fromBpf, Has.Count.EqualTo(fromClassic.Count));
        Assert.That(bpf.Hits, Is.EqualTo(classic.Hits));
        var pairs = fromClassic.Zip(fromBpf).ToList();
        foreach (var (c, b) in pairs)
        {
            Assert.That(Convert.ToHexString(b.Payload.AsSpan(2)), Is.EqualTo(Convert.ToHexString(c.Payload.AsSpan(2))));
            Assert.That(bpf.Format(b)[1..], Is.EqualTo(classic.Format(c)[1..]));
        }

        return pairs;
    }
}
