using System.Text.Json;
using Kernel.Sim.Net;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli;

public sealed class RunVerbTests
{
    [Test]
    public void TheTableHasOneRowPerStrategyWithIdenticalCounts()
    {
        var result = CliRunner.Run("run", "--packets", "2000");
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        var lines = result.Lines;
        var header = Array.FindIndex(lines, l => l.StartsWith("strategy", StringComparison.Ordinal));
        Assert.That(lines[header], Does.Match(@"^strategy\s+ns/pkt\s+cycles/pkt\s+dispatch\s+mispred/pkt\s+guard hits\s+ipv4\s+ipv6\s+arp\s+other\s+dropped$"));
        var rows = lines.Skip(header + 1).Take(DispatchStrategies.All.Count).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        Assert.That(rows.Select(r => r[0]), Is.EqualTo(DispatchStrategies.All.Select(s => s.Name())));
        Assert.That(rows.Select(r => string.Join(' ', r[^5..])).Distinct().Count(), Is.EqualTo(1), "delivered and dropped do not depend on the strategy");
        Assert.That(result.Error, Does.Contain("[7/7] adaptive"), "progress goes to stderr");
        Assert.That(result.Out, Does.Contain("xdp_families: 0="), "the default probes' maps");
    }

    [Test]
    public void JsonHasTheDocumentedShape()
    {
        var result = CliRunner.Run("run", "--packets", "1500", "--strategy", "retpoline,guards", "--mix", "ipv4=90,arp=10,bad=5", "--xdp", "pass", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        using var doc = JsonDocument.Parse(result.Out);
        var results = doc.RootElement.GetProperty("results");
        Assert.That(results.GetArrayLength(), Is.EqualTo(2));
        var guards = results[1];
        Assert.That(guards.GetProperty("strategy").GetString(), Is.EqualTo("guards"));
        Assert.That(guards.GetProperty("packets").GetInt64(), Is.EqualTo(1500));
        Assert.That(guards.GetProperty("ns_per_packet").GetDouble(), Is.GreaterThan(0));
        Assert.That(guards.GetProperty("cycles_per_packet").GetDouble(), Is.GreaterThan(0));
        Assert.That(guards.GetProperty("dispatch_share").GetDouble(), Is.InRange(0.0, 1.0));
        var delivered = guards.GetProperty("delivered");
        Assert.That(delivered.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "ipv4", "ipv6", "arp", "other" }));
        var total = delivered.EnumerateObject().Sum(p => p.Value.GetInt64()) + guards.GetProperty("dropped").GetInt64();
        Assert.That(total, Is.EqualTo(1500));
        Assert.That(guards.GetProperty("xdp").GetProperty("pass").GetInt64(), Is.EqualTo(1500));
        Assert.That(guards.GetProperty("drop_reasons").GetProperty("IP_CSUM").GetInt64(), Is.GreaterThan(0));
        Assert.That(results[0].GetProperty("guard_hit_rate").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(doc.RootElement.GetProperty("maps").ValueKind, Is.EqualTo(JsonValueKind.Object));
    }

    [Test]
    public void EventsAreCountedPerStrategy()
    {
        var result = CliRunner.Run("run", "--packets", "500", "--strategy", "indirect", "--mix", "ipv4=1", "-e", "p:rcv ip_rcv len=+112(%di):u32", "-e", "net:netif_receive_skb", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        using var doc = JsonDocument.Parse(result.Out);
        var events = doc.RootElement.GetProperty("results")[0].GetProperty("events");
        Assert.That(events.GetProperty("kprobes:rcv").GetInt64(), Is.EqualTo(500));
        Assert.That(events.GetProperty("net:netif_receive_skb").GetInt64(), Is.EqualTo(500));
    }

    [TestCase("--strategy", "fastest", "unknown strategy 'fastest'")]
    [TestCase("--mix", "ipv4=x", "--mix: mix item 'ipv4=x'")]
    [TestCase("--packets", "0", "--packets must be")]
    [TestCase("--xdp", "redirect", "--xdp: unknown action")]
    [TestCase("--profile", "pentium", "--profile: unknown CPU profile 'pentium'")]
    [TestCase("--pcap", "/nonexistent/x.pcap", "--pcap /nonexistent/x.pcap:")]
    [TestCase("--bpf", "probe.o", "--bpf probe.o:")]
    public void BadArgumentsExit2WithAClearMessage(string option, string value, string message)
    {
        var result = CliRunner.Run("run", option, value);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain(message));
    }

    [Test]
    public void ABadEventDefinitionExits2WithLinuxsError()
    {
        var result = CliRunner.Run("run", "-e", "p:rcv no_such_function");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("trace_kprobe: error:"));
    }
}

public sealed class RunVerbProbeTests
{
    [Test]
    public void TheDefaultProbesMapsEqualThePathsOwnCounters()
    {
        var result = CliRunner.Run("run", "--packets", "3000", "--strategy", "guards", "--mix", "ipv4=70,ipv6=20,arp=5,other=5,udp=60,tcp=30,icmp=10", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Out);
        var maps = doc.RootElement.GetProperty("maps");
        var families = Entries(maps.GetProperty("xdp_families"));
        var r = doc.RootElement.GetProperty("results")[0];
        var delivered = r.GetProperty("delivered");
        var dropped = r.GetProperty("dropped_by_family");
        string[] names = ["ipv4", "ipv6", "arp", "other"];
        for (var i = 0; i < names.Length; i++)
            Assert.That(families[(ulong)i], Is.EqualTo(delivered.GetProperty(names[i]).GetInt64() + dropped.GetProperty(names[i]).GetInt64()), names[i]);
        var protocols = Entries(maps.GetProperty("ip_rcv_protocols"));
        Assert.That(protocols.Values.Sum(), Is.EqualTo(families[0]), "the kprobe on ip_rcv sees every IPv4 frame");
        Assert.That(protocols[17] + protocols[6] + protocols[1], Is.EqualTo(families[0]));
        Assert.That(protocols[17], Is.GreaterThan(protocols[6]));
    }

