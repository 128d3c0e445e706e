using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli.Bpf;

/// <summary><c>kernelsim bpf disasm</c>, run in-process.</summary>
public sealed class BpfDisasmVerbTests
{
    private ScratchDir _scratch = null!;

    [SetUp]
    public void CreateScratch() => _scratch = new ScratchDir("kernelsim-bpf-disasm-");

    [TearDown]
    public void RemoveScratch() => _scratch.Dispose();

    private string WriteBytes(string name, params Instruction[] program)
    {
        var path = Path.Combine(_scratch.Root, name);
        File.WriteAllBytes(path, Instruction.WriteAll(program));
        return path;
    }

    [Test]
    public void RawBytesPrintInLlvmSyntaxByDefault()
    {
        var result = CliRunner.Run("bpf", "disasm", WriteBytes("p.bin", Instruction.LoadMem(Opcodes.BPF_W, 0, 1, 4), Instruction.Exit()));
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Lines, Is.EqualTo(new[] { "r0 = *(u32 *)(r1 + 4)", "exit" }));
    }

    [Test]
    public void AddressesCountSlots()
    {
        var (lo, hi) = Instruction.LdImm64Pair(1, 1);
        var path = WriteBytes("p.raw", lo, hi, Instruction.Exit());
        Assert.That(CliRunner.Run("bpf", "disasm", path, "--addresses").Out, Is.EqualTo("       0:\tr1 = 1 ll\n       2:\texit\n"));
        Assert.That(CliRunner.Run("bpf", "disasm", path, "--addresses", "--syntax", "conformance").Out,
            Is.EqualTo("       0:\tlddw %r1, 0x1\n       2:\texit\n"));
    }

    [Test]
    public void ConformanceDataFilesDisassembleAndReassemble()
    {
        var path = Path.Combine(TestPaths.ConformanceDir, "lock_fetch_add32.data");
        var result = CliRunner.Run("bpf", "disasm", path);
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Out, Does.Contain("atomic_fetch_add((u32 *)(r10 - 8), w"));
        Assert.That(LlvmAssembler.Assemble(result.Out), Is.EqualTo(ConformanceDataFile.Load(path).Program));
    }

    [Test]
    public void TextConvertsBetweenTheSyntaxes()
    {
        var llvm = Path.Combine(_scratch.Root, "p.s");
        File.WriteAllText(llvm, "w0 = 1\nlock *(u64 *)(r10 - 8) += r1\nexit\n");
        var result = CliRunner.Run("bpf", "disasm", llvm, "--syntax", "conformance");
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(ConformanceAssembler.Assemble(result.Out), Is.EqualTo(LlvmAssembler.Assemble(File.ReadAllText(llvm))));
    }

    [Test]
    public void MalformedSlotsAreQuadsInLlvmSyntaxAndBadInputInConformanceSyntax()
    {
        var path = WriteBytes("bad.bin", new Instruction(0x8f, 0, 0, 0, 0), Instruction.Exit());
        Assert.That(CliRunner.Run("bpf", "disasm", path).Lines, Is.EqualTo(new[] { ".quad 0x000000000000008f", "exit" }));
        var conformance = CliRunner.Run("bpf", "disasm", path, "--syntax", "conformance");
        Assert.That(conformance.ExitCode, Is.EqualTo(2));
        Assert.That(conformance.Error, Does.Contain("insn 0"));
    }

    [Test]
    public void TruncatedRawProgramIsBadInput()
    {
        var path = Path.Combine(_scratch.Root, "odd.bin");
        File.WriteAllBytes(path, [0x95, 0, 0]);
        var result = CliRunner.Run("bpf", "disasm", path);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("not a whole number of 8-byte instructions"));
    }
}
