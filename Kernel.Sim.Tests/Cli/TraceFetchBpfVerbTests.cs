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
        Assert.That(classic.Out, Does.Contain("myprobe: (ip_rcv+0x0/0x1a0) len=60 dev=\"eth0\""));
    }

    [Test]
    public void AnUnknownFetchEngineIsBadInput() =>
        Assert.That(CliRunner.Run("trace", "--fetch", "fast", "--workload", "net").ExitCode, Is.EqualTo(2));
}
