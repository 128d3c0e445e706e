using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing.Bpf;

namespace Kernel.Sim.Tests.Tracing.Bpf;

public sealed class BpfObjectAttacherTests
{
    private static string Fixture(string name) => Path.Combine(TestPaths.RepoRoot, "Kernel.Sim.Tests", "Bpf", "Elf", "Programs", name);

    [Test]
    public void AKprobeSectionFromClangAttachesAndCountsEveryCall()
    {
        using var kernel = TestKernel.Create();
        var obj = BpfObject.LoadFile(Fixture("array_counter.o"));
        using var attached = BpfObjectAttacher.Attach(kernel.Tracing, obj);
        Assert.That(attached.Links.Select(l => (l.Kind, l.Function.Name)), Is.EqualTo(new[] { (BpfAttachKind.Kprobe, "ip_rcv") }));
        Assert.That(attached.Links[0].Program.Verdict.Accepted, Is.True);
        kernel.Workloads.Run("net", 4);
        var value = new byte[8];
        var counters = attached.Map("counters");
        Assert.That(counters.LookupElem(BitConverter.GetBytes(0), value), Is.EqualTo(0));
        Assert.That(BitConverter.ToUInt64(value), Is.EqualTo(4));
        attached.Links[0].Detach();
        kernel.Workloads.Run("net", 2);
        Assert.That(counters.LookupElem(BitConverter.GetBytes(0), value), Is.EqualTo(0));
        Assert.That(BitConverter.ToUInt64(value), Is.EqualTo(4));
    }

    [Test]
    public void CookiesAreGivenByProgramName()
    {
        using var kernel = TestKernel.Create();
        var obj = BpfObject.LoadFile(Fixture("array_counter.o"));
        var name = obj.Programs.Single().Name;
        using var attached = BpfObjectAttacher.Attach(kernel.Tracing, obj, new Dictionary<string, ulong> { [name] = 0xc00c1e });
        Assert.That(attached.Links.Single().Cookie, Is.EqualTo(0xc00c1eUL));
    }

    [Test]
    public void SectionsWithoutATracingHookAreReportedNotAttached()
    {
        using var kernel = TestKernel.Create();
        var obj = BpfObject.LoadFile(Fixture("xdp_filter.o"));
        using var attached = BpfObjectAttacher.Attach(kernel.Tracing, obj);
        Assert.That(attached.Links, Is.Empty);
        Assert.That(attached.Skipped, Is.Not.Empty);
        Assert.That(attached.Skipped[0].Reason, Does.Contain("names no kprobe"));
    }
}
