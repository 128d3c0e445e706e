using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Asm;

/// <summary>
/// Real-client agreement (issue 2): for clang-compiled programs, every conformance program and every instruction
/// form, our LLVM-syntax text assembles with llvm-mc-14 to our bytes and reads as llvm-objdump-14 prints it.
/// Each source is checked in one batch (one llvm-mc and two llvm-objdump runs); the cases report per program.
/// The C programs use no maps, so the only relocations in their objects are the calls from the program section to
/// the static subprogram in .text (R_BPF_64_32): those slots hold src_reg 1 and imm -1 until a loader links them,
/// and both tools and we read exactly those bytes (<c>call pc-1</c> / <c>call -1</c>), so no slot needs relocating.
/// </summary>
public sealed class LlvmAgreementTests
{
    private static readonly Lazy<(IReadOnlyList<(string Name, Instruction[] Program)> Programs, LlvmAgreement.Report Report)> Clang =
        new(() => Run(ClangPrograms()));

    private static readonly Lazy<(IReadOnlyList<(string Name, Instruction[] Program)> Programs, LlvmAgreement.Report Report)> Conformance =
        new(() => Run(ConformancePrograms()));

    private static readonly Lazy<(IReadOnlyList<(string Name, Instruction[] Program)> Programs, LlvmAgreement.Report Report)> Forms =
        new(() => Run(FormPrograms()));

    public static IEnumerable<TestCaseData> ClangCases() =>
        ClangPrograms().Select(p => new TestCaseData(p.Name).SetName($"Clang({p.Name})"));

    public static IEnumerable<TestCaseData> ConformanceCases() =>
        Directory.Exists(TestPaths.ConformanceDir)
            ? ConformancePrograms().Select(p => new TestCaseData(p.Name).SetName($"Conformance({p.Name})"))
            : [new TestCaseData("(missing)").SetName("conformance directory missing: " + TestPaths.ConformanceDir)];

    [TestCaseSource(nameof(ClangCases))]
    public void ClangProgramAgrees(string name) => AssertAgrees(Clang.Value, name);

    [TestCaseSource(nameof(ConformanceCases))]
    public void ConformanceProgramAgrees(string name) => AssertAgrees(Conformance.Value, name);

    [Test]
    public void EveryInstructionFormAgrees()
    {
        var (programs, report) = Forms.Value;
        var failures = programs.SelectMany(p => report.Failures.GetValueOrDefault(p.Name, [])).ToList();
        TestContext.Out.WriteLine($"{report.TextCompared} instructions compared with llvm-objdump, {report.BytesCompared} slots with llvm-mc; "
            + $"{report.Exempt.Values.Sum(v => v.Count)} exemptions");
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void ClangProgramsExistAndUseTheExpectedForms()
    {
        var programs = ClangPrograms();
        Assert.That(programs, Has.Count.GreaterThanOrEqualTo(8));
        var all = programs.SelectMany(p => p.Program).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(all.Any(i => i.Opcode == Opcodes.LdImm64), "lddw");
            Assert.That(all.Any(i => i.Opcode == (Opcodes.BPF_JMP | Opcodes.BPF_CALL) && i.Src == 1), "local call");
            Assert.That(all.Any(i => i.Opcode == (Opcodes.BPF_JMP | Opcodes.BPF_CALL) && i.Src == 0), "helper call");
            Assert.That(all.Any(i => i.Opcode == 0xc3), "32-bit atomic");
            Assert.That(all.Any(i => i.Opcode == 0xdb && i.Imm == 0xf1), "cmpxchg");
            Assert.That(all.Any(i => i.Opcode == 0xdc), "byte swap");
            Assert.That(all.Any(i => i.Class == Opcodes.BPF_JMP32), "32-bit jump");
        });
    }

    [Test]
    public void CommittedObjectsMatchAFreshClangBuild()
    {
        if (LlvmTools.Find(LlvmTools.Clang) is null)
            Assert.Ignore("clang-14 is not installed (apt-get install clang-14); the committed .o files were not rebuilt");
        var dir = Directory.CreateTempSubdirectory("kernelsim-clang-");
        try
        {
            // Compile from the source tree, where common.h sits beside the programs.
            var sources = Path.Combine(TestPaths.RepoRoot, "Kernel.Sim.Tests", "Bpf", "Asm", "Programs");
            foreach (var source in Directory.EnumerateFiles(sources, "*.c").Order(StringComparer.Ordinal))
            {
                var fresh = Path.Combine(dir.FullName, Path.GetFileNameWithoutExtension(source) + ".o");
                LlvmTools.Run(LlvmTools.Clang, "-target", "bpf", "-O2", "-mcpu=v3", "-c", source, "-o", fresh);
                var committed = Path.ChangeExtension(source, ".o");
                Assert.That(File.Exists(committed), $"{committed} is missing: run Programs/build.sh");
                Assert.That(Flatten(LlvmTools.ProgramSections(fresh)), Is.EqualTo(Flatten(LlvmTools.ProgramSections(committed))),
                    $"{Path.GetFileName(committed)} is stale: run Kernel.Sim.Tests/Bpf/Asm/Programs/build.sh");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string ProgramsDir => TestPaths.Data("Bpf", "Asm", "Programs");

    private static List<string> Flatten(IReadOnlyList<(string Name, Instruction[] Program)> sections) =>
        [.. sections.Select(s => s.Name + ":" + string.Join(',', s.Program.Select(i => i.ToUInt64().ToString("x16"))))];

    private static void AssertAgrees((IReadOnlyList<(string Name, Instruction[] Program)> Programs, LlvmAgreement.Report Report) batch, string name)
    {
        var report = batch.Report;
        foreach (var exempt in report.Exempt.GetValueOrDefault(name, []))
            TestContext.Out.WriteLine("exempt " + exempt);
        TestContext.Out.WriteLine(LlvmDisassembler.Disassemble(batch.Programs.First(p => p.Name == name).Program, addresses: true));
        Assert.That(report.Failures.GetValueOrDefault(name, []), Is.Empty);
    }

    private static (IReadOnlyList<(string Name, Instruction[] Program)>, LlvmAgreement.Report) Run(IReadOnlyList<(string Name, Instruction[] Program)> programs) =>
        (programs, LlvmAgreement.Check(programs));

    private static List<(string Name, Instruction[] Program)> ClangPrograms() =>
        [.. Directory.EnumerateFiles(ProgramsDir, "*.o").Order(StringComparer.Ordinal)
            .SelectMany(o => LlvmTools.ProgramSections(o).Select(s => ($"{Path.GetFileName(o)}:{s.Name}", s.Program)))];

    private static List<(string Name, Instruction[] Program)> ConformancePrograms() =>
        !Directory.Exists(TestPaths.ConformanceDir)
            ? []
            : [.. Directory.EnumerateFiles(TestPaths.ConformanceDir, "*.data").Order(StringComparer.Ordinal)
                .Select(path => (Path.GetFileNameWithoutExtension(path), ConformanceDataFile.Load(path).Program))];

    private static List<(string Name, Instruction[] Program)> FormPrograms() =>
        [.. InstructionVectors.Load().Select(f => ($"line {f.Line}: {f.Comment}", InstructionVectors.ToProgram(f.Words)))];
}
