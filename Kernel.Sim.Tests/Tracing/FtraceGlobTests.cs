using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tests.Tracing;

public sealed class FtraceGlobTests
{
    private static IEnumerable<TestCaseData> Vectors() =>
        File.ReadAllLines(Path.Combine(TestContext.CurrentContext.TestDirectory, "Tracing", "Data", "ftrace-globs.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => new TestCaseData(p[0], p[1], p[2] == "1").SetName($"{p[0]} ~ {p[1]}"));

    [TestCaseSource(nameof(Vectors))]
    public void MatchesLikeFtrace(string pattern, string name, bool expected) =>
        Assert.That(FtraceGlob.Parse(pattern).Matches(name), Is.EqualTo(expected));

    [TestCase("ip_rcv", GlobMatchType.Full, "ip_rcv")]
    [TestCase("ip_*", GlobMatchType.FrontOnly, "ip_")]
    [TestCase("*_rcv", GlobMatchType.EndOnly, "_rcv")]
    [TestCase("*rcv*", GlobMatchType.MiddleOnly, "rcv")]
    [TestCase("i*_rcv", GlobMatchType.Glob, "i*_rcv")]
    [TestCase("!ip_*", GlobMatchType.FrontOnly, "ip_")]
    public void ClassifiesPatterns(string pattern, GlobMatchType type, string search)
    {
        var glob = FtraceGlob.Parse(pattern);
        Assert.That(glob.Type, Is.EqualTo(type));
        Assert.That(glob.Search, Is.EqualTo(search));
        Assert.That(glob.Negate, Is.EqualTo(pattern.StartsWith('!')));
    }

    [Test]
    public void DataFileIsPresent() => Assert.That(Vectors().Count(), Is.GreaterThan(15));
}
