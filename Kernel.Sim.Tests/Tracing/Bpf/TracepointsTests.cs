using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing.Bpf;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Tracing.Bpf;

public sealed class TracepointsTests
{
    private static Tracepoint DefineExec(SimulatedKernel kernel) =>
        kernel.Tracing.Tracepoints.Define("sched", "sched_process_exec", ["struct task_struct *p", "pid_t old_pid", "struct linux_binprm *bprm"],
            [new TracepointField("pid_t", "pid", 4, Signed: true), new TracepointField("pid_t", "old_pid", 4, Signed: true)],
            (args, fields) =>
            {
                BitConverter.TryWriteBytes(fields, (int)args[1] + 1);
                BitConverter.TryWriteBytes(fields[4..], (int)args[1]);
            });

    /// <summary>map[0..n) = u32/u64 loads from ctx at the given (offset, size) pairs.</summary>
    private static Instruction[] Copy(BpfMap map, params (int Offset, int Size)[] loads)
    {
        var b = new BpfCodeBuilder();
        b.MovReg(6, 1);
        b.MapLookupOrExit(map.Fd, 0);
        for (var i = 0; i < loads.Length; i++)
        {
            b.Load(loads[i].Size == 8 ? BPF_DW : BPF_W, 1, 6, loads[i].Offset);
            b.Store(BPF_DW, 0, 1, 8 * i);
        }

        b.Mov(0, 0);
        b.Exit();
        return b.Build();
    }

    private static ulong[] Values(BpfMap map, int n)
    {
        var value = new byte[map.ValueSize];
        map.LookupElem(BitConverter.GetBytes(0), value);
        return Enumerable.Range(0, n).Select(i => BitConverter.ToUInt64(value, 8 * i)).ToArray();
    }

    [Test]
    public void TracepointProgramsReadTheRecordWithTheCommonHeader()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var tp = DefineExec(kernel);
        Assert.That(tp.OffsetOf("pid"), Is.EqualTo(8));
        Assert.That(tp.RecordSize, Is.EqualTo(16));
        var bpf = kernel.Tracing.Bpf;
        var map = bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 64, 1, "m"));
        var program = bpf.Load(Copy(map, (0, 4), (4, 4), (8, 4), (12, 4)), Tracepoints.TracepointType(tp), [map]);
        using var link = kernel.Tracing.Tracepoints.Attach(program, tp, raw: false);
        kernel.Core.Cpus[0].CurrentTask = kernel.Core.CreateTask(77, "bash");
        kernel.On(0, () => tp.Fire([0xffff0000, 41, 0]));
        var v = Values(map, 4);
        Assert.That(v[0] & 0xffff, Is.EqualTo((ulong)tp.Id));
        Assert.That(v[1], Is.EqualTo(77));
        Assert.That(v[2], Is.EqualTo(42));
        Assert.That(v[3], Is.EqualTo(41));
    }

    [Test]
    public void RawTracepointProgramsReadTheArgumentsAndAreBoundedByThem()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var tp = DefineExec(kernel);
        var bpf = kernel.Tracing.Bpf;
        var map = bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 64, 1, "m"));
        var program = bpf.Load(Copy(map, (0, 8), (8, 8), (16, 8)), Tracepoints.RawTracepointType(tp), [map]);
        Assert.Throws<BpfLoadException>(() => bpf.Load(Copy(map, (24, 8)), Tracepoints.RawTracepointType(tp), [map]));
        var link = kernel.Tracing.Tracepoints.Attach(program, tp, raw: true);
        kernel.On(0, () => tp.Fire([5, 6, 7]));
        Assert.That(Values(map, 3), Is.EqualTo(new ulong[] { 5, 6, 7 }));
        link.Dispose();
        kernel.On(0, () => tp.Fire([8, 9, 10]));
        Assert.That(Values(map, 3), Is.EqualTo(new ulong[] { 5, 6, 7 }));
        Assert.Throws<BpfAttachException>(() => kernel.Tracing.Tracepoints.Attach(program, tp, raw: false));
    }
}
