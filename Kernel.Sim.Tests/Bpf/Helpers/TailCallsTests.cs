using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Tests.Bpf.Maps;
using static Kernel.Sim.Tests.Bpf.Maps.MapTestKernel;

namespace Kernel.Sim.Tests.Bpf.Helpers;

public sealed class TailCallsTests
{
    [TestCase(0, 42ul)]
    [TestCase(1, 1ul)]
    [TestCase(4, 1ul)]
    [TestCase(-1, 1ul)]
    public void A_hit_never_returns_and_a_miss_falls_through(int index, ulong expected)
    {
        using var k = new MapTestKernel();
        var progs = (ProgArrayMap)k.Create(BpfMapType.ProgArray, 4, 4, 4, "jmp_table");
        var target = k.Load("r0 = 42\nexit", name: "target");
        Assert.That(progs.UpdateElem(U32(0), U32((uint)k.Bpf.ProgramFd(target))), Is.Zero);
        Assert.That(Run(k.Load(TailCaller(progs.Fd, index))), Is.EqualTo(expected));
    }

    [Test]
    public void A_chain_stops_after_33_tail_calls()
    {
        using var k = new MapTestKernel();
        var progs = (ProgArrayMap)k.Create(BpfMapType.ProgArray, 4, 4, 1);
        var counter = k.Create(BpfMapType.Array, 4, 8, 1);
        // Counts itself in the array, then tail-calls slot 0 (itself); when that misses, returns 7.
        var self = k.Load($"""
            r6 = r1
            ld_pseudo r1, 2, {counter.Fd}
            r2 = 1
            lock *(u64 *)(r1 + 0) += r2
            r1 = r6
            ld_pseudo r2, 1, {progs.Fd}
            r3 = 0
            call 12
            r0 = 7
            exit
            """);
        progs.UpdateElem(U32(0), U32((uint)k.Bpf.ProgramFd(self)));
        Assert.That(Run(self), Is.EqualTo(7));
        var count = new byte[8];
        counter.LookupElem(U32(0), count);
        Assert.That(BitConverter.ToUInt64(count), Is.EqualTo(1 + TailCalls.MaxTailCallCount));
        // The count is per run: a second run chains as far again.
        Run(self);
        counter.LookupElem(U32(0), count);
        Assert.That(BitConverter.ToUInt64(count), Is.EqualTo(2 * (1 + TailCalls.MaxTailCallCount)));
    }

    [Test]
    public void A_tail_call_from_a_subprogram_returns_to_the_subprograms_caller()
    {
        using var k = new MapTestKernel();
        var progs = (ProgArrayMap)k.Create(BpfMapType.ProgArray, 4, 4, 1);
        var target = k.Load("r0 = 42\nexit");
        progs.UpdateElem(U32(0), U32((uint)k.Bpf.ProgramFd(target)));
        var main = k.Load($"""
            r6 = r1
            call sub
            r0 += 100
            exit
            sub:
            r1 = r6
            ld_pseudo r2, 1, {progs.Fd}
            r3 = 0
            call 12
            r0 = 1
            exit
            """);
        Assert.That(Run(main), Is.EqualTo(142));
    }

    [Test]
    public void Prog_array_user_api_checks_fds_indices_and_flags()
    {
        using var k = new MapTestKernel();
        var progs = k.Create(BpfMapType.ProgArray, 4, 4, 2);
        var fd = k.Bpf.ProgramFd(k.Load("r0 = 0\nexit"));
        Assert.That(progs.UpdateElem(U32(0), U32(999)), Is.EqualTo(-BpfErrno.EINVAL));
        Assert.That(progs.UpdateElem(U32(2), U32((uint)fd)), Is.EqualTo(-BpfErrno.E2BIG));
        Assert.That(progs.UpdateElem(U32(1), U32((uint)fd)), Is.Zero);
        var value = new byte[4];
        Assert.That(progs.LookupElem(U32(1), value), Is.Zero);
        Assert.That(BitConverter.ToInt32(value), Is.EqualTo(fd));
        Assert.That(progs.LookupElem(U32(0), value), Is.EqualTo(-BpfErrno.ENOENT));
        Assert.That(progs.DeleteElem(U32(1)), Is.Zero);
        Assert.That(progs.DeleteElem(U32(1)), Is.EqualTo(-BpfErrno.ENOENT));
    }
}
