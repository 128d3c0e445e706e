using System.Text.RegularExpressions;
using Kernel.Sim.Bench.Demos;
using Kernel.Sim.Tests.Cli;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Demos;

public sealed partial class DemoVerbTests
{
    private static readonly Dictionary<string, CliRunner.Result> Runs = [];

    public static IEnumerable<TestCaseData> KeyLines() =>
        File.ReadLines(TestPaths.Data("Demos", "Data", "demo-key-lines.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(" | ", 2))
            .Select(p => new TestCaseData(p[0], p[1]).SetName($"{p[0]}: {p[1]}"));

    public static IEnumerable<string> DemoNames() => DemoCatalog.All.Select(d => d.Name);

    [Test]
    public void ListPrintsOneNameAndDescriptionPerLine()
    {
        var result = CliRunner.Run("demo", "list");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Lines.Select(l => l.Split(' ')[0]), Is.EqualTo(DemoNames()));
        Assert.That(result.Lines.Select(l => l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..].Trim()), Is.EqualTo(DemoCatalog.All.Select(d => d.Description)));
    }

    [TestCaseSource(nameof(DemoNames))]
    public void EveryDemoRunsStraightThrough(string demo)
    {
        var result = Run(demo);

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Error, Is.Empty);
        Assert.That(result.Lines, Has.Some.StartsWith("== 2. "), "a demo has steps");
        Assert.That(result.Out, Does.Not.Contain("press Enter"), "without --step nothing waits");
    }

    [TestCaseSource(nameof(KeyLines))]
    public void DemoPrintsKeyLine(string demo, string line)
    {
        Assert.That(Run(demo).Lines, Does.Contain(line.Trim()));
    }

    [Test]
    public void KprobeDemoPrintsTheEntryProbeTraceLine()
    {
        Assert.That(Run("kprobe").Lines, Has.Some.Matches(@"^<idle>-0 +\[000\] \.\.s\.\. +0\.000002: myprobe: \(ip_rcv\+0x0/0x1a0\) skb=0x[0-9a-f]+ len=161 proto=0x8 dev=""eth0""$"));
    }

    [Test]
    public void PacketPathDemoPrintsTheTracepointAndTheKprobeEventInTheGraph()
    {
        var lines = Run("packet-path").Lines;

        Assert.That(lines, Has.Some.Matches(@"^<idle>-0 +\[000\] \.\.s\.\. +\d+\.\d{6}: netif_receive_skb: dev=eth0 skbaddr=0x[0-9a-f]+ len=562$"));
        Assert.That(lines, Has.Some.Matches(@"^<idle>-0 +\[000\] \.\.s\.\. +\d+\.\d{6}: rcv: \(ip_rcv\+0x0/0x1a0\) len=562$"));
        Assert.That(lines.Where(l => Regex.IsMatch(l, @"^(guards|retpoline) +\d+\.\d ")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]),
            Is.EqualTo(new[] { "200", "200" }), "every strategy delivers the same packets");
    }

    [Test]
    public void VerifierDemoGivesEachProgramAHostVerdictOrSaysWhyNot()
    {
        var lines = Run("verifier").Lines;

        Assert.That(lines.Count(l => l.StartsWith("host kernel", StringComparison.Ordinal)), Is.EqualTo(5));
        Assert.That(lines, Has.None.Contains("DISAGREE"));
    }

    [Test]
    public void SeedDemoMeasuresEveryFetchChainRung()
    {
        var lines = Run("seed").Lines;

        // Rungs without a probe event have no BPF column; events are measured on both fetch engines.
        foreach (var rung in new[] { "nothing attached", "C# kprobe reading 4 fields" })
            Assert.That(lines, Has.Some.Matches($"^{Regex.Escape(rung)} +\\d+\\.\\d +-$"));
        foreach (var rung in new[] { "p:e1 seed_fn a=%di", "p:e2 ... b=+8(%di):u32" })
            Assert.That(lines, Has.Some.Matches($"^{Regex.Escape(rung)} +\\d+\\.\\d +\\d+\\.\\d$"));
    }

    [Test]
    public void StaticCallUnderLoadReachesOnlyTheTwoTargetsAndCountsAddUp()
    {
        var all = Run("static-call").Lines.Single(l => l.StartsWith("all:", StringComparison.Ordinal));
        var m = AllLine().Match(all);

        Assert.That(m.Success, Is.True, all);
        var (ip, ipv6, other, total, expected) = (long.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value), long.Parse(m.Groups[3].Value), long.Parse(m.Groups[4].Value), long.Parse(m.Groups[5].Value));
        Assert.That(other, Is.Zero);
        Assert.That(ip + ipv6, Is.EqualTo(total));
        Assert.That(total, Is.EqualTo(expected));
    }

    [Test]
    public void RetpolineDemoMeasuresOrSaysWhyNot()
    {
        var lines = Run("retpoline").Lines;

        Assert.That(lines, Has.Some.StartsWith("retpoline          mono").Or.Some.StartsWith("The native lab cannot run here:"));
    }

    [Test]
    public void StepWaitsForEnterBetweenSteps()
    {
        var result = CliRunner.RunWithInput("\n\n\n\n\n\n\n\n\n\n", "demo", "devirt", "--quick", "--step");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        var steps = result.Lines.Count(l => Regex.IsMatch(l, @"^== \d+\. "));
        Assert.That(Regex.Count(result.Out, @"\[press Enter for the next step\]"), Is.EqualTo(steps - 1));
    }

    [Test]
    public void StepRunsOnWhenInputEnds()
    {
        var result = CliRunner.RunWithInput("\n", "demo", "devirt", "--quick", "--step");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(Regex.Count(result.Out, @"\[press Enter for the next step\]"), Is.EqualTo(2), "one Enter, then end of input");
        Assert.That(result.Lines, Has.Some.StartsWith("== 4. "));
    }

    [Test]
    public void UnknownDemoExits2()
    {
        var result = CliRunner.Run("demo", "no-such-demo");

        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("unknown demo 'no-such-demo'"));
    }

    private static CliRunner.Result Run(string demo)
    {
        lock (Runs)
        {
            if (!Runs.TryGetValue(demo, out var result))
            {
                result = CliRunner.Run("demo", demo, "--quick");
                Runs[demo] = result;
            }

            return result;
        }
    }

    [GeneratedRegex(@"^all: +ip_rcv +(\d+) +ipv6_rcv +(\d+) +other (\d+) +total (\d+) of (\d+)$")]
    private static partial Regex AllLine();
}
