namespace Kernel.Sim.Tests.Cli;

public sealed class TraceFetchBpfVerbTests
{
    [Test]
    public void FetchBpfTracesLikeClassicAndShowsTheProgram()
    {
        string[] args = ["trace", "-e", "p:myprobe ip_rcv len=+112(%di):u32 dev=+0(%si):string", "--filter", "myprobe:len < 200", "--workload", "net", "--iterations", "4"];
        var classic = CliRunner.Run([.. args, "--fetch", "classic"]);
        var bpf = CliRunner.Run([.. args, "--fetch", "bpf", "--show-bpf"]);
        Assert.That(classic.ExitCode, Is.EqualTo(0), classic.Error);
        Assert.That(bpf.ExitCode, Is.EqualTo(0), bpf.Error);
        Assert.That(bpf.Out, Does.Contain("# fetch program of kprobes/myprobe").And.Contain("call 113").And.Contain("# verifier log of kprobes/myprobe").And.Contain("processed "));
        Assert.That(bpf.Out, Does.EndWith(classic.Out));
        Assert.That(classic.Out, Does.Contain("myprobe: (ip_rcv+0x0/0x1a0) len=161 dev=\"eth0\""));
    }

    [Test]
    public void AnUnknownFetchEngineIsBadInput() =>
        Assert.That(CliRunner.Run("trace", "--fetch", "fast", "--workload", "net").ExitCode, Is.EqualTo(2));
}

public sealed class TraceBpfObjectVerbTests
{
    [Test]
    public void ABpfObjectIsAttachedAndItsMapsPrinted()
    {
        var file = Path.Combine(Support.TestPaths.RepoRoot, "Kernel.Sim.Tests", "Bpf", "Elf", "Programs", "array_counter.o");
        var result = CliRunner.Run("trace", "--bpf", file, "--workload", "net", "--iterations", "3");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("# bpf array_counter.o: 1 program(s) attached"));
        Assert.That(result.Lines.Single(l => l.StartsWith("# map counters:", StringComparison.Ordinal)), Does.Contain("{\"key\":[\"0x00\",\"0x00\",\"0x00\",\"0x00\"],\"value\":[\"0x03\","));
    }

    [Test]
    public void AMissingObjectIsBadInput() =>
        Assert.That(CliRunner.Run("trace", "--bpf", "/nonexistent.o", "--workload", "net").ExitCode, Is.EqualTo(2));
}
