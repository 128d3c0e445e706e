using System.Buffers.Binary;
using System.Xml.Linq;
using Kernel.Sim.Tests.Cli;
using SkiaSharp;

namespace Kernel.Sim.Tests.Report;

public sealed class ReportVerbTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

    private string _dir = null!;
    private CliRunner.Result _result = null!;

    [OneTimeSetUp]
    public void RunQuickReport()
    {
        _dir = Path.Combine(Path.GetTempPath(), "kernelsim-report-" + Guid.NewGuid().ToString("N"));
        _result = CliRunner.Run("report", "--quick", "--out", _dir, "--bench-results", Path.Combine(_dir, "no-bench-results"));
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void QuickReportSucceedsAndListsWhatItWrote()
    {
        Assert.That(_result.ExitCode, Is.Zero, _result.Error);
        Assert.That(_result.Lines, Does.Contain(Path.Combine(_dir, "report.md")));
        Assert.That(_result.Lines, Does.Contain(Path.Combine(_dir, "report.html")));
        Assert.That(_result.Lines.Count(l => l.EndsWith(".png", StringComparison.Ordinal)), Is.EqualTo(8));
        Assert.That(_result.Lines.Count(l => l.EndsWith(".svg", StringComparison.Ordinal)), Is.EqualTo(8));
    }

    public static IEnumerable<string> QuickCharts() =>
        ["model-cycles-mono", "model-cycles-random", "guard-cost", "guard-hit-rate", "retpoline-per-packet", "path-dispatch-per-packet", "jit-vs-interpreter", "jit-vs-host"];

    [TestCaseSource(nameof(QuickCharts))]
    public void ChartIsAValidPng(string chart)
    {
        var bytes = File.ReadAllBytes(Path.Combine(_dir, chart + ".png"));

        Assert.That(bytes.AsSpan(0, 8).ToArray(), Is.EqualTo(PngSignature));
        Assert.That(System.Text.Encoding.ASCII.GetString(bytes, 12, 4), Is.EqualTo("IHDR"));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), Is.EqualTo(900));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)), Is.EqualTo(480));
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.That(bitmap, Is.Not.Null, "the PNG decodes");
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((900, 480)));
    }

    [TestCaseSource(nameof(QuickCharts))]
    public void ChartIsAValidSvg(string chart)
    {
        var svg = XDocument.Load(Path.Combine(_dir, chart + ".svg"));

        Assert.That(svg.Root!.Name.LocalName, Is.EqualTo("svg"));
        Assert.That((string?)svg.Root.Attribute("width"), Is.EqualTo("900"));
        Assert.That(svg.Descendants().Count(), Is.GreaterThan(10), "the SVG draws something");
    }

    [Test]
    public void MarkdownEmbedsEveryChartAndTheModelFigures()
    {
        var markdown = File.ReadAllText(Path.Combine(_dir, "report.md"));

        foreach (var chart in QuickCharts())
            Assert.That(markdown, Does.Contain($"]({chart}.png)").And.Contain($"({chart}.svg)"));
        // The skylake retpoline figure of the model (DirectCall 4 + thunk 5 + mispredict 17).
        Assert.That(markdown, Does.Contain("| retpoline | 26.00 |"));
        Assert.That(markdown, Does.Contain("Quick mode"));
    }

    [Test]
    public void JitSectionTimesEveryProgramAndSaysWhatTheHostDid()
    {
        var lines = File.ReadAllLines(Path.Combine(_dir, "report.md"));
        var xdp = lines.Single(l => l.StartsWith("| xdp_filter.o xdp_drop_discard |", StringComparison.Ordinal));

        foreach (var program in new[] { "checksum (1024 B)", "sieve (< 2048)", "sort (32 u64)", "crc32 (64 calls)" })
            Assert.That(lines.Count(l => l.StartsWith($"| {program} |", StringComparison.Ordinal)), Is.EqualTo(1), program);
        var hostCell = xdp.Split('|', StringSplitOptions.TrimEntries)[4];
        if (hostCell == "not run")
            Assert.That(lines, Has.Some.StartsWith("Host bar omitted for xdp_filter.o xdp_drop_discard: "));
        else
            Assert.That(double.Parse(hostCell, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void HtmlIsWellFormedAndReferencesTheCharts()
    {
        var html = File.ReadAllText(Path.Combine(_dir, "report.html"));

        Assert.That(html, Does.StartWith("<!DOCTYPE html>"));
        foreach (var chart in QuickCharts())
            Assert.That(html, Does.Contain($"<img src=\"{chart}.png\""));
        Assert.That(() => XDocument.Parse(html[html.IndexOf("<html", StringComparison.Ordinal)..]), Throws.Nothing);
    }

    [Test]
    public void UnwritableOutputIsAReportedFailure()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");

        var result = CliRunner.Run("report", "--quick", "--out", Path.Combine(file, "sub"));

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("cannot write"));
    }
}
