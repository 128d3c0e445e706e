using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Jit;

/// <summary>
/// Every bpf_conformance program and every interpreter-semantics vector on the JIT: the expected result, and the
/// same r0, error and final memory as the interpreter.
/// </summary>
public sealed class JitConformanceTests
{
    [TestCaseSource(typeof(ConformanceCases), nameof(ConformanceCases.All))]
    public void Conformance_program_gives_the_expected_result_and_agrees_with_the_interpreter(string path)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} not found");
        var test = ConformanceDataFile.Load(path);
        var outcome = JitDifferential.Compare(test.Program, test.Memory.ToArray(), HelperRegistry.CreateConformance());
        Assert.That(outcome.Verdict, Is.EqualTo(DifferentialVerdict.Agree), outcome.Detail);
        var result = BpfJit.Compile(test.Program, HelperRegistry.CreateConformance()).Run(test.Memory.ToArray());
        if (test.ExpectedError is null)
            Assert.That(result.R0, Is.EqualTo(test.ExpectedResult), result.Message);
        else
            Assert.That(result.Succeeded, Is.False);
        // Subprograms as separate methods instead of inlined: the same outcome.
        var calls = BpfJit.Compile(test.Program, HelperRegistry.CreateConformance(), options: new BpfJitOptions { InlineSubprograms = false }).Run(test.Memory.ToArray());
        Assert.That((calls.R0, calls.Error, calls.InstructionIndex), Is.EqualTo((result.R0, result.Error, result.InstructionIndex)));
    }

    public static IEnumerable<TestCaseData> SemanticsVectors() =>
        Directory.EnumerateFiles(TestPaths.Data("Bpf", "Interpreter", "Semantics"), "*.data")
            .Order(StringComparer.Ordinal)
            .Select(p => new TestCaseData(p).SetName("semantics " + Path.GetFileNameWithoutExtension(p)));

    /// <summary>The interpreter's edge cases (frames, div by zero, atomics, LD_ABS, unknown helpers): same outcome, unless unsafe.</summary>
    [TestCaseSource(nameof(SemanticsVectors))]
    public void Semantics_vector_agrees_with_the_interpreter(string path)
    {
        var test = ConformanceDataFile.Load(path);
        var outcome = JitDifferential.Compare(test.Program, test.Memory.ToArray(), HelperRegistry.CreateConformance());
        Assert.That(outcome.Verdict, Is.Not.EqualTo(DifferentialVerdict.Diverge), outcome.Detail);
    }
}
