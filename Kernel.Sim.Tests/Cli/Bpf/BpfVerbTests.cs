using System.Text.Json;
using Kernel.Sim.Bench.Cli.Bpf;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli.Bpf;

/// <summary>The bpf exec / conformance / conformance-plugin verbs, run in-process.</summary>
public sealed class BpfVerbTests
{
    private ScratchDir _scratch = null!;

    [SetUp]
    public void CreateScratch() => _scratch = new ScratchDir("kernelsim-bpf-cli-");

    [TearDown]
    public void RemoveScratch() => _scratch.Dispose();


    [Test]
    public void Conformance_directory_passes_all_313()
    {
        var result = CliRunner.Run("bpf", "conformance", TestPaths.ConformanceDir);
        Assert.That(result.Lines[^1], Is.EqualTo("313 passed, 0 failed"), result.Error);
        Assert.That(result.Lines.Count(l => l.StartsWith("PASS ", StringComparison.Ordinal)), Is.EqualTo(313));
        Assert.That(result.ExitCode, Is.Zero);
    }

    [Test]
    public void Conformance_reports_failures_and_honours_error_sections()
    {
        _scratch.Write("a-wrong.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n");
        _scratch.Write("b-error-ok.data", "-- asm\nmov %r2, 7\ncall %r2\nexit\n-- error\ninsn 1: call to unknown helper 7\n");
        _scratch.Write("c-error-missing.data", "-- asm\nexit\n-- error\nsomething\n");
        _scratch.Write("d-bad-asm.data", "-- asm\nfrob\n-- result\n0\n");
        var result = CliRunner.Run("bpf", "conformance", _scratch.Root);
        Assert.That(result.Lines, Is.EqualTo(new[]
        {
            "FAIL a-wrong: r0 = 0x1, expected 0x2",
            "PASS b-error-ok",
            "FAIL c-error-missing: expected error 'something' but the program returned 0x0",
            $"FAIL d-bad-asm: {Path.Combine(_scratch.Root, "d-bad-asm.data")}:2:1: error: unknown mnemonic 'frob'",
            "1 passed, 3 failed",
        }));
        Assert.That(result.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void Conformance_of_a_missing_directory_is_bad_input()
    {
        var result = CliRunner.Run("bpf", "conformance", Path.Combine(_scratch.Root, "nope"));
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("no such directory"));
    }

    [Test]
    public void Exec_prints_r0_alone_on_the_last_line()
    {
        var result = CliRunner.Run("bpf", "exec", Path.Combine(TestPaths.ConformanceDir, "lddw.data"));
        Assert.That((result.ExitCode, result.Lines[^1]), Is.EqualTo((0, "0x1122334455667788")));
    }

    [Test]
    public void Exec_json_has_r0_and_instruction_count()
    {
        var result = CliRunner.Run("bpf", "exec", Path.Combine(TestPaths.ConformanceDir, "mem-len.data"), "--json", "--engine", "interp", "--no-verify");
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        using var json = JsonDocument.Parse(result.Lines[^1]);
        Assert.That(json.RootElement.GetProperty("r0").GetString(), Is.EqualTo("0x8"));
        Assert.That(json.RootElement.GetProperty("insns_executed").GetInt64(), Is.EqualTo(2));
        Assert.That(json.RootElement.EnumerateObject().Count(), Is.EqualTo(2));
    }

    [Test]
    public void Exec_mem_overrides_the_data_file()
    {
        var path = Path.Combine(TestPaths.ConformanceDir, "mem-len.data");
        Assert.That(CliRunner.Run("bpf", "exec", path, "--mem", "00 01 02").Lines[^1], Is.EqualTo("0x3"));
        Assert.That(CliRunner.Run("bpf", "exec", path, "--mem", "0a0b0c0d0e").Lines[^1], Is.EqualTo("0x5"));
    }

    [Test]
    public void Exec_runs_assembly_text_and_raw_bytes()
    {
        var text = _scratch.Write("p.s", "mov %r0, %r1\nldxb %r0, [%r0+1]\nexit\n");
        Assert.That(CliRunner.Run("bpf", "exec", text, "--mem", "11 22").Lines[^1], Is.EqualTo("0x22"));
        var bin = Path.Combine(_scratch.Root, "p.bin");
        File.WriteAllBytes(bin, Instruction.WriteAll(ConformanceAssembler.Assemble("mov32 %r0, -1\nexit")));
        Assert.That(CliRunner.Run("bpf", "exec", bin).Lines[^1], Is.EqualTo("0xffffffff"));
    }

    [Test]
    public void Exec_detects_the_llvm_syntax()
    {
        var path = _scratch.Write("llvm.s", "r0 = *(u8 *)(r1 + 1)\nw0 += 1\nif r0 > 5 goto +1\nr0 = 0\nexit\n");
        Assert.That(CliRunner.Run("bpf", "exec", path, "--mem", "00 09").Lines[^1], Is.EqualTo("0xa"));
        var bad = CliRunner.Run("bpf", "exec", _scratch.Write("bad-llvm.s", "r0 = 1\nr0 += r99\nexit\n"));
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(bad.Error, Does.Contain("bad-llvm.s:2:"), "the LLVM parser got further, so its error is reported");
        var forced = CliRunner.Run("bpf", "exec", path, "--syntax", "conformance");
        Assert.That(forced.ExitCode, Is.EqualTo(2));
        Assert.That(forced.Error, Does.Contain("llvm.s:1:1: error: unknown mnemonic 'r0'"));
        Assert.That(CliRunner.Run("bpf", "exec", path, "--syntax", "llvm", "--mem", "00 09").Lines[^1], Is.EqualTo("0xa"));
    }

    [Test]
    public void Exec_runtime_error_exits_1_with_the_message_on_stderr()
    {
        // The verifier would refuse this load; unverified, the checked interpreter stops it at run time.
        var path = _scratch.Write("oob.s", "mov %r1, 0\nldxw %r0, [%r1+16]\nexit\n");
        var result = CliRunner.Run("bpf", "exec", path, "--no-verify");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Out, Is.Empty);
        Assert.That(result.Error, Does.Contain("insn 1: invalid memory access: read of 4 bytes at 0x10"));
    }

