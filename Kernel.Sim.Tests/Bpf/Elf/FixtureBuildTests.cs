using System.Diagnostics;

namespace Kernel.Sim.Tests.Bpf.Elf;

/// <summary>The committed objects are what build.sh makes from the committed sources (clang-14 is deterministic).</summary>
public sealed class FixtureBuildTests
{
    [Test]
    public void CommittedObjectsMatchAFreshBuild()
    {
        if (!OnPath("clang-14") || !File.Exists("/usr/include/bpf/bpf_helpers.h"))
            Assert.Ignore("clang-14 or libbpf-dev headers not installed: the committed objects are used as they are");
        var outDir = Directory.CreateTempSubdirectory("kernelsim-elf-").FullName;
        try
        {
            var psi = new ProcessStartInfo("sh", [Path.Combine(ElfFixtures.SourceDir, "build.sh"), outDir]) { RedirectStandardError = true, RedirectStandardOutput = true };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.Zero, err);
            var built = Directory.GetFiles(outDir, "*.o").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            var committed = Directory.GetFiles(ElfFixtures.SourceDir, "*.o").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.That(built, Is.EqualTo(committed));
            foreach (var f in built)
                Assert.That(File.ReadAllBytes(Path.Combine(outDir, f!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(ElfFixtures.SourceDir, f!))), f);
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }

    private static bool OnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, exe)));
}
