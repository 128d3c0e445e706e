using System.Text.RegularExpressions;
using Kernel.Sim.Core;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Core;

public sealed class KernelCoreTests
{
    [Test]
    public void TextSymbolsStartAtTheKernelBaseAndResolveWithOffsets()
    {
        using var kernel = TestKernel.Create();
        var ipRcv = kernel.Core.Symbols.Lookup("ip_rcv")!;
        Assert.That(ipRcv.Address, Is.GreaterThanOrEqualTo(Kallsyms.TextBase));
        Assert.That(ipRcv.Type, Is.EqualTo('T'));
        Assert.That(kernel.Core.Symbols.FormatOffset(ipRcv.Address + 0x10), Is.EqualTo($"ip_rcv+0x10/0x{ipRcv.Size:x}"));
        Assert.That(kernel.Core.Symbols.FormatName(ipRcv.Address + 3), Is.EqualTo("ip_rcv"));
        Assert.That(kernel.Core.Symbols.FormatName(5), Is.EqualTo("0x5"));
    }

    [Test]
    public void ProcKallsymsHasTheKernelLayout()
    {
        using var kernel = TestKernel.Create();
        var lines = kernel.Core.Symbols.ProcKallsyms().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.All.Match(@"^[0-9a-f]{16} [TtDBR] \S+$"));
        Assert.That(lines, Has.Some.Match(" D init_task$"));
    }

    [Test]
    public void AvailableFilterFunctionsListsTraceableFunctionsButNotNotrace()
    {
        using var kernel = TestKernel.Create();
        var names = kernel.Core.Functions.AvailableFilterFunctions().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(names, Does.Contain("ip_rcv").And.Contain("__x64_sys_getpid"));
        Assert.That(names, Does.Not.Contain("native_sched_clock"));
        Assert.That(kernel.Core.Functions.Find("native_sched_clock")!.Notrace, Is.True);
    }

    [Test]
    public void SmpProcessorIdIsTheCpuTheThreadRuns()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        var seen = new int[2];
        kernel.Core.Cpus.RunOnEach(cpu => seen[cpu.Id] = kernel.Core.Cpus.SmpProcessorId() + 10);
        Assert.That(seen, Is.EqualTo(new[] { 10, 11 }));
        Assert.That(() => kernel.Core.Cpus.SmpProcessorId(), Throws.InvalidOperationException);
    }

    [Test]
    public void WorkThatThrowsOnACpuThreadIsRethrownToTheCallerAfterEveryCpuEnded()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        var finished = new bool[2];
        var e = Assert.Throws<InvalidOperationException>(() => kernel.Core.Cpus.RunOnEach(cpu =>
        {
            if (cpu.Id == 1)
                throw new InvalidOperationException("cpu1 failed");
            Thread.Sleep(50);
            finished[cpu.Id] = true;
        }));
        Assert.That(e!.Message, Is.EqualTo("cpu1 failed"));
        Assert.That(finished[0], Is.True, "the other CPU ran to its end before the failure was reported");
        var both = Assert.Throws<AggregateException>(() => kernel.Core.Cpus.RunOnEach(cpu => throw new InvalidOperationException($"cpu{cpu.Id}")));
        Assert.That(both!.InnerExceptions.Select(x => x.Message), Is.EquivalentTo(new[] { "cpu0", "cpu1" }));
    }

    [Test]
    public void ACpuOfOneKernelIsNotCurrentForAnother()
    {
        using var a = TestKernel.Create();
        using var b = TestKernel.Create();
        a.On(0, () =>
        {
            Assert.That(a.Core.Cpus.Current, Is.Not.Null);
            Assert.That(b.Core.Cpus.Current, Is.Null);
            b.On(0, () => Assert.That(b.Core.Cpus.Current!.Core, Is.SameAs(b.Core)));
            Assert.That(a.Core.Cpus.Current!.Core, Is.SameAs(a.Core));
        });
    }

    [Test]
    public void IdleTasksAreSwapperWithPidZero()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        Assert.That(kernel.Core.Cpus[1].Idle.Comm, Is.EqualTo("swapper/1"));
        Assert.That(kernel.Core.Cpus[1].Idle.Pid, Is.EqualTo(0));
        var task = kernel.Core.CreateTask(77, "a-very-long-command-name");
        Assert.That(task.Comm, Is.EqualTo("a-very-long-com"));
        Assert.That(kernel.Core.FindTask(77), Is.SameAs(task));
    }

    [Test]
    public void ClocksArePerCpuAndDeterministic()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        kernel.Workloads.Run("syscall", 3, 0);
        var first = kernel.Core.Cpus[0].ClockNs;
        using var again = TestKernel.Create(cpus: 2);
        again.Workloads.Run("syscall", 3, 0);
        Assert.That(again.Core.Cpus[0].ClockNs, Is.EqualTo(first).And.GreaterThan(0));
        Assert.That(kernel.Core.Cpus[1].ClockNs, Is.EqualTo(0));
    }

    [Test]
    public void PrintkLinesHaveTheDmesgLayoutAndTheRingIsBounded()
    {
        var core = new KernelCore(new KernelCoreOptions { PrintkLines = 2 });
        using (core)
        {
            core.Cpus[0].Advance(123_000);
            core.Printk.Log("one");
            core.Printk.Log("two");
            core.Printk.Log("three");
            Assert.That(core.Printk.Lines, Is.EqualTo(new[] { "[    0.000123] two", "[    0.000123] three" }));
        }
    }

    [Test]
    public void PrototypesParseNamesAndTypes()
    {
        var p = FunctionPrototype.Parse("int ip_rcv(struct sk_buff *skb, struct net_device *dev, unsigned int len)");
        Assert.That(p.Name, Is.EqualTo("ip_rcv"));
        Assert.That(p.ReturnType, Is.EqualTo("int"));
        Assert.That(p.Parameters.Select(x => x.Name), Is.EqualTo(new[] { "skb", "dev", "len" }));
        Assert.That(p.Parameters[0].Type, Is.EqualTo("struct sk_buff *"));
        Assert.That(FunctionPrototype.Parse("u64 f(void)").Parameters, Is.Empty);
        Assert.That(() => FunctionPrototype.Parse("garbage"), Throws.InstanceOf<FormatException>());
    }

    [Test]
    public void TracedCallsNeedACpu()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("needs_cpu");
        Assert.That(() => f.Call(0, 1, 2), Throws.InvalidOperationException.With.Message.Contains("CPU"));
        Assert.That(Regex.IsMatch(f.ToString(), "needs_cpu"), Is.True);
    }
}
