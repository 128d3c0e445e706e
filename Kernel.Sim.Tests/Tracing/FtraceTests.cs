using Kernel.Sim.Core;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tests.Tracing;

public sealed class FtraceTests
{
    [Test]
    public void NothingAttachedLeavesTheSiteEmpty()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("plain_add");
        Assert.That(f.Fentry, Is.Null);
        ulong result = 0;
        kernel.On(0, () => result = f.Call(0, 2, 3));
        Assert.That(result, Is.EqualTo(5));
    }

    [Test]
    public void CallbacksGetIpParentAndArgumentsInPtRegs()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("hooked_add");
        var seen = new List<(ulong Ip, ulong Parent, ulong Di, ulong Si, ulong Ip2)>();
        var ops = new FtraceOps((ulong ip, ulong parent, FtraceOps o, ref PtRegs regs) => seen.Add((ip, parent, regs.di, regs.si, regs.ip)));
        Assert.That(kernel.Tracing.Ftrace.SetFilter(ops, "hooked_add", reset: true), Is.EqualTo(0));
        Assert.That(kernel.Tracing.Ftrace.Register(ops), Is.EqualTo(0));
        ulong result = 0;
        kernel.On(0, () => result = f.Call(0xffffffff81000123, 40, 2));
        Assert.That(result, Is.EqualTo(42));
        Assert.That(seen, Is.EqualTo(new[] { (f.Address, 0xffffffff81000123UL, 40UL, 2UL, f.Address + 5) }));
    }

    [Test]
    public void NewestOpsIsCalledFirst()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("ordered");
        var order = new List<string>();
        var first = Ops("first", order);
        var second = Ops("second", order);
        kernel.Tracing.Ftrace.SetFilter(first, "ordered", true);
        kernel.Tracing.Ftrace.SetFilter(second, "ordered", true);
        kernel.Tracing.Ftrace.Register(first);
        kernel.Tracing.Ftrace.Register(second);
        kernel.On(0, () => f.Call(0, 1, 1));
        Assert.That(order, Is.EqualTo(new[] { "second", "first" }));
    }

    [Test]
    public void NotraceWinsOverTheFilter()
    {
        using var kernel = TestKernel.Create();
        var order = new List<string>();
        var ops = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => order.Add(kernel.Core.Symbols.FormatName(ip)));
        var ftrace = kernel.Tracing.Ftrace;
        Assert.That(ftrace.SetFilter(ops, "ip_*", true), Is.EqualTo(0));
        Assert.That(ftrace.SetNotrace(ops, "ip_rcv_core", true), Is.EqualTo(0));
        Assert.That(ftrace.SetFilter(ops, "!ip_local_deliver", false), Is.EqualTo(0));
        ftrace.Register(ops);
        kernel.Workloads.Run("net", 1);
        Assert.That(order, Is.EqualTo(new[] { "ip_rcv", "ip_rcv_finish", "ip_route_input_noref", "ip_local_deliver_finish", "ip_protocol_deliver_rcu" }));
    }

    [Test]
    public void AFilterMatchingNothingIsInvalidAndChangesNothing()
    {
        using var kernel = TestKernel.Create();
        var ops = Ops("x", []);
        kernel.Tracing.Ftrace.SetFilter(ops, "udp_rcv", true);
        Assert.That(kernel.Tracing.Ftrace.SetFilter(ops, "no_such_fn*", false), Is.EqualTo(-Errno.EINVAL));
        Assert.That(kernel.Tracing.Ftrace.ListHash(ops, false), Is.EqualTo(new[] { "udp_rcv" }));
        Assert.That(kernel.Tracing.Ftrace.SetFilter(ops, "native_sched_clock", false), Is.EqualTo(-Errno.EINVAL), "notrace functions are not filterable");
    }

    [Test]
    public void OnlyOneIpModifyOpsPerFunction()
    {
        using var kernel = TestKernel.Create();
        var ftrace = kernel.Tracing.Ftrace;
        var a = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => { }, FtraceOpsFlags.SaveRegs | FtraceOpsFlags.IpModify);
        var b = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => { }, FtraceOpsFlags.SaveRegs | FtraceOpsFlags.IpModify);
        ftrace.SetFilter(a, "ip_rcv", true);
        ftrace.SetFilter(b, "ip_*", true);
        Assert.That(ftrace.Register(a), Is.EqualTo(0));
        Assert.That(ftrace.Register(b), Is.EqualTo(-Errno.EBUSY));
        Assert.That(ftrace.SetFilter(b, "!ip_rcv", false), Is.EqualTo(0));
        Assert.That(ftrace.Register(b), Is.EqualTo(0));
        Assert.That(ftrace.SetFilter(b, "ip_rcv", false), Is.EqualTo(-Errno.EBUSY), "adding the function later is refused too");
        Assert.That(ftrace.Register(a), Is.EqualTo(-Errno.EBUSY), "registering twice");
    }

    [Test]
    public void IpModifyDivertsTheCallLikeALivepatch()
    {
        using var kernel = TestKernel.Create();
        var old = kernel.DefineAdd("old_add");
        var replacement = kernel.Core.Functions.Define("long new_add(long a, long b)", (ref PtRegs r) => r.di * r.si);
        var patch = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => r.ip = replacement.Address, FtraceOpsFlags.SaveRegs | FtraceOpsFlags.IpModify);
        kernel.Tracing.Ftrace.SetFilter(patch, "old_add", true);
        kernel.Tracing.Ftrace.Register(patch);
        ulong result = 0;
        kernel.On(0, () => result = old.Call(0, 6, 7));
        Assert.That(result, Is.EqualTo(42));
    }

    [Test]
    public void RecursionFlagSkipsTheNestedCallback()
    {
        using var kernel = TestKernel.Create();
        var inner = kernel.DefineAdd("inner_fn");
        var calls = 0;
        FtraceOps? ops = null;
        ops = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) =>
        {
            calls++;
            // The callback calls a traced function: the transition bit lets one nested level through, the next is refused.
            inner.Call(0, 1, 1);
        }, FtraceOpsFlags.Recursion);
        kernel.Tracing.Ftrace.SetFilter(ops, "inner_fn", true);
        kernel.Tracing.Ftrace.Register(ops);
        kernel.On(0, () => inner.Call(0, 1, 2));
        Assert.That(calls, Is.EqualTo(2));
        Assert.That(ops.RecursionMissed, Is.EqualTo(1));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void NoCallbackRunsAfterUnregisterReturnsWhileOtherCpusCall(bool throughCallerSite)
    {
        using var kernel = TestKernel.Create(cpus: 2);
        var f = kernel.DefineAdd("hot_fn");
        var site = f.CallerSite<KernelFunction, Kernel.Sim.Tests.Core.FentryCallerSiteTests.AddCaller>();
        var unregistered = 0;
        var late = 0;
        long hits = 0;
        var ops = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) =>
        {
            Interlocked.Increment(ref hits);
            Thread.SpinWait(50);
            if (Volatile.Read(ref unregistered) != 0)
                Interlocked.Increment(ref late);
        });
        kernel.Tracing.Ftrace.SetFilter(ops, "hot_fn", true);
        var stop = 0;
        var threads = kernel.Core.Cpus.All.Select(cpu => cpu.Start(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                if (throughCallerSite)
                    site.Run(f);
                else
                    f.Call(0, 1, 2);
            }
        })).ToArray();
        for (var round = 0; round < 20; round++)
        {
            Volatile.Write(ref unregistered, 0);
            Assert.That(kernel.Tracing.Ftrace.Register(ops), Is.EqualTo(0));
            var before = Interlocked.Read(ref hits);
            SpinWait.SpinUntil(() => Interlocked.Read(ref hits) > before + 10, 2000);
            Assert.That(kernel.Tracing.Ftrace.Unregister(ops), Is.EqualTo(0));
            Volatile.Write(ref unregistered, 1);
            Thread.Sleep(1);
        }

        Volatile.Write(ref stop, 1);
        foreach (var t in threads)
            t.Join();
        Assert.That(late, Is.EqualTo(0));
        Assert.That(hits, Is.GreaterThan(20));
    }

    [Test]
    public void ChangingTheFilterWhileOtherCpusRunTakesEffect()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        var a = kernel.DefineAdd("fa");
        var b = kernel.DefineAdd("fb");
        var seenA = 0L;
        var seenB = 0L;
        var ops = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) =>
        {
            if (ip == a.Address)
                Interlocked.Increment(ref seenA);
            else
                Interlocked.Increment(ref seenB);
        });
        var ftrace = kernel.Tracing.Ftrace;
        ftrace.SetFilter(ops, "fa", true);
        ftrace.Register(ops);
        var stop = 0;
        var threads = kernel.Core.Cpus.All.Select(cpu => cpu.Start(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                a.Call(0, 1, 1);
                b.Call(0, 1, 1);
            }
        })).ToArray();
        SpinWait.SpinUntil(() => Interlocked.Read(ref seenA) > 100, 5000);
        Assert.That(ftrace.SetFilter(ops, "fb", reset: true), Is.EqualTo(0));
        var aAfterSwitch = Interlocked.Read(ref seenA);
        SpinWait.SpinUntil(() => Interlocked.Read(ref seenB) > 100, 5000);
        Volatile.Write(ref stop, 1);
        foreach (var t in threads)
            t.Join();
        Assert.That(Interlocked.Read(ref seenA), Is.EqualTo(aAfterSwitch), "no fa callback after the filter change returned");
        Assert.That(Interlocked.Read(ref seenB), Is.GreaterThan(100));
    }

    [Test]
    public void FunctionsDefinedLaterGetTheirHooks()
    {
        using var kernel = TestKernel.Create();
        var hits = 0;
        var ops = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => hits++);
        kernel.Tracing.Ftrace.Register(ops);
        var late = kernel.DefineAdd("defined_late");
        kernel.On(0, () => late.Call(0, 1, 1));
        Assert.That(hits, Is.EqualTo(1));
    }

    [Test]
    public void EnabledFunctionsShowsCountsAndFlags()
    {
        using var kernel = TestKernel.Create();
        var ops = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => { }, FtraceOpsFlags.SaveRegs);
        kernel.Tracing.Ftrace.SetFilter(ops, "udp_rcv", true);
        kernel.Tracing.Ftrace.Register(ops);
        Assert.That(kernel.Tracing.Ftrace.EnabledFunctions(), Is.EqualTo("udp_rcv (1) R  \n"));
    }

    private static FtraceOps Ops(string name, List<string> order) =>
        new((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => order.Add(name), FtraceOpsFlags.None, name);
}
