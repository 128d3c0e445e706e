namespace Kernel.Sim.Tests.Support;

/// <summary>Where the repository and the shared conformance data are, wherever the tests run from.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder holding KernelSim.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// The bpf_conformance data: $KERNELSIM_CONFORMANCE_DIR, else ../shared/conformance/tests beside the clone
    /// (where CI and every session lay it).
    /// </summary>
    public static string ConformanceDir
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("KERNELSIM_CONFORMANCE_DIR");
            if (!string.IsNullOrEmpty(fromEnv))
                return fromEnv;
            return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "tests"));
        }
    }

    /// <summary>A folder of test data under Kernel.Sim.Tests (copied beside the test assembly).</summary>
    public static string Data(params string[] parts) =>
        Path.Combine([TestContext.CurrentContext.TestDirectory, .. parts]);

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KernelSim.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("KernelSim.sln not found above " + AppContext.BaseDirectory);
    }
}
