using System.Text.Json;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli;

public sealed class TraceVerbTests
{
    [Test]
    public void FunctionTracerWithFilterPrintsTheKernelFormat()
    {
        var result = CliRunner.Run("trace", "-p", "function", "-l", "ip_rcv*", "--workload", "net");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Lines[0], Is.EqualTo("# tracer: function"));
        Assert.That(result.Lines.Where(l => !l.StartsWith('#')).Select(l => l[(l.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]),
            Is.EqualTo(new[] { "ip_rcv <-__netif_receive_skb_one_core", "ip_rcv_core <-ip_rcv", "ip_rcv_finish <-ip_rcv" }));
    }

    [Test]
    public void FunctionGraphWithNotrace()
    {
        var result = CliRunner.Run("trace", "-p", "function_graph", "-n", "*sys*", "-n", "vfs_write", "--workload", "syscall");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("# CPU  DURATION                  FUNCTION CALLS"));
        Assert.That(result.Out, Does.Contain("|    pid_nr_ns();").And.Not.Contain("vfs_write").And.Not.Contain("getpid"));
    }

    [Test]
    public void EventsAloneTraceOnlyThoseEvents()
    {
        var result = CliRunner.Run("trace", "-e", "p:myprobe ip_rcv len=+112(%di):u32", "--workload", "net", "--iterations", "2");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Lines[0], Is.EqualTo("# tracer: nop"));
        var body = result.Lines.Where(l => !l.StartsWith('#')).ToArray();
        Assert.That(body, Has.Length.EqualTo(2));
        Assert.That(body, Has.All.Contain("myprobe: (ip_rcv+0x0/0x1a0) len="));
    }

    [Test]
    public void ABadEventExitsTwoWithTheErrorAndCaret()
    {
        var result = CliRunner.Run("trace", "-e", "p:myprobe ip_rcv +0(%di):x9");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Is.EqualTo(
            "kernelsim: trace_kprobe: error: Unknown type is specified\n" +
            "  Command: p:myprobe ip_rcv +0(%di):x9\n" +
            "                                    ^\n"));
    }

    [Test]
    public void AFilterMatchingNothingExitsTwo()
    {
        var result = CliRunner.Run("trace", "-l", "nothing_like_this*");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("Invalid argument"));
    }

    [Test]
    public void AvailableFunctionsListsOneNamePerLine()
    {
        var result = CliRunner.Run("trace", "--available-functions");
        Assert.That(result.ExitCode, Is.EqualTo(0));
        Assert.That(result.Lines, Does.Contain("ip_rcv").And.Contain("__x64_sys_getpid").And.Not.Contain("native_sched_clock"));
    }

    [Test]
    public void JsonHasCountsEventsAndLines()
    {
        var result = CliRunner.Run("trace", "-p", "function", "-l", "udp_rcv", "-e", "r:ret ip_rcv $retval", "--json");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.That(root.GetProperty("tracer").GetString(), Is.EqualTo("function"));
        Assert.That(root.GetProperty("entries_written").GetInt64(), Is.EqualTo(2));
        Assert.That(root.GetProperty("events")[0].GetProperty("definition").GetString(), Is.EqualTo("r:kprobes/ret ip_rcv arg1=$retval"));
        Assert.That(root.GetProperty("lines").GetArrayLength(), Is.EqualTo(2));
        var entries = root.GetProperty("entries").EnumerateArray().ToArray();
        Assert.That(entries, Has.Length.EqualTo(2));
        var function = entries.Single(e => e.GetProperty("type").GetString() == "function");
        Assert.That(function.GetProperty("function").GetString(), Is.EqualTo("udp_rcv"));
        Assert.That(function.GetProperty("parent").GetString(), Is.EqualTo("ip_protocol_deliver_rcu"));
        Assert.That(function.GetProperty("flags").GetString(), Is.EqualTo("..s.."));
        var ret = entries.Single(e => e.GetProperty("type").GetString() == "probe_event");
        Assert.That(ret.GetProperty("event").GetString(), Is.EqualTo("kprobes:ret"));
        Assert.That(ret.GetProperty("fields").GetProperty("arg1").GetUInt64(), Is.Zero, "ip_rcv returned NET_RX_SUCCESS");
        Assert.That(root.GetProperty("lines")[1].GetString(), Does.EndWith(ret.GetProperty("timestamp").GetString() + ": " + ret.GetProperty("text").GetString()),
            "an entry's timestamp and text are its trace line's");
    }

    [Test]
    public void TracepointAndFunctionProgramsOfAnObjectSeeTheNetWorkload()
    {
        var result = CliRunner.Run("trace", "--bpf", Path.Combine(TestPaths.RepoRoot, "bpf", "probes", "rx_events.o"), "--bpf-cookie", "ip_rcv_entry=0x10", "--workload", "net", "--iterations", "4", "--json");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        using var json = JsonDocument.Parse(result.Out);
        var entries = json.RootElement.GetProperty("bpf")[0].GetProperty("maps").GetProperty("rx_events").EnumerateArray()
            .ToDictionary(e => Convert.ToInt32(e.GetProperty("key")[0].GetString(), 16),
                e => BitConverter.ToUInt64(e.GetProperty("value").EnumerateArray().Select(b => Convert.ToByte(b.GetString(), 16)).ToArray()));
        Assert.That(entries[0], Is.EqualTo(4), "tracepoint/net/netif_receive_skb: one record per frame");
        Assert.That(entries[1], Is.EqualTo(161UL + 124 + 307 + 160), "the records' len");
        Assert.That(entries[2], Is.EqualTo(4), "the __data_loc name, read from the record in kernel memory, is eth0");
        Assert.That(entries[3], Is.EqualTo(4), "raw_tracepoint/netif_receive_skb");
        Assert.That(entries[4], Is.EqualTo(4), "fentry/ip_rcv");
        Assert.That(entries[5], Is.EqualTo(4), "fexit/udp_rcv");
        Assert.That(entries[7], Is.EqualTo(4 * 0x10), "bpf_get_attach_cookie returns --bpf-cookie's value on each hit");
    }

    [TestCase("ip_rcv_entry", "PROG=VALUE")]
    [TestCase("ip_rcv_entry=-1", "PROG=VALUE")]
    [TestCase("=5", "PROG=VALUE")]
    [TestCase("nope=5", "no program 'nope'")]
    public void ABadBpfCookieExitsTwoNamingIt(string spec, string message)
    {
        var result = CliRunner.Run("trace", "--bpf", Path.Combine(TestPaths.RepoRoot, "bpf", "probes", "rx_events.o"), "--bpf-cookie", spec, "--workload", "net");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain(message));
    }

    [Test]
    public void JsonEntriesOfATracepointCarryItsDecodedFieldsAndFiltersApplyToTracepoints()
    {
        var result = CliRunner.Run("trace", "-e", "net:netif_receive_skb", "--filter", "net/netif_receive_skb:len > 150 && name == \"eth0\"", "--workload", "net", "--iterations", "4", "--json");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        var entries = root.GetProperty("entries").EnumerateArray().ToArray();
        Assert.That(entries.Select(e => e.GetProperty("fields").GetProperty("len").GetUInt32()), Is.EqualTo(new uint[] { 161, 307, 160 }), "the net workload's lengths after ETH_HLEN are 161, 124, 307, 160; the filter keeps > 150");
        Assert.That(entries.Select(e => e.GetProperty("fields").GetProperty("name").GetString()), Has.All.EqualTo("eth0"));
        Assert.That(entries.Select(e => e.GetProperty("event").GetString()), Has.All.EqualTo("net:netif_receive_skb"));
        var tracepoint = root.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "tracepoint");
        Assert.That(tracepoint.GetProperty("hits").GetInt64(), Is.EqualTo(3));
        Assert.That(tracepoint.GetProperty("filter").GetString(), Is.EqualTo("len > 150 && name == \"eth0\""));

        var bad = CliRunner.Run("trace", "-e", "net:netif_receive_skb", "--filter", "net/netif_receive_skb:nope == 1");
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(bad.Error, Does.Contain("parse_error: Field not found"));
    }

    [Test]
    public void EventFiltersApply()
    {
        var result = CliRunner.Run("trace", "-e", "p:myprobe ip_rcv len=+112(%di):u32", "--filter", "myprobe:len > 150", "--workload", "net", "--iterations", "4"); // ip_rcv lengths 161, 124, 307, 160
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Lines.Count(l => !l.StartsWith('#')), Is.EqualTo(3));
        var bad = CliRunner.Run("trace", "-e", "p:myprobe ip_rcv len=+112(%di):u32", "--filter", "myprobe:nope == 1");
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(bad.Error, Does.Contain("parse_error: Field not found"));
    }

    [Test]
    public void AKernelTracepointIsEnabledTraceCmdStyle()
    {
        var result = CliRunner.Run("trace", "-e", "net:netif_receive_skb", "--workload", "net", "--iterations", "2");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Lines[0], Is.EqualTo("# tracer: nop"));
        var body = result.Lines.Where(l => !l.StartsWith('#')).ToArray();
        Assert.That(body, Has.Length.EqualTo(2));
        Assert.That(body, Has.All.Match(@"\[000\] \.\.s\.\. +\d+\.\d{6}: netif_receive_skb: dev=eth0 skbaddr=0x[0-9a-f]+ len=\d+$"));
        var system = CliRunner.Run("trace", "-e", "net", "--workload", "net");
        Assert.That(system.Lines.Count(l => l.Contains("netif_receive_skb: dev=eth0", StringComparison.Ordinal)), Is.EqualTo(1), "-e SYSTEM enables its events");
    }

    [Test]
    public void UnknownWorkloadIsBadInput() =>
        Assert.That(CliRunner.Run("trace", "--workload", "nope").ExitCode, Is.EqualTo(2));
}

