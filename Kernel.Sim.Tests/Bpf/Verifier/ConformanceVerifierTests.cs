using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Verifier;

/// <summary>Every bpf_conformance program is accepted as <c>raw</c> with its memory size.</summary>
public sealed class ConformanceVerifierTests
{
    public static IEnumerable<TestCaseData> Programs() =>
        Directory.Exists(TestPaths.ConformanceDir)
            ? Directory.GetFiles(TestPaths.ConformanceDir, "*.data").Order(StringComparer.Ordinal)
                .Select(p => new TestCaseData(p).SetName("Conformance_" + Path.GetFileNameWithoutExtension(p)))
            : [];

    /// <summary>
    /// Programs Linux's check_alu_op / check_helper_call refuse: shifts by an immediate outside [0, width)
    /// ("invalid shift N") and BPF_CALL with the register source bit ("BPF_CALL uses reserved fields").
    /// </summary>
    private static readonly Dictionary<string, string> LinuxRejects = new()
    {
        ["arsh32-imm-high"] = "invalid shift",
        ["arsh32-imm-neg"] = "invalid shift",
        ["arsh64-imm-high"] = "invalid shift",
        ["arsh64-imm-neg"] = "invalid shift",
        ["lsh32-imm-high"] = "invalid shift",
        ["lsh32-imm-neg"] = "invalid shift",
        ["lsh64-imm-high"] = "invalid shift",
        ["lsh64-imm-neg"] = "invalid shift",
        ["rsh32-imm-high"] = "invalid shift",
        ["rsh32-imm-neg"] = "invalid shift",
        ["rsh64-imm-high"] = "invalid shift",
        ["rsh64-imm-neg"] = "invalid shift",
        ["callx"] = "BPF_CALL uses reserved fields",
    };

    [TestCaseSource(nameof(Programs))]
    public void Accepted_as_raw_unless_Linux_rejects(string path)
    {
        var data = ConformanceDataFile.Load(path);
        var result = Kernel.Sim.Bpf.Verifier.Verifier.Verify(data.Program, new VerifierOptions { MemSize = data.Memory.Length, LogLevel = 1 });
        if (LinuxRejects.TryGetValue(data.Name, out var reason))
        {
            Assert.That(result.Accepted, Is.False, result.Log);
            Assert.That(result.Error, Does.Contain(reason));
            return;
        }

        Assert.That(result.Accepted, Is.True, result.Log);
    }

    [Test]
    public void The_conformance_suite_is_present()
    {
        Assert.That(Programs().Count(), Is.EqualTo(313), "expected the 313 bpf_conformance programs in " + TestPaths.ConformanceDir);
    }
}
