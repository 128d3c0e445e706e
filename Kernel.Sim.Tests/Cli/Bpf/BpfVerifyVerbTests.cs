using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli.Bpf;

public sealed class BpfVerifyVerbTests
{
    private static string Corpus(string kind, string name) =>
        Path.Combine(AppContext.BaseDirectory, "Bpf", "Verifier", "Corpus", kind, name + ".s");

    [Test]
    public void Accepted_program_exits_0_with_the_trailer()
    {
        var r = CliRunner.Run("bpf", "verify", Corpus("accept", "null_check_shared_id"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Error);
        Assert.That(r.Lines[0], Is.EqualTo("0: R1=mem(sz=0) R2=0 R10=fp0"));
        Assert.That(r.Lines[^1], Does.StartWith("processed "));
    }

    [Test]
    public void Rejected_program_exits_1_with_the_error_before_the_trailer()
    {
        var r = CliRunner.Run("bpf", "verify", Corpus("reject", "deref_or_null"), "--log-level", "1");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Lines[^2], Is.EqualTo("R0 invalid mem access 'map_value_or_null'"));
    }

    [Test]
    public void Json_reports_the_verdict()
    {
        var r = CliRunner.Run("bpf", "verify", Corpus("reject", "fp_add"), "--json");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.Out, Does.Contain("\"accepted\":false").And.Contain("frame pointer is read only"));
    }

    [Test]
    public void Conformance_data_file_uses_its_memory_size()
    {
        var r = CliRunner.Run("bpf", "verify", Path.Combine(TestPaths.ConformanceDir, "ldxb.data"), "--log-level", "2");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Out + r.Error);
        Assert.That(r.Lines[0], Is.EqualTo("0: R1=mem(sz=5) R2=5 R10=fp0"));
    }

    [Test]
    public void Bad_input_exits_2()
    {
        Assert.That(CliRunner.Run("bpf", "verify", "/nonexistent/x.s").ExitCode, Is.EqualTo(2));
        Assert.That(CliRunner.Run("bpf", "verify", Corpus("accept", "call_simple"), "--type", "nosuch").ExitCode, Is.EqualTo(2));
        Assert.That(CliRunner.Run("bpf", "verify", Corpus("accept", "call_simple"), "--log-level", "7").ExitCode, Is.EqualTo(2));
    }

    [Test]
    public void Fuzz_json_counts()
    {
        var r = CliRunner.Run("bpf", "fuzz", "--count", "200", "--seed", "3", "--json", "--out", Path.Combine(Path.GetTempPath(), "kernelsim-fuzz-test"));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Error);
        Assert.That(r.Out, Does.Contain("\"generated\":200").And.Contain("\"violations\":0"));
    }
}
