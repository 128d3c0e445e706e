using Kernel.Sim.Core;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tests.Tracing;

public sealed class KprobesTests
{
    [Test]
    public void PreAndPostHandlersSeeTheBreakpointAndSteppedIp()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("probed");
        var seen = new List<string>();
        var kp = new Kprobe
        {
            SymbolName = "probed",
            PreHandler = (Kprobe p, ref PtRegs r) => { seen.Add($"pre ip=+{r.ip - f.Address} di={r.di}"); return 0; },
            PostHandler = (Kprobe p, ref PtRegs r, ulong flags) => seen.Add($"post ip=+{r.ip - f.Address}"),
        };
        Assert.That(kernel.Tracing.Kprobes.Register(kp), Is.EqualTo(0));
        Assert.That(kp.Address, Is.EqualTo(f.Address));
        kernel.On(0, () => f.Call(0, 7, 1));
        Assert.That(seen, Is.EqualTo(new[] { "pre ip=+1 di=7", "post ip=+5" }));
    }

    [Test]
    public void ProbesAtOneAddressRunNewestFirst()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("multi");
        var order = new List<int>();
        for (var i = 1; i <= 3; i++)
        {
            var n = i;
            kernel.Tracing.Kprobes.Register(new Kprobe { SymbolName = "multi", PreHandler = (Kprobe p, ref PtRegs r) => { order.Add(n); return 0; } });
        }

        kernel.On(0, () => f.Call(0));
        Assert.That(order, Is.EqualTo(new[] { 3, 2, 1 }));
    }

    [TestCase("no_such_function", 0UL, -Errno.ENOENT)]
    [TestCase("ip_rcv", 4UL, -Errno.EILSEQ)]
    [TestCase("ip_rcv", 0x1000UL, -Errno.EINVAL)]
    [TestCase("native_sched_clock", 0UL, -Errno.EINVAL)]
    public void BadProbePointsAreRejectedWithLinuxErrors(string symbol, ulong offset, int expected)
    {
        using var kernel = TestKernel.Create();
        Assert.That(kernel.Tracing.Kprobes.Register(new Kprobe { SymbolName = symbol, Offset = offset }), Is.EqualTo(expected));
    }

    [Test]
    public void AHitInsideAHandlerCountsAsMissed()
    {
        using var kernel = TestKernel.Create();
        var inner = kernel.DefineAdd("kp_inner");
        var outer = kernel.DefineAdd("kp_outer");
        var innerProbe = new Kprobe { SymbolName = "kp_inner", PreHandler = (Kprobe p, ref PtRegs r) => 0 };
        var outerProbe = new Kprobe { SymbolName = "kp_outer", PreHandler = (Kprobe p, ref PtRegs r) => { inner.Call(0); return 0; } };
        kernel.Tracing.Kprobes.Register(innerProbe);
        kernel.Tracing.Kprobes.Register(outerProbe);
        kernel.On(0, () => outer.Call(0));
        Assert.That(innerProbe.NMissed, Is.EqualTo(1));
        Assert.That(outerProbe.NMissed, Is.EqualTo(0));
        kernel.On(0, () => inner.Call(0));
        Assert.That(innerProbe.NMissed, Is.EqualTo(1));
    }

    [Test]
    public void DisableAndEnableWhileAnotherCpuRuns()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        var f = kernel.DefineAdd("toggled");
        long hits = 0;
        var kp = new Kprobe { SymbolName = "toggled", PreHandler = (Kprobe p, ref PtRegs r) => { Interlocked.Increment(ref hits); return 0; } };
        kernel.Tracing.Kprobes.Register(kp);
        var stop = 0;
        var runner = kernel.Core.Cpus[1].Start(() =>
        {
            while (Volatile.Read(ref stop) == 0)
                f.Call(0);
        });
        SpinWait.SpinUntil(() => Interlocked.Read(ref hits) > 10, 5000);
        Assert.That(kernel.Tracing.Kprobes.Disable(kp), Is.EqualTo(0));
        kernel.Core.Cpus.SynchronizeRcu();
        var frozen = Interlocked.Read(ref hits);
        Thread.Sleep(20);
        Assert.That(Interlocked.Read(ref hits), Is.EqualTo(frozen));
        Assert.That(kernel.Tracing.Kprobes.List(), Does.Contain("[DISABLED][FTRACE]"));
        Assert.That(kernel.Tracing.Kprobes.Enable(kp), Is.EqualTo(0));
        SpinWait.SpinUntil(() => Interlocked.Read(ref hits) > frozen + 10, 5000);
        Volatile.Write(ref stop, 1);
        runner.Join();
        Assert.That(Interlocked.Read(ref hits), Is.GreaterThan(frozen + 10));
    }

    [Test]
    public void ListingHasTheDebugfsLayout()
    {
        using var kernel = TestKernel.Create();
        kernel.Tracing.Kprobes.Register(new Kprobe { SymbolName = "ip_rcv" });
        kernel.Tracing.Kprobes.Register(new Kretprobe { SymbolName = "udp_rcv" });
        var ipRcv = kernel.Core.Symbols.Lookup("ip_rcv")!.Address;
        var udpRcv = kernel.Core.Symbols.Lookup("udp_rcv")!.Address;
        Assert.That(kernel.Tracing.Kprobes.List(), Is.EqualTo(
            $"{ipRcv:x16}  k  ip_rcv+0x0    [FTRACE]\n{udpRcv:x16}  r  udp_rcv+0x0    [FTRACE]\n"), "ordered by address");
    }

    [Test]
    public void APostHandlerTakesTheIpModifyOpsAndConflictsWithALivepatch()
    {
        using var kernel = TestKernel.Create();
        var patch = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => { }, FtraceOpsFlags.SaveRegs | FtraceOpsFlags.IpModify);
        kernel.Tracing.Ftrace.SetFilter(patch, "udp_rcv", true);
        kernel.Tracing.Ftrace.Register(patch);
        Assert.That(kernel.Tracing.Kprobes.Register(new Kprobe { SymbolName = "udp_rcv", PreHandler = (Kprobe p, ref PtRegs r) => 0 }), Is.EqualTo(0));
        Assert.That(kernel.Tracing.Kprobes.Register(new Kprobe { SymbolName = "udp_rcv", PostHandler = (Kprobe p, ref PtRegs r, ulong f) => { } }), Is.EqualTo(-Errno.EBUSY));
    }

    [TestCase(1, 10)]
    [TestCase(2, 10)]
    [TestCase(8, 16)]
    public void DefaultMaxActiveIsMaxOfTenAndTwiceTheCpus(int cpus, int expected)
    {
        using var kernel = TestKernel.Create(cpus, workloads: false);
        kernel.DefineAdd("rp_default");
        var rp = new Kretprobe { SymbolName = "rp_default" };
        Assert.That(kernel.Tracing.Kprobes.Register(rp), Is.EqualTo(0));
        Assert.That(rp.MaxActive, Is.EqualTo(expected));
    }

    [Test]
    public void KretprobeSeesReturnValueReturnAddressAndPerInstanceData()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("rp_add");
        var seen = new List<string>();
        var rp = new Kretprobe
        {
            SymbolName = "rp_add",
            DataSize = 8,
            EntryHandler = (KretprobeInstance ri, ref PtRegs r) => { BitConverter.TryWriteBytes(ri.Data, r.di * 100); return 0; },
            Handler = (KretprobeInstance ri, ref PtRegs r) =>
            {
                seen.Add($"ret={r.ax} data={BitConverter.ToUInt64(ri.Data)} to=0x{ri.ReturnAddress:x} ip=0x{r.ip:x} task={ri.Task!.Pid}");
                return 0;
            },
        };
        Assert.That(kernel.Tracing.Kprobes.Register(rp), Is.EqualTo(0));
        kernel.On(0, () => f.Call(0xffffffff81000abc, 3, 4));
        Assert.That(seen, Is.EqualTo(new[] { "ret=7 data=300 to=0xffffffff81000abc ip=0xffffffff81000abc task=0" }));
        Assert.That(Kprobes.ActiveInstances(rp), Is.EqualTo(0));
        Assert.That(kernel.Tracing.Kprobes.Register(new Kretprobe { SymbolName = "rp_add", Offset = 5 }), Is.EqualTo(-Errno.EINVAL));
        Assert.That(kernel.Tracing.Kprobes.Register(new Kretprobe { SymbolName = "rp_add", DataSize = 5000 }), Is.EqualTo(-Errno.E2BIG));
    }

    [Test]
    public void MaxActiveExhaustionCountsMissedCalls()
    {
        using var kernel = TestKernel.Create(workloads: false);
        KernelFunction? recurse = null;
        recurse = kernel.Core.Functions.Define("long recurse(long depth)", (ref PtRegs r) => r.di == 0 ? 0 : 1 + recurse!.Call(recurse.At(0x10), r.di - 1));
        var returns = 0;
        var rp = new Kretprobe { SymbolName = "recurse", MaxActive = 2, Handler = (KretprobeInstance ri, ref PtRegs r) => { returns++; return 0; } };
        kernel.Tracing.Kprobes.Register(rp);
        kernel.On(0, () => recurse.Call(0, 5));
        Assert.That(returns, Is.EqualTo(2));
        Assert.That(rp.NMissed, Is.EqualTo(4));
        Assert.That(Kprobes.ActiveInstances(rp), Is.EqualTo(0));
    }

    [Test]
    public void UnregisteredKretprobeAbandonsPendingReturns()
    {
        using var kernel = TestKernel.Create(workloads: false);
        Kretprobe? rp = null;
        var returns = 0;
        var f = kernel.Core.Functions.Define("long self_unregister(void)", (ref PtRegs r) =>
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ => kernel.Tracing.Kprobes.Unregister(rp!), null);
            Thread.Sleep(50);
            return 1;
        });
        rp = new Kretprobe { SymbolName = "self_unregister", Handler = (KretprobeInstance ri, ref PtRegs r) => { returns++; return 0; } };
        kernel.Tracing.Kprobes.Register(rp);
        kernel.On(0, () => f.Call(0));
        SpinWait.SpinUntil(() => !rp.Kp!.Registered, 5000);
        Assert.That(returns, Is.EqualTo(0));
        Assert.That(Kprobes.ActiveInstances(rp), Is.EqualTo(0));
    }
}
