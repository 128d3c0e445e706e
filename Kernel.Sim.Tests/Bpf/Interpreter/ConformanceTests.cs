using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Tests.Bpf.Interpreter;

/// <summary>All bpf_conformance programs on the interpreter, one case per file.</summary>
public sealed class ConformanceTests
{
    [TestCaseSource(typeof(ConformanceCases), nameof(ConformanceCases.All))]
    public void Program_gives_the_expected_result(string path)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} not found (set KERNELSIM_CONFORMANCE_DIR or lay ../shared/conformance/tests)");
        var test = ConformanceDataFile.Load(path);
        var interpreter = new BpfInterpreter(test.Program, HelperRegistry.CreateConformance());
        var memory = test.Memory.ToArray();
        var result = interpreter.Run(memory);

        if (test.ExpectedError is not null)
        {
            Assert.That(result.Succeeded, Is.False, "expected an error");
            return;
        }

        Assert.That(result.Message, Is.Empty);
        Assert.That(result.R0, Is.EqualTo(test.ExpectedResult), $"r0 = 0x{result.R0:x}");
    }
}
