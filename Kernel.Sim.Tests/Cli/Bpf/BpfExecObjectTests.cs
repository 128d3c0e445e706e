using System.Text.Json;
using Kernel.Sim.Tests.Bpf.Elf;

namespace Kernel.Sim.Tests.Cli.Bpf;

public sealed class BpfExecObjectTests
{
    [Test]
    public void RunsAProgramOfAnObjectAndPrintsR0Last()
    {
        var r = CliRunner.Run("bpf", "exec", ElfFixtures.PathOf("tail_call.o"), "--prog", "tail_hit", "--packet", new string('0', 128));
        Assert.That(r.ExitCode, Is.Zero, r.Error);
        Assert.That(r.Out.TrimEnd().Split('\n')[^1], Is.EqualTo("0x2a"));
    }

    [Test]
    public void DumpMapsPrintsBpftoolJson()
    {
        var r = CliRunner.Run("bpf", "exec", ElfFixtures.PathOf("global_data.o"), "--prog", "use_globals", "--type", "raw", "--ctx", "0000000000000000", "--dump-maps", "--json");
        Assert.That(r.ExitCode, Is.Zero, r.Error);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.That(doc.RootElement.GetProperty("r0").GetString(), Is.EqualTo("0x400"));
        var data = doc.RootElement.GetProperty("maps").GetProperty("global_d.data")[0];
        Assert.That(data.GetProperty("value")[0].GetString(), Is.EqualTo("0x08"));
    }

    [Test]
    public void ProgramSelectionErrorsListThePrograms()
    {
        var r = CliRunner.Run("bpf", "exec", ElfFixtures.PathOf("tail_call.o"), "--section", "xdp");
        Assert.That(r.ExitCode, Is.EqualTo(2));
        Assert.That(r.Error, Does.Contain("4 programs match").And.Contain("tail_miss (xdp)"));
        var missing = CliRunner.Run("bpf", "exec", ElfFixtures.PathOf("tail_call.o"), "--prog", "nope");
        Assert.That(missing.Error, Does.Contain("no program 'nope'"));
    }

    [Test]
    public void UnsimulatedProgramTypeIsReported()
    {
        var r = CliRunner.Run("bpf", "exec", ElfFixtures.PathOf("global_data.o"), "--prog", "use_globals");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Error, Does.Contain("program type 'raw_tracepoint' is not simulated yet"));
    }

    [Test]
    public void HostRunPrintsBothR0ValuesOrWhyNot()
    {
        var r = CliRunner.Run("bpf", "exec", ElfFixtures.PathOf("subprog.o"), "--prog", "sub_socket", "--packet", new string('0', 128), "--host");
        Assert.That(r.ExitCode, Is.Zero, r.Error);
        var lines = r.Out.TrimEnd().Split('\n');
        Assert.That(lines[^1], Is.EqualTo("0x19"));
        if (lines[^2].StartsWith("host: not run", StringComparison.Ordinal))
            Assert.Inconclusive(lines[^2]);
        Assert.That(lines[^2], Does.StartWith("host: r0 0x19, "));
    }
}
