using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing.Bpf;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Tracing.Bpf;

public sealed class BpfAttachmentsTests
{
    /// <summary>r0 = &amp;map[key] or exit 0; the value pointer ends in r7 (r6 keeps ctx).</summary>
    private static void LookupSlot(BpfCodeBuilder b, BpfMap map, int key)
    {
        b.MovReg(6, 1);
        b.MapLookupOrExit(map.Fd, key);
        b.MovReg(7, 0);
    }

    private static Instruction[] Finish(BpfCodeBuilder b)
    {
        b.Mov(0, 0);
        b.Exit();
        return b.Build();
    }

    /// <summary>map[0] += 1 atomically.</summary>
    private static Instruction[] Counter(BpfMap map)
    {
        var b = new BpfCodeBuilder();
        LookupSlot(b, map, 0);
        b.Mov(1, 1);
        b.Emit(new Instruction(BPF_STX | BPF_ATOMIC | BPF_DW, 7, 1, 0, BPF_ADD));
        return Finish(b);
    }

    /// <summary>map[0] = map[0] * 10 + digit: the order programs ran in, as decimal digits.</summary>
    private static Instruction[] Digit(BpfMap map, int digit)
    {
        var b = new BpfCodeBuilder();
        LookupSlot(b, map, 0);
        b.Load(BPF_DW, 1, 7, 0);
        b.Alu(BPF_MUL, 1, 10);
        b.Alu(BPF_ADD, 1, digit);
        b.Store(BPF_DW, 7, 1, 0);
        return Finish(b);
    }

    /// <summary>map[i] = ctx[i] for <paramref name="slots"/> u64 slots (ctx offsets 8*i, or the given pt_regs offsets).</summary>
    private static Instruction[] CopyContext(BpfMap map, params int[] offsets)
    {
        var b = new BpfCodeBuilder();
        LookupSlot(b, map, 0);
        for (var i = 0; i < offsets.Length; i++)
        {
            b.Load(BPF_DW, 1, 6, offsets[i]);
            b.Store(BPF_DW, 7, 1, 8 * i);
        }

        return Finish(b);
    }

    private static ulong[] Values(BpfMap map, int count)
    {
        var value = new byte[map.ValueSize];
        Assert.That(map.LookupElem(BitConverter.GetBytes(0), value), Is.EqualTo(0));
        return Enumerable.Range(0, count).Select(i => BitConverter.ToUInt64(value, 8 * i)).ToArray();
    }

