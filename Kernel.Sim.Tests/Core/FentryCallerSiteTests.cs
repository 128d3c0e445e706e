using Kernel.Sim.Calls;
using Kernel.Sim.Core;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tests.Core;

public sealed class FentryCallerSiteTests
{
    [Test]
    public void TheSiteIsANopUntilHookedThenACallToTheTrampoline()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("patched_add");
        var site = f.CallerSite<KernelFunction, AddCaller>();
        Assert.That(f.FentrySite.Decode(), Is.EqualTo(PatchedInstruction.Nop));
        Assert.That(f.FentrySite.Address, Is.EqualTo(f.Address));
        Assert.That(site.Calls, Is.False);

        var hits = 0;
        var ops = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => hits++);
        kernel.Tracing.Ftrace.SetFilter(ops, "patched_add", reset: true);
        kernel.Tracing.Ftrace.Register(ops);
        Assert.That(f.FentrySite.Decode(f.FentrySite.Bytes, out var target), Is.EqualTo(PatchedInstruction.Call));
        Assert.That(target, Is.EqualTo(KernelFunction.FtraceCallerAddress));
        Assert.That(site.Calls, Is.True);
        ulong result = 0;
        kernel.On(0, () => result = site.Run(f));
        Assert.That((result, hits), Is.EqualTo((3UL, 1)));

        kernel.Tracing.Ftrace.Unregister(ops);
        Assert.That(f.FentrySite.Decode(), Is.EqualTo(PatchedInstruction.Nop));
        Assert.That(site.Calls, Is.False);
        kernel.On(0, () => result = site.Run(f));
        Assert.That((result, hits), Is.EqualTo((3UL, 1)));
        Assert.That(f.FentrySite.Pokes, Is.EqualTo(2), "one text_poke_bp to hook, one to unhook");
    }

    [Test]
    public void ASecondOpsOnAHookedSiteDoesNotRepatchIt()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.DefineAdd("twice_hooked");
        var first = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => { });
        var second = new FtraceOps((ulong ip, ulong p, FtraceOps o, ref PtRegs r) => { });
        kernel.Tracing.Ftrace.SetFilter(first, "twice_hooked", reset: true);
        kernel.Tracing.Ftrace.SetFilter(second, "twice_hooked", reset: true);
        kernel.Tracing.Ftrace.Register(first);
        kernel.Tracing.Ftrace.Register(second);
        kernel.Tracing.Ftrace.Unregister(first);
        Assert.That(f.FentrySite.Pokes, Is.EqualTo(1));
        Assert.That(f.FentrySite.Decode(), Is.EqualTo(PatchedInstruction.Call));
    }

    [Test]
    public void NotraceFunctionsHaveNoCallerSites()
    {
        using var kernel = TestKernel.Create();
        var f = kernel.Core.Functions.Define("long quiet(long a)", (ref PtRegs r) => r.di, notrace: true);
        Assert.Throws<InvalidOperationException>(() => f.CallerSite<KernelFunction, AddCaller>());
    }

    /// <summary>A caller of a two-argument function (1, 2) through its patched site.</summary>
    internal readonly struct AddCaller : IFentryCaller<KernelFunction>
    {
        public static ulong Run<TPatch>(KernelFunction args)
            where TPatch : struct, IFentryPatch
        {
            if (TPatch.Calls && args.Fentry is { } hook)
                return hook.Invoke(args, 0, 1, 2, 0, 0, 0, 0);
            var regs = new PtRegs { di = 1, si = 2 };
            return args.Body(ref regs);
        }
    }
}
