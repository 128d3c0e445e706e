using System.Text.Json;
using Kernel.Sim.Tests.Bpf.Elf;

namespace Kernel.Sim.Tests.Cli.Bpf;

public sealed class BpfLoadVerbTests
{
    [Test]
    public void JsonListsProgramsAndMapsInTheIssueShape()
    {
        var r = CliRunner.Run("bpf", "load", ElfFixtures.PathOf("array_counter.o"), "--json");
        Assert.That(r.ExitCode, Is.Zero, r.Error);
        using var doc = JsonDocument.Parse(r.Out);
        var prog = doc.RootElement.GetProperty("programs")[0];
        Assert.That(prog.GetProperty("name").GetString(), Is.EqualTo("count_ip_rcv"));
        Assert.That(prog.GetProperty("section").GetString(), Is.EqualTo("kprobe/ip_rcv"));
        Assert.That(prog.GetProperty("type").GetString(), Is.EqualTo("kprobe"));
        Assert.That(prog.GetProperty("insns").GetInt32(), Is.GreaterThan(10));
        Assert.That(prog.GetProperty("verified").GetBoolean(), Is.True);
        Assert.That(prog.GetProperty("processed_insns").GetInt32(), Is.GreaterThan(0));
        var map = doc.RootElement.GetProperty("maps")[0];
        Assert.That(map.GetProperty("name").GetString(), Is.EqualTo("counters"));
        Assert.That(map.GetProperty("type").GetString(), Is.EqualTo("array"));
        Assert.That(map.GetProperty("key_size").GetInt32(), Is.EqualTo(4));
        Assert.That(map.GetProperty("value_size").GetInt32(), Is.EqualTo(8));
        Assert.That(map.GetProperty("max_entries").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public void TextIsBpftoolLike()
    {
        var r = CliRunner.Run("bpf", "load", ElfFixtures.PathOf("legacy_maps28.o"));
        Assert.That(r.ExitCode, Is.Zero, r.Error);
        Assert.That(r.Out, Does.Match(@"0: socket_filter  name legacy28  tag [0-9a-f]{16}  gpl"));
        Assert.That(r.Out, Does.Contain("1: hash  name legacy_hash  flags 0x1\n\tkey 4B  value 4B  max_entries 32"));
        Assert.That(r.Out, Does.Contain("verified  processed"));
    }

    [Test]
    public void UnknownSectionSaysSoAndTypeForcesOne()
    {
        var r = CliRunner.Run("bpf", "load", ElfFixtures.PathOf("multi_prog.o"));
        Assert.That(r.Out, Does.Contain("not verified: missing BPF prog type, check ELF section name 'weird_section'"));
        var forced = CliRunner.Run("bpf", "load", ElfFixtures.PathOf("multi_prog.o"), "--type", "socket_filter", "--json");
        using var doc = JsonDocument.Parse(forced.Out);
        var progs = doc.RootElement.GetProperty("programs").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.That(progs["untyped"].GetProperty("verified").GetBoolean(), Is.True);
        Assert.That(progs["untyped"].GetProperty("type").GetString(), Is.EqualTo("socket_filter"));

        // A kretprobe forced to socket_filter reads pt_regs->ax (offset 80) from a __sk_buff: the verifier says no.
        Assert.That(progs["open_ret"].GetProperty("error").GetString(), Does.Contain("invalid bpf_context access off=80 size=8"));
        Assert.That(forced.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void LogLevelPrintsTheVerifierLog()
    {
        var r = CliRunner.Run("bpf", "load", ElfFixtures.PathOf("socket_filter.o"), "--log-level", "2");
        Assert.That(r.ExitCode, Is.Zero, r.Error);
        Assert.That(r.Out, Does.Contain("processed"));
        Assert.That(r.Out, Does.Contain("exit"));
    }

    [Test]
    public void BrokenObjectIsAReportedFailure()
    {
        var path = Path.Combine(Path.GetTempPath(), "kernelsim-broken-" + Guid.NewGuid().ToString("N") + ".o");
        File.WriteAllBytes(path, ElfFixtures.Bytes("array_counter.o")[..500]);
        try
        {
            var r = CliRunner.Run("bpf", "load", path);
            Assert.That(r.ExitCode, Is.EqualTo(1));
            Assert.That(r.Error, Does.Contain(path + ": elf:"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void FuzzElfSmokeReportsNoCrashes()
    {
        var r = CliRunner.Run("bpf", "fuzz-elf", "--count", "500", "--seed", "3", "--corpus", ElfFixtures.Dir, "--json");
        Assert.That(r.ExitCode, Is.Zero, r.Error);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("crashes").GetInt32(), Is.Zero);
        Assert.That(doc.RootElement.GetProperty("loaded").GetInt32() + doc.RootElement.GetProperty("rejected").GetInt32(), Is.EqualTo(500));
    }
}