    [TestCase("bad.s", "mov %r0, %r12\n", "bad.s:1:10: error: bad register '%r12'")]
    [TestCase("bad.data", "-- asm\nexit\n-- mem\nzz\n", "bad.data:4:1: error: bad memory byte 'zz'")]
    public void Exec_bad_text_exits_2_naming_the_place(string name, string text, string expected)
    {
        var result = CliRunner.Run("bpf", "exec", _scratch.Write(name, text));
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain(expected));
    }

    [Test]
    public void Exec_malformed_bytes_exit_2()
    {
        var truncated = Path.Combine(_scratch.Root, "t.bin");
        File.WriteAllBytes(truncated, [0xb7, 0, 0]);
        Assert.That(CliRunner.Run("bpf", "exec", truncated), Has.Property("ExitCode").EqualTo(2).And.Property("Error").Contains("not a whole number of 8-byte instructions"));
        var unknown = Path.Combine(_scratch.Root, "u.bin");
        File.WriteAllBytes(unknown, [0xff, 0, 0, 0, 0, 0, 0, 0]);
        Assert.That(CliRunner.Run("bpf", "exec", unknown), Has.Property("ExitCode").EqualTo(2).And.Property("Error").Contains("insn 0: unknown opcode 0xff"));
        Assert.That(CliRunner.Run("bpf", "exec", Path.Combine(_scratch.Root, "missing.bin")), Has.Property("ExitCode").EqualTo(2));
        Assert.That(CliRunner.Run("bpf", "exec", unknown, "--mem", "0"), Has.Property("ExitCode").EqualTo(2).And.Property("Error").Contains("odd number of hex digits"));
    }

    [Test]
    public void Exec_unknown_engine_is_bad_input()
    {
        var result = CliRunner.Run("bpf", "exec", Path.Combine(TestPaths.ConformanceDir, "exit.data"), "--engine", "ubpf");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("unknown or unavailable engine 'ubpf'"));
    }

    [Test]
    public void Plugin_reads_the_program_from_stdin_and_prints_r0_in_bare_hex()
    {
        // mov %r0, %r2 ; exit -- with 3 bytes of memory r2 = 3. The runner passes memory as "xx  xx  " words.
        using (BpfConformancePluginVerb.RedirectInput(new StringReader("bf 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00 \n")))
        {
            var result = CliRunner.Run("bpf", "conformance-plugin", "01  02  03  ", "--interpret");
            Assert.That((result.ExitCode, result.Out, result.Error), Is.EqualTo((0, "3\n", "")));
        }
    }

    [Test]
    public void Plugin_round_trips_every_conformance_program_through_its_protocol()
    {
        var failures = new List<string>();
        foreach (var path in Directory.EnumerateFiles(TestPaths.ConformanceDir, "*.data"))
        {
            var test = ConformanceDataFile.Load(path);
            var program = string.Join(' ', Instruction.WriteAll(test.Program).Select(b => b.ToString("x2")));
            var args = test.Memory.Length == 0
                ? new[] { "bpf", "conformance-plugin" }
                : ["bpf", "conformance-plugin", string.Join("  ", test.Memory.Select(b => b.ToString("x2")))];
            using (BpfConformancePluginVerb.RedirectInput(new StringReader(program + "\n")))
            {
                var result = CliRunner.Run(args);
                if (result.ExitCode != 0 || Convert.ToUInt64(result.Out.Trim(), 16) != test.ExpectedResult)
                    failures.Add($"{test.Name}: exit {result.ExitCode} out '{result.Out.Trim()}' err '{result.Error.Trim()}'");
            }
        }

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void Plugin_failure_goes_to_stderr_with_exit_1()
    {
        using (BpfConformancePluginVerb.RedirectInput(new StringReader("85 00 00 00 07 00 00 00 95 00 00 00 00 00 00 00\n")))
        {
            var result = CliRunner.Run("bpf", "conformance-plugin");
            Assert.That((result.ExitCode, result.Out, result.Error), Is.EqualTo((1, "", "insn 0: call to unknown helper 7\n")));
        }

        using (BpfConformancePluginVerb.RedirectInput(new StringReader("ff 00 00 00 00 00 00 00\n")))
            Assert.That(CliRunner.Run("bpf", "conformance-plugin").Error, Is.EqualTo("insn 0: unknown opcode 0xff\n"));
        using (BpfConformancePluginVerb.RedirectInput(new StringReader("b7 00\n")))
            Assert.That(CliRunner.Run("bpf", "conformance-plugin").ExitCode, Is.EqualTo(1));
    }
}
