using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Tracing.ProbeEvents;

public sealed class ProbeEventTests
{
    private static IEnumerable<TestCaseData> Errors() =>
        File.ReadAllLines(Path.Combine(TestContext.CurrentContext.TestDirectory, "Tracing", "Data", "kprobe-event-errors.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(" | "))
            .Select(p => new TestCaseData(p[0], p[1], int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(p[3], System.Globalization.CultureInfo.InvariantCulture)).SetName($"error: {p[0]}"));

    [TestCaseSource(nameof(Errors))]
    public void BadDefinitionsAreLoggedWithMessageAndPosition(string command, string message, int position, int errno)
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("kprobe_events", command), Is.EqualTo(errno));
        var log = kernel.Tracing.ProbeEvents.Errors;
        Assert.That(log, Has.Count.EqualTo(1));
        Assert.That(log[0].Message, Is.EqualTo(message));
        Assert.That(log[0].Position, Is.EqualTo(position));
        var lines = fs.Read("error_log").Text.Split('\n');
        Assert.That(lines[0], Does.Match(@"^\[\s*\d+\.\d{6}\] trace_kprobe: error: ").And.EndWith(message));
        Assert.That(lines[1], Is.EqualTo("  Command: " + command));
        Assert.That(lines[2], Is.EqualTo(new string(' ', 11 + position) + "^"));
        Assert.That(kernel.Tracing.ProbeEvents.Events, Is.Empty);
    }

    [TestCase("len=+112(%di):u32", "len=161")]
    [TestCase("dev=+0(%si):string", "dev=\"eth0\"")]
    [TestCase("dev=+0(+16(%di)):string", "dev=\"eth0\"")]
    [TestCase("c=+0(+16(%di)):char", "c='e'")]
    [TestCase("name=+0(+16(%di)):u8[4]", "name={101,116,104,48}")]
    [TestCase("name=+0(+16(%di)):x8[2]", "name={0x65,0x74}")]
    [TestCase("bits=+112(%di):b4@2/32", "bits=8")]
    [TestCase("ret=$stack0:symbol", "ret=__netif_receive_skb_one_core+0x51/0x90")]
    [TestCase("comm=$comm", "comm=\"swapper/0\"")]
    [TestCase("imm=\\42", "imm=0x2a")]
    [TestCase("imm=\\42:u8", "imm=42")]
    [TestCase("neg=\\-5:s32", "neg=-5")]
    [TestCase("neg=\\-5:s8", "neg=-5")]
    [TestCase("str=\\\"hi\"", "str=\"hi\"")]
    [TestCase("task=@init_task+24:string", "task=\"swapper/0\"")]
    [TestCase("pid=@init_task+8:s32", "pid=0")]
    [TestCase("bad=+0(\\16):u64", "bad=0")]
    [TestCase("badstr=+0(\\16):string", "badstr=(fault)")]
    public void FetchArgumentsReadWhatLinuxWouldRead(string argument, string expected)
    {
        using var kernel = TestKernel.Create();
        var line = TraceOne(kernel, $"p:myprobe ip_rcv {argument}");
        Assert.That(line, Does.EndWith($": myprobe: (ip_rcv+0x0/0x1a0) {expected}"));
    }

    [Test]
    public void RegistersArgsAndBtfNamesAgree()
    {
        using var kernel = TestKernel.Create();
        var line = TraceOne(kernel, "p:myprobe ip_rcv a=%di b=$arg1 c=skb d=$stack");
        var values = line[(line.IndexOf(") ", StringComparison.Ordinal) + 2)..].Split(' ').Select(v => v[(v.IndexOf('=', StringComparison.Ordinal) + 1)..]).ToArray();
        Assert.That(values[0], Does.StartWith("0x"));
        Assert.That(values[1], Is.EqualTo(values[0]));
        Assert.That(values[2], Is.EqualTo(values[0]));
        Assert.That(values[3], Does.StartWith("0x"));
    }

    [Test]
    public void ReturnProbesPrintReturnAddressAndRetval()
    {
        using var kernel = TestKernel.Create();
        var line = TraceOne(kernel, "r:myret ip_rcv_core ret=$retval len=+112($retval):u32");
        Assert.That(line, Does.Match(@": myret: \(ip_rcv\+0x2e/0x1a0 <- ip_rcv_core\) ret=0x[0-9a-f]+ len=161$"));
    }