public sealed class TracefsVerbTests
{
    [Test]
    public void AScriptedSessionDefinesEnablesAndReads()
    {
        var result = CliRunner.Run("tracefs", "--script", TestPaths.Data("Cli", "Data", "tracefs-kprobe.txt"));
        Assert.That(result.ExitCode, Is.EqualTo(1), "the script ends with a bad definition");
        Assert.That(result.Out, Does.Contain("kprobe_events\n").And.Contain("events/\n"));
        Assert.That(result.Out, Does.Contain("p:kprobes/myprobe ip_rcv len=+112(%di):u32 dev=+0(%si):string\n"));
        Assert.That(result.Out, Does.Contain("[001] ..s..").And.Contain("myprobe: (ip_rcv+0x0/0x1a0) len=161 dev=\"eth0\""));
        Assert.That(result.Out, Does.Contain($"  {"myprobe",-44} {2,15} {0,15}\n"));
        Assert.That(result.Out, Does.Contain("trace_kprobe: error: Unknown type is specified\n  Command: p:bad ip_rcv +0(%di):x\n"));
        Assert.That(result.Error, Is.EqualTo("tracefs: tracefs-kprobe.txt:9: echo: write error: Invalid argument\n"));
    }

    [Test]
    public void DmesgShowsWhyANotraceProbeFailed()
    {
        var script = Path.Combine(Path.GetTempPath(), $"tracefs-{Guid.NewGuid():N}.txt");
        File.WriteAllText(script, "echo p:x native_sched_clock > kprobe_events\ndmesg\n");
        try
        {
            var result = CliRunner.Run("tracefs", "--script", script);
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Out, Does.Match(@"^\[\s*\d+\.\d{6}\] kprobes: native_sched_clock is notrace: no fentry site to probe\n\[\s*\d+\.\d{6}\] Could not probe notrace function native_sched_clock\n$"));
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Test]
    public void TokenizerHandlesQuotesAndRedirections()
    {
        Assert.That(Kernel.Sim.Bench.Cli.TracefsShell.Tokenize("echo 'p:a b' \"c d\">>file # note"), Is.EqualTo(new[] { "echo", "p:a b", "c d", ">>", "file" }));
        Assert.That(Kernel.Sim.Bench.Cli.TracefsShell.Tokenize("echo a\\ b>f"), Is.EqualTo(new[] { "echo", "a b", ">", "f" }));
    }
}
