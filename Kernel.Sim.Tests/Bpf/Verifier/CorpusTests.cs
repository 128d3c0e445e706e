using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Verifier;

/// <summary>
/// The team-written corpora: Corpus/reject/*.s must be rejected with the message in their <c># expect:</c>
/// header, Corpus/accept/*.s (safe but tricky) must be accepted.
/// </summary>
public sealed class CorpusTests
{
    private static readonly ProgramTypeRegistry Registry = ProgramTypeRegistry.CreateDefault();

    public static IEnumerable<TestCaseData> Files(string kind)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Bpf", "Verifier", "Corpus", kind);
        return Directory.GetFiles(dir, "*.s").Order(StringComparer.Ordinal)
            .Select(p => new TestCaseData(p).SetName($"{kind}_{Path.GetFileNameWithoutExtension(p)}"));
    }

    public static IEnumerable<TestCaseData> RejectFiles() => Files("reject");

    public static IEnumerable<TestCaseData> AcceptFiles() => Files("accept");

    [TestCaseSource(nameof(RejectFiles))]
    public void Rejected_with_Linux_message(string path)
    {
        var source = VerifierSource.Parse(File.ReadAllText(path), path);
        Assert.That(source.ExpectAccept, Is.False, "reject corpus files must say '# expect: reject MESSAGE'");
        Assert.That(source.ExpectMessage, Is.Not.Empty);
        var result = Kernel.Sim.Bpf.Verifier.Verifier.Verify(source.Program, source.ToOptions(Registry, 1));
        Assert.That(result.Accepted, Is.False, result.Log);
        Assert.That(result.Error, Does.Contain(source.ExpectMessage), result.Log);
        // Linux's layout: the error is the last line before the trailer.
        var lines = result.Log.TrimEnd('\n').Split('\n');
        Assert.That(lines[^1], Does.StartWith("processed "));
        Assert.That(result.Error!.Split('\n')[^1], Is.EqualTo(lines[^2]));
    }

    [TestCaseSource(nameof(AcceptFiles))]
    public void Accepted(string path)
    {
        var source = VerifierSource.Parse(File.ReadAllText(path), path);
        Assert.That(source.ExpectAccept, Is.True, "accept corpus files must say '# expect: accept'");
        var result = Kernel.Sim.Bpf.Verifier.Verifier.Verify(source.Program, source.ToOptions(Registry, 2));
        Assert.That(result.Accepted, Is.True, result.Log);
    }

    [Test]
    public void Corpora_are_large_enough()
    {
        Assert.That(RejectFiles().Count(), Is.GreaterThanOrEqualTo(150));
        Assert.That(AcceptFiles().Count(), Is.GreaterThanOrEqualTo(80));
    }
}