    [Test]
    public void ReturnProbesSeeEntryArgumentsSavedAtEntry()
    {
        using var kernel = TestKernel.Create();
        var line = TraceOne(kernel, "r:myret ip_rcv_core skb=$arg1 len=+112(skb):u32 ret=$retval");
        Assert.That(line, Does.Match(@": myret: \(ip_rcv\+0x2e/0x1a0 <- ip_rcv_core\) skb=(0x[0-9a-f]+) len=161 ret=\1$"));
    }

    [Test]
    public void DefaultNamesAndListingRoundTrip()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("kprobe_events", "p ip_rcv %di"), Is.EqualTo(0));
        Assert.That(fs.Write("kprobe_events", "r5:mygrp/ret udp_rcv $retval:s32", append: true), Is.EqualTo(0));
        Assert.That(fs.Write("kprobe_events", "p ip_local_deliver%return", append: true), Is.EqualTo(0));
        Assert.That(fs.Read("kprobe_events").Text, Is.EqualTo(
            "p:kprobes/p_ip_rcv_0 ip_rcv arg1=%di\nr5:mygrp/ret udp_rcv arg1=$retval:s32\nr:kprobes/r_ip_local_deliver_0 ip_local_deliver\n"));
        Assert.That(fs.Read("dynamic_events").Text, Is.EqualTo(fs.Read("kprobe_events").Text));
        Assert.That(fs.List("events"), Is.EqualTo(new[] { "enable", "kprobes/", "mygrp/", "net/" }));
        Assert.That(fs.List("events/mygrp/ret"), Is.EqualTo(new[] { "enable", "filter", "format", "id" }));
    }

    [Test]
    public void RemovingNeedsTheEventDisabled()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:myprobe ip_rcv");
        Assert.That(fs.Write("events/kprobes/myprobe/enable", "1"), Is.EqualTo(0));
        Assert.That(fs.Write("kprobe_events", "-:myprobe", append: true), Is.EqualTo(-Errno.EBUSY));
        Assert.That(fs.Write("kprobe_events", ""), Is.EqualTo(-Errno.EBUSY));
        Assert.That(fs.Write("events/kprobes/enable", "0"), Is.EqualTo(0));
        Assert.That(fs.Write("kprobe_events", "-:kprobes/myprobe", append: true), Is.EqualTo(0));
        Assert.That(fs.Write("kprobe_events", "-:myprobe", append: true), Is.EqualTo(-Errno.ENOENT));
        Assert.That(fs.Read("kprobe_events").Text, Is.Empty);
        Assert.That(kernel.Tracing.Kprobes.List(), Is.Empty);
    }

    [Test]
    public void DuplicateEventNamesAreRefused()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:myprobe ip_rcv");
        Assert.That(fs.Write("kprobe_events", "p:myprobe udp_rcv", append: true), Is.EqualTo(-Errno.EEXIST));
        Assert.That(kernel.Tracing.ProbeEvents.Errors[0].Message, Is.EqualTo("Given group/event name is already used by another event"));
    }

    [Test]
    public void FormatFileDescribesTheEntry()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:myprobe ip_rcv skb=%di len=+112(%di):u32 dev=+0(%si):string");
        var id = fs.Read("events/kprobes/myprobe/id").Text.Trim();
        Assert.That(fs.Read("events/kprobes/myprobe/format").Text, Is.EqualTo(
            "name: myprobe\n" +
            $"ID: {id}\n" +
            "format:\n" +
            "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
            "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" +
            "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" +
            "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n" +
            "\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n" +
            "\tfield:u64 skb;\toffset:16;\tsize:8;\tsigned:0;\n" +
            "\tfield:u32 len;\toffset:24;\tsize:4;\tsigned:0;\n" +
            "\tfield:__data_loc char[] dev;\toffset:28;\tsize:4;\tsigned:1;\n\n" +
            "print fmt: \"(%lx) skb=0x%Lx len=%u dev=\\\"%s\\\"\", REC->__probe_ip, REC->skb, REC->len, __get_str(dev)\n"));
    }

    [Test]
    public void ProfileCountsHitsAndDisabledEventsRecordNothing()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:myprobe ip_rcv");
        kernel.Workloads.Run("net", 2);
        Assert.That(kernel.Tracing.Trace.Buffer.EntriesWritten, Is.EqualTo(0));
        fs.Write("events/kprobes/myprobe/enable", "1");
        kernel.Workloads.Run("net", 3);
        Assert.That(fs.Read("kprobe_profile").Text, Is.EqualTo($"  {"myprobe",-44} {3,15} {0,15}\n"));
        Assert.That(fs.Read("/sys/kernel/debug/kprobes/list").Text, Does.EndWith("  k  ip_rcv+0x0    [FTRACE]\n"));
    }

    [Test]
    public void FprobeEventsLiveInDynamicEventsWithBtfNames()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("kprobe_events", "f ip_rcv skb"), Is.EqualTo(-Errno.EINVAL), "kprobe_events takes no fprobes");
        Assert.That(fs.Write("dynamic_events", "f ip_rcv skb len=+112(skb):u32"), Is.EqualTo(0), fs.Read("error_log").Text);
        Assert.That(fs.Write("dynamic_events", "f ip_rcv_core%return ret=$retval", append: true), Is.EqualTo(0), fs.Read("error_log").Text);
        Assert.That(fs.Write("dynamic_events", "f:grp/ev ip_rcv+4", append: true), Is.EqualTo(-Errno.EINVAL));
        Assert.That(fs.Read("dynamic_events").Text, Is.EqualTo(
            "f:fprobes/ip_rcv__entry ip_rcv skb=skb len=+112(skb):u32\nf:fprobes/ip_rcv_core__exit ip_rcv_core%return ret=$retval\n"));
        Assert.That(fs.Read("kprobe_events").Text, Is.Empty);
        fs.Write("events/fprobes/enable", "1");
        kernel.Workloads.Run("net", 1);
        var body = fs.Read("trace").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
        Assert.That(body[0], Does.Match(@"ip_rcv__entry: \(ip_rcv\+0x0/0x1a0\) skb=0x[0-9a-f]+ len=161$"));
        Assert.That(body[1], Does.Match(@"ip_rcv_core__exit: \(ip_rcv\+0x2e/0x1a0 <- ip_rcv_core\) ret=0x[0-9a-f]+$"));
    }

    [Test]
    public void FunctionEventsDefineTypedEntryEvents()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("function_events", "ip_rcv(struct sk_buff *skb, x64 dev, int pt)"), Is.EqualTo(0), fs.Read("error_log").Text);
        Assert.That(fs.Read("function_events").Text, Is.EqualTo("ip_rcv(struct sk_buff *skb, x64 dev, int pt)\n"));
        Assert.That(fs.Write("events/functions/ip_rcv/enable", "1"), Is.EqualTo(0));
        kernel.Workloads.Run("net", 1);
        var body = fs.Read("trace").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
        Assert.That(body, Has.Length.EqualTo(1));
        Assert.That(body[0], Does.Match(@"ip_rcv: \(ip_rcv\+0x0/0x1a0\) skb=0x[0-9a-f]+ dev=0x[0-9a-f]+ pt=-?[0-9]+$"));
        Assert.That(fs.Write("events/functions/ip_rcv/enable", "0"), Is.EqualTo(0));
        Assert.That(fs.Write("function_events", "!ip_rcv", append: true), Is.EqualTo(0));
        Assert.That(fs.Read("function_events").Text, Is.Empty);
    }

    [TestCase("nosuch(int a)", "Invalid probed address or symbol", 0)]
    [TestCase("ip_rcv(int a", "Argument list is not closed", 6)]
    [TestCase("ip_rcv(int a, float b)", "Unknown type is specified", 14)]
    [TestCase("ip_rcv(int 1a)", "Argument name must follow the same rules as C identifiers", 11)]
    [TestCase("ip_rcv(skb)", "Type and name expected", 7)]
    public void FunctionEventErrorsPointIntoTheLine(string line, string message, int position)
    {
        using var kernel = TestKernel.Create();
        Assert.That(kernel.Tracing.Tracefs.Write("function_events", line), Is.Not.EqualTo(0));
        var error = kernel.Tracing.ProbeEvents.Errors.Single();
        Assert.That((error.Location, error.Message, error.Position), Is.EqualTo(("function_events: error: ", message, position)));
    }

    private static string TraceOne(SimulatedKernel kernel, string definition)
    {
        var fs = kernel.Tracing.Tracefs;
        var result = fs.Write("kprobe_events", definition);
        Assert.That(result, Is.EqualTo(0), fs.Read("error_log").Text);
        Assert.That(fs.Write("events/kprobes/enable", "1"), Is.EqualTo(0));
        kernel.Workloads.Run("net", 1);
        var lines = fs.Read("trace").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
        Assert.That(lines, Has.Length.EqualTo(1));
        return lines[0];
    }
}

