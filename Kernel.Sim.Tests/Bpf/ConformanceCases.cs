using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf;

/// <summary>The bpf_conformance data files, one NUnit case each.</summary>
public static class ConformanceCases
{
    /// <summary>Every <c>.data</c> file of the shared conformance directory, named by file.</summary>
    public static IEnumerable<TestCaseData> All()
    {
        var dir = TestPaths.ConformanceDir;
        if (!Directory.Exists(dir))
        {
            yield return new TestCaseData("(missing)").SetName("conformance directory missing: " + dir);
            yield break;
        }

        foreach (var path in Directory.EnumerateFiles(dir, "*.data").Order(StringComparer.Ordinal))
            yield return new TestCaseData(path).SetName(Path.GetFileNameWithoutExtension(path));
    }
}