    [Test]
    public void TwoCpusRunTheDefaultProbesAndTheirMapsEqualTheCountersSummedOverCpus()
    {
        var result = CliRunner.Run("run", "--cpus", "2", "--packets", "3000", "--strategy", "indirect", "--mix", "ipv4=70,ipv6=20,arp=10,udp=60,tcp=30,icmp=10,flows=32", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Out);
        var families = Entries(doc.RootElement.GetProperty("maps").GetProperty("xdp_families"));
        var r = doc.RootElement.GetProperty("results")[0];
        var delivered = r.GetProperty("delivered");
        var dropped = r.GetProperty("dropped_by_family");
        string[] names = ["ipv4", "ipv6", "arp", "other"];
        for (var i = 0; i < names.Length; i++)
            Assert.That(families.GetValueOrDefault((ulong)i), Is.EqualTo(delivered.GetProperty(names[i]).GetInt64() + dropped.GetProperty(names[i]).GetInt64()), names[i]);
        Assert.That(families.Values.Sum(), Is.EqualTo(3000), "both CPUs' XDP runs counted, none lost");
        var protocols = Entries(doc.RootElement.GetProperty("maps").GetProperty("ip_rcv_protocols"));
        Assert.That(protocols.Values.Sum(), Is.EqualTo(families[0]), "the kprobe on ip_rcv sees every IPv4 frame on both CPUs");
    }

    [Test]
    public void ABpfObjectRunsWithTwoCpus()
    {
        var result = CliRunner.Run("run", "--cpus", "2", "--packets", "500", "--strategy", "indirect", "--bpf", TestPaths.Data("Net", "Data", "percpu_probes.o"));
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Out, Does.Contain("xdp: xdp_percpu; kprobe/ip_rcv: ip_rcv_percpu"));
        Assert.That(result.Out, Does.Match(@"percpu_hits: 0=500 \(\d+\+\d+\) 1=\d+ \(\d+\+\d+\)"), "per-CPU values: the sum, then each CPU's");
    }

    [Test]
    public void ABadObjectExits2NamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-bad-{Environment.ProcessId}.o");
        File.WriteAllBytes(path, [1, 2, 3, 4]);
        try
        {
            var result = CliRunner.Run("run", "--bpf", path);
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Error, Does.Contain(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Dictionary<ulong, long> Entries(System.Text.Json.JsonElement map) =>
        map.EnumerateArray().ToDictionary(
            e => e.GetProperty("key").EnumerateArray().Select((b, i) => Convert.ToUInt64(b.GetString()![2..], 16) << (8 * i)).Aggregate(0UL, (a, b) => a | b),
            e => (long)e.GetProperty("value").EnumerateArray().Select((b, i) => Convert.ToUInt64(b.GetString()![2..], 16) << (8 * i)).Aggregate(0UL, (a, b) => a | b));
}

public sealed class RunVerbTrafficTests
{
    [Test]
    public void ACaptureIsReplayedAndATapSeesEveryFrame()
    {
        var generator = new Kernel.Sim.Net.TrafficGenerator(Kernel.Sim.Net.TrafficMix.Parse("ipv4=50,ipv6=30,other=20"), 4);
        var buffer = new byte[Kernel.Sim.Net.TrafficGenerator.MaxFrame];
        var frames = Enumerable.Range(0, 50).Select(i => buffer[..generator.Next(buffer)]).Select(f => new Kernel.Sim.Net.CapturedFrame(0, f, f.Length)).ToList();
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-run-{Environment.ProcessId}.pcap");
        using (var file = File.Create(path))
            Kernel.Sim.Net.PcapFile.Write(file, frames);
        try
        {
            var result = CliRunner.Run("run", "--pcap", path, "--packets", "500", "--strategy", "eibrs", "--tap", "--no-probes", "--json");
            Assert.That(result.ExitCode, Is.Zero, result.Error);
            using var doc = System.Text.Json.JsonDocument.Parse(result.Out);
            Assert.That(doc.RootElement.GetProperty("traffic").GetString(), Does.Contain("(50 frames)"));
            var r = doc.RootElement.GetProperty("results")[0];
            var delivered = r.GetProperty("delivered");
            Assert.That(delivered.GetProperty("other").GetInt64(), Is.GreaterThan(0), "with a tap, LLDP frames end at packet_rcv");
            Assert.That(r.GetProperty("rx_dropped").GetInt64(), Is.Zero);
            Assert.That(delivered.EnumerateObject().Sum(p => p.Value.GetInt64()) + r.GetProperty("dropped").GetInt64(), Is.EqualTo(500));

            var mixed = CliRunner.Run("run", "--pcap", path, "--mix", "ipv4=1");
            Assert.That(mixed.ExitCode, Is.EqualTo(2));
            Assert.That(mixed.Error, Does.Contain("--mix and --pcap exclude each other"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