public sealed class EventFilterTests
{
    [TestCase("len == 161", 1)]
    [TestCase("len != 161", 3)]
    [TestCase("len > 100 && len < 300", 3)]
    [TestCase("len <= 124 || len >= 300", 2)]
    [TestCase("!(len == 161)", 3)]
    [TestCase("len & 0x100", 1)]
    [TestCase("dev == \"eth0\"", 4)]
    [TestCase("dev ~ \"eth*\" && len == 160", 1)]
    [TestCase("dev != eth0", 0)]
    [TestCase("common_pid == 0", 4)]
    public void FiltersDiscardEntriesThatFail(string filter, int expected)
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:myprobe ip_rcv len=+112(%di):u32 dev=+0(%si):string");
        Assert.That(fs.Write("events/kprobes/myprobe/filter", filter), Is.EqualTo(0), fs.Read("events/kprobes/myprobe/filter").Text);
        Assert.That(fs.Read("events/kprobes/myprobe/filter").Text, Is.EqualTo(filter + "\n"));
        fs.Write("events/kprobes/myprobe/enable", "1");
        kernel.Workloads.Run("net", 4); // the net workload's first frames: ip_rcv sees len 161, 124, 307, 160
        Assert.That(kernel.Tracing.Trace.Buffer.Entries, Is.EqualTo(expected));
        Assert.That(kernel.Tracing.ProbeEvents.Events[0].Hits, Is.EqualTo(4));
    }

    [TestCase("nosuch == 1", "Field not found", 0)]
    [TestCase("len = 1", "Invalid operator", 4)]
    [TestCase("len == abc", "Illegal integer value", 7)]
    [TestCase("dev > 3", "Illegal operation for field type", 4)]
    [TestCase("(len == 1", "Too many '('", 0)]
    [TestCase("len == 1)", "Too few '('", 8)]
    [TestCase("dev == \"eth0", "Missing matching quote", 7)]
    public void BadFiltersShowTheErrorInTheFilterFile(string filter, string message, int position)
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("kprobe_events", "p:myprobe ip_rcv len=+112(%di):u32 dev=+0(%si):string");
        Assert.That(fs.Write("events/kprobes/myprobe/filter", filter), Is.EqualTo(-Errno.EINVAL));
        Assert.That(fs.Read("events/kprobes/myprobe/filter").Text, Is.EqualTo($"{filter}\n{new string(' ', position)}^\nparse_error: {message}\n"));
        Assert.That(fs.Write("events/kprobes/myprobe/filter", "0"), Is.EqualTo(0));
        Assert.That(fs.Read("events/kprobes/myprobe/filter").Text, Is.EqualTo("none\n"));
    }
}

