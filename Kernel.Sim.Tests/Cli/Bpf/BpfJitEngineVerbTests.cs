using Kernel.Sim.Bench.Cli.Bpf;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli.Bpf;

/// <summary>The JIT engine on the command line: <c>--engine jit</c>, <c>--repeat</c>, the plugin's <c>--jit</c>, the verifier gate.</summary>
public sealed class BpfJitEngineVerbTests
{
    private static string Conformance(string name) => Path.Combine(TestPaths.ConformanceDir, name + ".data");

    [Test]
    public void Conformance_on_the_jit_with_the_verifier_passes_every_program_the_verifier_accepts()
    {
        var result = CliRunner.Run("bpf", "conformance", TestPaths.ConformanceDir, "--engine", "jit", "--verify");
        // The 13 programs Linux's verifier rejects (over-wide constant shifts, callx) are refused by the JIT gate.
        Assert.That(result.Lines[^1], Is.EqualTo("300 passed, 13 failed"), result.Error);
        var failures = result.Lines.Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal)).ToArray();
        Assert.That(failures, Has.All.Contains("the verifier rejected the program"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void Conformance_on_the_jit_runs_unverified_by_default_and_passes_all_313()
    {
        var result = CliRunner.Run("bpf", "conformance", TestPaths.ConformanceDir, "--engine", "jit");
        Assert.That(result.Lines[^1], Is.EqualTo("313 passed, 0 failed"), result.Error);
        Assert.That(result.ExitCode, Is.Zero);
    }

    [Test]
    public void Exec_on_the_jit_prints_r0_and_json_without_an_instruction_count()
    {
        Assert.That(CliRunner.Run("bpf", "exec", Conformance("call_local"), "--engine", "jit").Lines, Is.EqualTo(new[] { "0x1" }));
        var json = CliRunner.Run("bpf", "exec", Conformance("call_local"), "--engine", "jit", "--json");
        Assert.That(json.Out.Trim(), Is.EqualTo("{\"r0\": \"0x1\"}"));
    }

    [Test]
    public void Exec_repeat_prints_ns_per_run_then_r0_last()
    {
        foreach (var engine in new[] { "interp", "jit" })
        {
            var result = CliRunner.Run("bpf", "exec", Conformance("call_local"), "--engine", engine, "--repeat", "50");
            Assert.That(result.ExitCode, Is.Zero, result.Error);
            Assert.That(result.Lines, Has.Length.EqualTo(2));
            Assert.That(result.Lines[0], Does.Match($@"^50 runs, \d+\.\d ns per run \({engine}\)$"));
            Assert.That(result.Lines[1], Is.EqualTo("0x1"));
        }

        Assert.That(CliRunner.Run("bpf", "exec", Conformance("exit"), "--repeat", "0").ExitCode, Is.EqualTo(2));
    }

    [Test]
    public void Exec_on_the_jit_refuses_what_the_verifier_rejects_and_the_gate_refuses_unsafe_input()
    {
        var rejected = CliRunner.Run("bpf", "exec", Conformance("lsh64-imm-high"), "--engine", "jit");
        Assert.That((rejected.ExitCode, rejected.Out), Is.EqualTo((1, "")));
        Assert.That(rejected.Error, Does.Contain("the verifier rejected the program").And.Contain("invalid shift 68"));

        // An out-of-bounds load: the verifier rejects it, and without the verifier the interpreter's dry run does.
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-jit-oob-{Guid.NewGuid():N}.data");
        File.WriteAllText(path, "-- asm\nldxdw %r0, [%r1+64]\nexit\n-- mem\n00 01 02 03\n");
        try
        {
            var unsafeRun = CliRunner.Run("bpf", "exec", path, "--engine", "jit", "--no-verify");
            Assert.That(unsafeRun.ExitCode, Is.EqualTo(1));
            Assert.That(unsafeRun.Error, Does.Contain("unsafe, so the JIT will not run it").And.Contain("invalid memory access"));
            Assert.That(CliRunner.Run("bpf", "exec", path, "--engine", "jit").Error, Does.Contain("the verifier rejected the program"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Plugin_jit_runs_conformance_programs_through_the_protocol()
    {
        foreach (var name in new[] { "call_local", "mem-len", "ldxdw", "lock_cmpxchg" })
        {
            var test = ConformanceDataFile.Load(Conformance(name));
            var program = string.Join(' ', Instruction.WriteAll(test.Program).Select(b => b.ToString("x2")));
            var args = test.Memory.Length == 0
                ? new[] { "bpf", "conformance-plugin", "--jit" }
                : ["bpf", "conformance-plugin", string.Join("  ", test.Memory.Select(b => b.ToString("x2"))), "--jit"];
            using (BpfConformancePluginVerb.RedirectInput(new StringReader(program + "\n")))
            {
                var result = CliRunner.Run(args);
                Assert.That(result.ExitCode, Is.Zero, $"{name}: {result.Error}");
                Assert.That(Convert.ToUInt64(result.Out.Trim(), 16), Is.EqualTo(test.ExpectedResult), name);
            }
        }
    }

    [Test]
    public void Jit_fuzz_reports_agreement_and_fuzz_differential_adds_the_jit_to_the_verifier_fuzzer()
    {
        var jitFuzz = CliRunner.Run("bpf", "jit-fuzz", "--count", "200", "--seed", "11");
        Assert.That(jitFuzz.ExitCode, Is.Zero, jitFuzz.Out);
        Assert.That(jitFuzz.Lines[^1], Does.Match(@"^200 programs \(\d+ verifier-accepted, \d+ rejected\): 200 agree, 0 unsafe .* 0 divergences in "));
        Assert.That(CliRunner.Run("bpf", "jit-fuzz", "--count", "-1").ExitCode, Is.EqualTo(2));

        var dir = Path.Combine(Path.GetTempPath(), $"kernelsim-jit-fuzz-{Guid.NewGuid():N}");
        try
        {
            var fuzz = CliRunner.Run("bpf", "fuzz", "--count", "400", "--seed", "12", "--differential", "--out", dir);
            Assert.That(fuzz.ExitCode, Is.Zero, fuzz.Error);
            Assert.That(fuzz.Lines[^1], Does.Match(@"^differential: [1-9]\d* accepted programs on the JIT and the interpreter, 0 divergences$"));
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
