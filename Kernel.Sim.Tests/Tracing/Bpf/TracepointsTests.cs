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

    [Test]
    public void ADefinedTracepointIsATracefsEventWithItsFormatIdEnableAndFilter()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var tp = DefineExec(kernel);
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Read("available_events").Text, Does.Contain("sched:sched_process_exec\n"));
        Assert.That(fs.List("events/sched"), Does.Contain("sched_process_exec/"));
        Assert.That(fs.Read("events/sched/sched_process_exec/id").Text, Is.EqualTo($"{tp.Id}\n"));
        Assert.That(fs.Read("events/sched/sched_process_exec/format").Text, Is.EqualTo($$"""
            name: sched_process_exec
            ID: {{tp.Id}}
            format:
            	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
            	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
            	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
            	field:int common_pid;	offset:4;	size:4;	signed:1;

            	field:pid_t pid;	offset:8;	size:4;	signed:1;
            	field:pid_t old_pid;	offset:12;	size:4;	signed:1;

            print fmt: "pid=%d old_pid=%d", REC->pid, REC->old_pid

            """));

        Assert.That(fs.Write("events/sched/sched_process_exec/enable", "1"), Is.Zero);
        Assert.That(fs.Write("events/sched/sched_process_exec/filter", "old_pid != 8"), Is.Zero);
        kernel.On(0, () => tp.Fire([0xffff0000, 7, 0]));
        kernel.On(0, () => tp.Fire([0xffff0000, 8, 0]));
        Assert.That(fs.Write("events/sched/enable", "0"), Is.Zero);
        kernel.On(0, () => tp.Fire([0xffff0000, 9, 0]));
        var lines = fs.Read("trace").Text.Split('\n').Where(l => l.Contains("sched_process_exec", StringComparison.Ordinal)).ToArray();
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.EndWith(": sched_process_exec: pid=8 old_pid=7"));
        Assert.That(tp.Hits, Is.EqualTo(1));
    }

    [Test]
    public void DataLocStringsArePackedAfterTheFieldsTruncatedAndPrintedThroughTheFormat()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var tp = kernel.Tracing.Tracepoints.Define("test", "named", ["const char *name", "int n"],
            [new TracepointField("int", "n", 4, Signed: true), TracepointField.String("name", 8), new TracepointField("unsigned long", "flags", 8)],
            (ReadOnlySpan<ulong> args, ref TracepointRecord record) =>
            {
                BitConverter.TryWriteBytes(record.Fields, (int)args[1]);
                BitConverter.TryWriteBytes(record.Fields[8..], 0xabUL);
                record.SetString("name", args[0] == 0 ? "short"u8 : "much-too-long-a-name"u8);
            },
            "\"n=%-4d| name=%s flags=%#lx\", REC->n, __get_str(name), REC->flags");
        Assert.That(tp.OffsetOf("n"), Is.EqualTo(8));
        Assert.That(tp.OffsetOf("name"), Is.EqualTo(12));
        Assert.That(tp.OffsetOf("flags"), Is.EqualTo(16), "fields are naturally aligned, as in the C struct");
        Assert.That(tp.RecordSize, Is.EqualTo(24));
        Assert.That(kernel.Tracing.Tracefs.Read("events/test/named/format").Text, Does.Contain("\tfield:__data_loc char[] name;\toffset:12;\tsize:4;\tsigned:0;\n"));
        tp.Enabled = true;
        kernel.On(0, () => tp.Fire([0, 5]));
        kernel.On(0, () => tp.Fire([1, -3L is var m ? (ulong)m : 0]));
        var lines = kernel.Tracing.Tracefs.Read("trace").Text.Split('\n').Where(l => l.Contains("named:", StringComparison.Ordinal)).ToArray();
        Assert.That(lines.Select(l => l[(l.IndexOf("named:", StringComparison.Ordinal))..]), Is.EqualTo(new[]
        {
            "named: n=5   | name=short flags=0xab",
            "named: n=-3  | name=much-to flags=0xab",
        }));
    }

    [TestCase("\"%05d\", REC->n", -5, "-0005")]
    [TestCase("\"%+05d\", REC->n", 5, "+0005")]
    [TestCase("\"%#08x\", REC->n", 31, "0x00001f")]
    [TestCase("\"%-6d|\", REC->n", -5, "-5    |")]
    [TestCase("\"%6x|\", REC->n", 255, "    ff|")]
    [TestCase("\"%hhu\", REC->n", 257, "1")]
    [TestCase("\"%c%c\", REC->n, REC->n", 65, "AA")]
    public void PrintFormatPadsAfterTheSignAndPrefixAsVsnprintf(string format, int n, string expected)
    {
        using var kernel = TestKernel.Create(workloads: false);
        var tp = kernel.Tracing.Tracepoints.Define("test", "pad", ["int n"], [new TracepointField("int", "n", 4, Signed: true)],
            (args, fields) => BitConverter.TryWriteBytes(fields, (int)args[0]), format);
        tp.Enabled = true;
        kernel.On(0, () => tp.Fire([(ulong)n]));
        var line = kernel.Tracing.Tracefs.Read("trace").Text.Split('\n').Single(l => l.Contains(" pad: ", StringComparison.Ordinal));
        Assert.That(line[(line.IndexOf(" pad: ", StringComparison.Ordinal) + 6)..], Is.EqualTo(expected));
    }

    [TestCase("\"n=%q\", REC->n", "column 4: unsupported conversion '%q'")]
    [TestCase("\"n=%d\"", "has no argument")]
    [TestCase("\"n=%d\", REC->n, REC->n", "1 argument(s) without a conversion")]
    [TestCase("\"n=%d\", REC->m", "no field 'm'")]
    [TestCase("\"n=%s\", REC->n", "%s needs __get_str()")]
    [TestCase("n=%d, REC->n", "column 1: expected a string literal")]
    [TestCase("\"n=%d, REC->n", "unterminated string literal")]
    [TestCase("\"n=%d\", n", "unsupported argument 'n'")]
    public void ABadPrintFormatIsRefusedAtDefinitionNamingTheColumn(string format, string message)
    {
        using var kernel = TestKernel.Create(workloads: false);
        var e = Assert.Throws<ArgumentException>(() => kernel.Tracing.Tracepoints.Define("test", "bad", ["int n"],
            [new TracepointField("int", "n", 4, Signed: true)], (args, fields) => { }, format));
        Assert.That(e!.Message, Does.StartWith("test:bad print fmt, column ").And.Contain(message));
        Assert.That(kernel.Tracing.Tracepoints.Find("test:bad"), Is.Null, "nothing is defined");
        Assert.That(kernel.Tracing.Tracefs.Read("available_events").Text, Does.Not.Contain("test:bad"));
    }
}
