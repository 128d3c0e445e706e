using Kernel.Sim.Bench.Cli.Bpf;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Tests.Bpf.Verifier;

/// <summary>
/// The corpora against the running Linux kernel's own verifier (bpf(2) BPF_PROG_LOAD, nothing attached).
/// Only privileged files of Linux program types can be compared (raw is KernelSim's; the host runs us as
/// root). Inconclusive, with the reason, when the host cannot be asked.
/// </summary>
public sealed class HostOracleTests
{
    private static readonly ProgramTypeRegistry Registry = ProgramTypeRegistry.CreateDefault();

    /// <summary>Files where KernelSim deliberately differs from Linux 6.18, with the reason.</summary>
    private static readonly Dictionary<string, string> ExpectedDifferences = new(StringComparer.Ordinal)
    {
        // None today: every comparable corpus file gets Linux 6.18's verdict.
    };

    [Test]
    public void Corpora_agree_with_the_host_kernel()
    {
        var files = CorpusTests.RejectFiles().Concat(CorpusTests.AcceptFiles()).Select(t => (string)t.Arguments[0]!).ToList();
        var compared = 0;
        var disagreements = new List<string>();
        foreach (var path in files)
        {
            var source = VerifierSource.Parse(File.ReadAllText(path), path);
            if (source.ProgramTypeName == "raw" || source.Unprivileged)
                continue;
            var options = source.ToOptions(Registry, 1);
            var host = HostBpf.Load(source.Program, options, 1);
            if (!host.Available)
                Assert.Inconclusive("host kernel not available as an oracle: " + host.Note);
            compared++;
            var ours = Kernel.Sim.Bpf.Verifier.Verifier.Verify(source.Program, options);
            var name = Path.GetFileNameWithoutExtension(path);
            if (ours.Accepted != host.Accepted && !ExpectedDifferences.ContainsKey(name))
                disagreements.Add($"{name}: kernelsim {(ours.Accepted ? "accepts" : "rejects: " + ours.Error)}; host {(host.Accepted ? "accepts" : "rejects: " + host.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(^2))}");
        }

        Assert.That(compared, Is.GreaterThan(40));
        Assert.That(disagreements, Is.Empty);
    }
}
