using System.Text.RegularExpressions;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Interpreter;

/// <summary>
/// Interpreter edge cases beyond the conformance suite, as .data files under Semantics/: the conformance format,
/// except that an <c>-- error</c> line is a prefix of the run's error message in which <c>&lt;addr&gt;</c> stands for
/// any hex address (addresses vary from run to run).
/// </summary>
public sealed class SemanticsTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        Directory.EnumerateFiles(TestPaths.Data("Bpf", "Interpreter", "Semantics"), "*.data")
            .Order(StringComparer.Ordinal)
            .Select(p => new TestCaseData(p).SetName(Path.GetFileNameWithoutExtension(p)));

    [TestCaseSource(nameof(Cases))]
    public void Program_behaves_as_specified(string path)
    {
        var test = ConformanceDataFile.Load(path);
        var interpreter = new BpfInterpreter(test.Program, HelperRegistry.CreateConformance());
        var result = interpreter.Run(test.Memory.ToArray());
        if (test.ExpectedError is { } error)
        {
            Assert.That(result.Succeeded, Is.False, $"expected '{error}', got r0 = 0x{result.R0:x}");
            var pattern = "^" + Regex.Escape(error).Replace("<addr>", "0x[0-9a-f]+", StringComparison.Ordinal);
            Assert.That(result.Message, Does.Match(pattern));
            Assert.That(() => result.ThrowIfFailed(), Throws.TypeOf<BpfRuntimeException>().With.Message.EqualTo(result.Message));
            return;
        }

        Assert.That(result.Message, Is.Empty);
        Assert.That(result.R0, Is.EqualTo(test.ExpectedResult), $"r0 = 0x{result.R0:x}");
    }
}
