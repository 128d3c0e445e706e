using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli.Bpf;

/// <summary><c>bpf exec</c> verifies first on both engines and refuses a rejected program unless <c>--no-verify</c>.</summary>
public sealed class BpfExecVerifyTests
{
    private ScratchDir _scratch = null!;

    [SetUp]
    public void CreateScratch() => _scratch = new ScratchDir("kernelsim-exec-verify-");

    [TearDown]
    public void RemoveScratch() => _scratch.Dispose();


    private static string Conformance(string name) => Path.Combine(TestPaths.ConformanceDir, name + ".data");

    [TestCase("interp")]
    [TestCase("jit")]
    public void Exec_refuses_a_rejected_program_and_prints_the_verifier_log(string engine)
    {
        // Reads 8 bytes at offset 8 of a 4-byte memory: a raw program over that size must be rejected.
        var path = _scratch.Write("oob.data", "-- asm\nldxdw %r0, [%r1+8]\nexit\n-- mem\n00 01 02 03\n");
        var result = CliRunner.Run("bpf", "exec", path, "--engine", engine);
        Assert.That((result.ExitCode, result.Out), Is.EqualTo((1, "")));
        Assert.That(result.Error, Does.Contain("the verifier rejected the program"));
        // The log: the first instruction line, Linux's error and the trailer.
        Assert.That(result.Error, Does.Contain("0: (79) r0 = *(u64 *)(r1 +8)").And.Contain("processed 1 insns (limit 1000000)"));
        Assert.That(result.Error, Does.Contain("invalid access to memory, mem_size=4 off=8 size=8"));
    }

    [TestCase("interp")]
    [TestCase("jit")]
    public void Exec_runs_a_program_the_verifier_accepts(string engine)
    {
        var path = _scratch.Write("ok.data", "-- asm\nldxw %r0, [%r1]\nexit\n-- mem\n2a 00 00 00\n");
        var result = CliRunner.Run("bpf", "exec", path, "--engine", engine);
        Assert.That((result.ExitCode, result.Out.Trim(), result.Error), Is.EqualTo((0, "0x2a", "")));
    }

    [Test]
    public void No_verify_runs_a_rejected_program_on_the_interpreter()
    {
        // An over-wide constant shift: Linux's verifier says "invalid shift 68"; the ISA masks the count.
        var verified = CliRunner.Run("bpf", "exec", Conformance("lsh64-imm-high"));
        Assert.That(verified.ExitCode, Is.EqualTo(1));
        Assert.That(verified.Error, Does.Contain("invalid shift 68"));
        var unverified = CliRunner.Run("bpf", "exec", Conformance("lsh64-imm-high"), "--no-verify");
        Assert.That(unverified.ExitCode, Is.Zero, unverified.Error);
        Assert.That(unverified.Out.Trim(), Does.StartWith("0x"));
    }

    [Test]
    public void No_verify_still_lets_the_interpreter_stop_an_unsafe_run()
    {
        var path = _scratch.Write("oob.data", "-- asm\nldxdw %r0, [%r1+8]\nexit\n-- mem\n00 01 02 03\n");
        var result = CliRunner.Run("bpf", "exec", path, "--no-verify");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Not.Contain("the verifier rejected"));
    }

    [Test]
    public void Conformance_runs_unverified_by_default_and_verify_opts_in()
    {
        Assert.That(CliRunner.Run("bpf", "conformance", TestPaths.ConformanceDir).Lines[^1], Is.EqualTo("313 passed, 0 failed"));
        var verified = CliRunner.Run("bpf", "conformance", TestPaths.ConformanceDir, "--verify");
        Assert.That(verified.Lines[^1], Is.EqualTo("300 passed, 13 failed"));
        Assert.That(verified.Lines.Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal)), Has.All.Contains("the verifier rejected the program"));
    }
}