public sealed class ProbeEventConcurrencyTests
{
    [Test]
    public void ToggledWhileTwoCpusRunEveryHitIsRecordedOrCountedAsDropped()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        var fs = kernel.Tracing.Tracefs;
        fs.Write("buffer_size_kb", "4");
        fs.Write("options/overwrite", "0");
        fs.Write("kprobe_events", "p:myprobe ip_rcv len=+112(%di):u32");
        var stop = 0;
        var threads = kernel.Core.Cpus.All.Select(cpu => cpu.Start(() =>
        {
            while (Volatile.Read(ref stop) == 0)
                kernel.Workloads.Get("net")!.Run(cpu, 1);
        })).ToArray();
        for (var i = 0; i < 20; i++)
        {
            Assert.That(fs.Write("events/kprobes/myprobe/enable", "1"), Is.EqualTo(0));
            Thread.Sleep(1);
            Assert.That(fs.Write("events/kprobes/myprobe/enable", "0"), Is.EqualTo(0));
        }

        Volatile.Write(ref stop, 1);
        foreach (var t in threads)
            t.Join();
        var buffer = kernel.Tracing.Trace.Buffer;
        var dropped = Enumerable.Range(0, 2).Sum(c => buffer.Stats(c).DroppedEvents);
        var hits = kernel.Tracing.ProbeEvents.Events[0].Hits;
        Assert.That(hits, Is.GreaterThan(0));
        Assert.That(buffer.Entries + dropped, Is.EqualTo(hits), "nothing lost or duplicated beyond the dropped count");
        Assert.That(buffer.EntriesWritten, Is.EqualTo(buffer.Entries));
    }
}
