using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Cli.Bpf;

/// <summary><c>kernelsim bpf asm</c>, run in-process.</summary>
public sealed class BpfAsmVerbTests
{
    private ScratchDir _scratch = null!;

    [SetUp]
    public void CreateScratch() => _scratch = new ScratchDir("kernelsim-bpf-asm-");

    [TearDown]
    public void RemoveScratch() => _scratch.Dispose();


    [Test]
    public void PrintsOneHexSlotPerLine()
    {
        var result = CliRunner.Run("bpf", "asm", _scratch.Write("p.s", "r0 = 0x123456789 ll\nexit\n"));
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Lines, Is.EqualTo(new[]
        {
            "18 00 00 00 89 67 45 23",
            "00 00 00 00 01 00 00 00",
            "95 00 00 00 00 00 00 00",
        }));
    }

    [Test]
    public void DetectsEitherSyntaxAndBothGiveTheSameBytes()
    {
        var llvm = CliRunner.Run("bpf", "asm", _scratch.Write("a.s", "w0 = 1\nif w0 > 2 goto +1\nexit\nexit\n"));
        var conformance = CliRunner.Run("bpf", "asm", _scratch.Write("b.s", "mov32 %r0, 1\njgt32 %r0, 2, +1\nexit\nexit\n"));
        Assert.That(llvm.ExitCode + conformance.ExitCode, Is.Zero, llvm.Error + conformance.Error);
        Assert.That(llvm.Out, Is.EqualTo(conformance.Out));
    }

    [Test]
    public void WritesRawBytesWithOut()
    {
        var output = Path.Combine(_scratch.Root, "p.bin");
        var result = CliRunner.Run("bpf", "asm", _scratch.Write("p.s", "r0 = 7\nexit\n"), "-o", output);
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Out, Is.Empty);
        Assert.That(Instruction.ReadAll(File.ReadAllBytes(output)), Is.EqualTo(new[] { Instruction.Mov64Imm(0, 7), Instruction.Exit() }));
    }

    [Test]
    public void ForcedSyntaxReportsTheErrorPlace()
    {
        var path = _scratch.Write("p.s", "exit\nmov %r0, 1\n");
        var result = CliRunner.Run("bpf", "asm", path, "--syntax", "llvm");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain($"{path}:2:1: error: unknown instruction 'mov'"));
    }

    [Test]
    public void UnknownSyntaxAndMissingFileAreBadInput()
    {
        Assert.That(CliRunner.Run("bpf", "asm", _scratch.Write("p.s", "exit\n"), "--syntax", "gas").ExitCode, Is.EqualTo(2));
        var missing = CliRunner.Run("bpf", "asm", Path.Combine(_scratch.Root, "none.s"));
        Assert.That((missing.ExitCode, missing.Error.Contains("no such file", StringComparison.Ordinal)), Is.EqualTo((2, true)));
    }
}