    private static BpfMap Array(SimulatedKernel kernel, int valueSize = 64) =>
        kernel.Tracing.Bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.Array, 4, valueSize, 1, "m"));

    private static LoadedBpfProgram Kprobe(SimulatedKernel kernel, Instruction[] code, BpfMap map) =>
        kernel.Tracing.Bpf.Load(code, kernel.Tracing.Bpf.Types.Get("kprobe"), [map]);

    [Test]
    public void KprobeProgramsRunInAttachOrderAndDetach()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var add = kernel.DefineAdd("my_add");
        var map = Array(kernel);
        var links = new[] { 1, 2, 3 }.Select(d => kernel.Tracing.BpfLinks.Attach(Kprobe(kernel, Digit(map, d), map), BpfAttachKind.Kprobe, "my_add")).ToArray();
        Assert.That(kernel.Tracing.BpfLinks.Attached(add, BpfAttachKind.Kprobe), Has.Count.EqualTo(3));
        kernel.On(0, () => Assert.That(add.Call(0, 2, 3), Is.EqualTo(5)));
        Assert.That(Values(map, 1)[0], Is.EqualTo(123));
        links[1].Detach();
        kernel.On(0, () => add.Call(0, 2, 3));
        Assert.That(Values(map, 1)[0], Is.EqualTo(12313));
        links[0].Dispose();
        links[2].Dispose();
        Assert.That(kernel.Tracing.Kprobes.List(), Is.Empty);
        kernel.On(0, () => add.Call(0, 2, 3));
        Assert.That(Values(map, 1)[0], Is.EqualTo(12313));
    }

    [Test]
    public void KprobeAndKretprobeContextsArePtRegs()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var add = kernel.DefineAdd("my_add");
        var entry = Array(kernel);
        var exit = Array(kernel);
        using var l1 = kernel.Tracing.BpfLinks.Attach(Kprobe(kernel, CopyContext(entry, PtRegs.OffsetOf("di"), PtRegs.OffsetOf("si")), entry), BpfAttachKind.Kprobe, "my_add");
        using var l2 = kernel.Tracing.BpfLinks.Attach(Kprobe(kernel, CopyContext(exit, PtRegs.OffsetOf("ax")), exit), BpfAttachKind.Kretprobe, "my_add");
        kernel.On(0, () => add.Call(0, 40, 2));
        Assert.That(Values(entry, 2), Is.EqualTo(new ulong[] { 40, 2 }));
        Assert.That(Values(exit, 1), Is.EqualTo(new ulong[] { 42 }));
    }

    [Test]
    public void FentryAndFexitSeeTypedArgumentsAndTheReturnValue()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var add = kernel.DefineAdd("my_add");
        var entry = Array(kernel);
        var exit = Array(kernel);
        var bpf = kernel.Tracing.Bpf;
        var fentry = bpf.Load(CopyContext(entry, 0, 8), new TracingProgramType(2, isExit: false), [entry]);
        var fexit = bpf.Load(CopyContext(exit, 0, 8, 16), new TracingProgramType(2, isExit: true), [exit]);
        using var l1 = kernel.Tracing.BpfLinks.Attach(fentry, BpfAttachKind.Fentry, "my_add");
        using var l2 = kernel.Tracing.BpfLinks.Attach(fexit, BpfAttachKind.Fexit, "my_add");
        kernel.On(0, () => add.Call(0, 7, 8));
        Assert.That(Values(entry, 2), Is.EqualTo(new ulong[] { 7, 8 }));
        Assert.That(Values(exit, 3), Is.EqualTo(new ulong[] { 7, 8, 15 }));
    }

    [Test]
    public void TracingContextAccessIsBoundedByThePrototype()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var map = Array(kernel);
        // fentry on a two-argument function may not read args[2] (that slot is fexit's return value).
        var e = Assert.Throws<BpfLoadException>(() => kernel.Tracing.Bpf.Load(CopyContext(map, 16), new TracingProgramType(2, isExit: false), [map]))!;
        Assert.That(e.Verdict!.Accepted, Is.False);
        Assert.That(e.Verdict.Error, Does.Contain("invalid bpf_context access"));
        // ...and kprobe programs may not write pt_regs.
        var b = new BpfCodeBuilder();
        b.StoreImm(BPF_DW, 1, 80, 0);
        Assert.Throws<BpfLoadException>(() => kernel.Tracing.Bpf.Load(Finish(b), kernel.Tracing.Bpf.Types.Get("kprobe"), []));
    }

    [Test]
    public void OverrideReturnWorksOnlyOnErrorInjectableFunctions()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var ran = 0;
        var injectable = kernel.Core.Functions.Define("long should_fail_alloc(long size)", (ref PtRegs r) => { ran++; return 0; }, allowErrorInjection: true);
        kernel.DefineAdd("my_add");
        var b = new BpfCodeBuilder();
        b.Mov(2, -12);
        b.Call(58);
        var code = Finish(b);
        var program = kernel.Tracing.Bpf.Load(code, kernel.Tracing.Bpf.Types.Get("kprobe"), []);
        var refused = Assert.Throws<BpfAttachException>(() => kernel.Tracing.BpfLinks.Attach(program, BpfAttachKind.Kprobe, "my_add"))!;
        Assert.That(refused.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.Throws<BpfAttachException>(() => kernel.Tracing.BpfLinks.Attach(program, BpfAttachKind.Kretprobe, "should_fail_alloc"));
        using (kernel.Tracing.BpfLinks.Attach(program, BpfAttachKind.Kprobe, "should_fail_alloc"))
        {
            kernel.On(0, () => Assert.That((long)injectable.Call(0, 64), Is.EqualTo(-12)));
            Assert.That(ran, Is.EqualTo(0));
        }

        kernel.On(0, () => Assert.That((long)injectable.Call(0, 64), Is.EqualTo(0)));
        Assert.That(ran, Is.EqualTo(1));
    }

    [Test]
    public void AttachAndDetachWhileCpusCallTheFunctionLoseNothing()
    {
        const int calls = 20_000;
        using var kernel = TestKernel.Create(cpus: 2, workloads: false);
        var add = kernel.DefineAdd("my_add");
        var steady = Array(kernel);
        var churn = Array(kernel);
        using var keep = kernel.Tracing.BpfLinks.Attach(Kprobe(kernel, Counter(steady), steady), BpfAttachKind.Kprobe, "my_add");
        var churnProgram = Kprobe(kernel, Counter(churn), churn);
        var running = 2;
        var threads = Enumerable.Range(0, 2).Select(cpu => kernel.Core.Cpus[cpu].Start(() =>
        {
            for (var i = 0; i < calls; i++)
                add.Call(0, 1, 2);
            Interlocked.Decrement(ref running);
        })).ToArray();
        var cycles = 0;
        while (Volatile.Read(ref running) > 0 || cycles == 0)
        {
            using var link = kernel.Tracing.BpfLinks.Attach(churnProgram, BpfAttachKind.Kprobe, "my_add");
            cycles++;
        }

        foreach (var thread in threads)
            thread.Join();
        Assert.That(Values(steady, 1)[0], Is.EqualTo(2UL * calls));
        Assert.That(Values(churn, 1)[0], Is.LessThanOrEqualTo(2UL * calls));
        Assert.That(kernel.Tracing.BpfLinks.Attached(add, BpfAttachKind.Kprobe), Has.Count.EqualTo(1));
        Assert.That(cycles, Is.GreaterThan(0));
    }

    [Test]
    public unsafe void APerCpuCounterOnTwoCpusKeepsOneValuePerCpu()
    {
        int[] calls = [3000, 5000];
        using var kernel = TestKernel.Create(cpus: 2, workloads: false);
        var add = kernel.DefineAdd("my_add");
        var map = kernel.Tracing.Bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.PercpuArray, 4, 16, 1, "percpu"));
        // value[0] += 1 without atomics (a slot shared by the CPUs would lose counts); value[1] = smp_processor_id + 1.
        var b = new BpfCodeBuilder();
        LookupSlot(b, map, 0);
        b.Load(BPF_DW, 1, 7, 0);
        b.Alu(BPF_ADD, 1, 1);
        b.Store(BPF_DW, 7, 1, 0);
        b.Call(8);
        b.Alu(BPF_ADD, 0, 1);
        b.Store(BPF_DW, 7, 0, 8);
        using var link = kernel.Tracing.BpfLinks.Attach(Kprobe(kernel, Finish(b), map), BpfAttachKind.Kprobe, "my_add");
        var threads = Enumerable.Range(0, 2).Select(cpu => kernel.Core.Cpus[cpu].Start(() =>
        {
            for (var i = 0; i < calls[cpu]; i++)
                add.Call(0, 1, 2);
        })).ToArray();
        foreach (var thread in threads)
            thread.Join();

        var key = 0;
        for (var cpu = 0; cpu < 2; cpu++)
        {
            var value = (ulong*)map.Lookup((byte*)&key, cpu);
            Assert.That(value[0], Is.EqualTo((ulong)calls[cpu]), $"CPU {cpu}'s hits");
            Assert.That(value[1], Is.EqualTo((ulong)cpu + 1), $"bpf_get_smp_processor_id() on CPU {cpu}");
        }
    }

    [Test]
    public void UnknownAndNotraceTargetsAreRefused()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var map = Array(kernel);
        var program = Kprobe(kernel, Counter(map), map);
        Assert.That(Assert.Throws<BpfAttachException>(() => kernel.Tracing.BpfLinks.Attach(program, BpfAttachKind.Kprobe, "no_such_fn"))!.Errno, Is.EqualTo(Errno.ENOENT));
        kernel.DefineAdd("my_add");
        Assert.Throws<BpfAttachException>(() => kernel.Tracing.BpfLinks.Attach(program, BpfAttachKind.Fentry, "my_add"));
    }
}
