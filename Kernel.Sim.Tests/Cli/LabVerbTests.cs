using System.Text.Json;
using Kernel.Sim.Cpu;
using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Cli;

public sealed class LabVerbTests
{
    [Test]
    public void JsonListsEveryMechanismAndPattern()
    {
        Assume.That(NativeLab.IsSupported, Is.True, $"native lab unsupported here: {NativeLab.UnsupportedReason}");
        var result = CliRunner.Run("lab", "--json", "--calls", "1000", "--repetitions", "1");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.That(root.GetProperty("supported").GetBoolean(), Is.True);
        Assert.That(root.GetProperty("reason").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("tsc_ghz").GetDouble(), Is.Positive);
        Assert.That(root.GetProperty("core_ghz").GetDouble(), Is.Positive);
        var rows = root.GetProperty("results").EnumerateArray().ToList();
        var expected = NativeMechanisms.All.SelectMany(m => m.Patterns().Select(p => $"{m.Name()}/{p.Name()}"));
        Assert.That(rows.Select(r => $"{r.GetProperty("mechanism").GetString()}/{r.GetProperty("pattern").GetString()}"), Is.EqualTo(expected));
        foreach (var field in new[] { "ns_median", "cycles_median", "ns_min", "ns_max", "cycles_min", "cycles_max" })
            Assert.That(rows.All(r => r.GetProperty(field).GetDouble() > 0), Is.True, field);
    }

    [Test]
    public void TableHasOneLinePerMechanismAndPatternAndNamesTheUnmeasurable()
    {
        Assume.That(NativeLab.IsSupported, Is.True, $"native lab unsupported here: {NativeLab.UnsupportedReason}");
        var result = CliRunner.Run("lab", "--calls", "1000", "--repetitions", "1");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Lines.Count(l => l.StartsWith("retpoline ", StringComparison.Ordinal)), Is.EqualTo(3));
        Assert.That(result.Out, Does.Contain("static-call-trampoline").And.Contain("eibrs: not measurable"));
    }

    [Test]
    public void UnsupportedHostSaysSoAndExitsZero()
    {
        var result = CliRunner.Run("lab", "--json", "--simulate-unsupported", "not x86-64");

        Assert.That(result.ExitCode, Is.Zero);
        using var json = JsonDocument.Parse(result.Out);
        Assert.That(json.RootElement.GetProperty("supported").GetBoolean(), Is.False);
        Assert.That(json.RootElement.GetProperty("reason").GetString(), Is.EqualTo("not x86-64"));
        Assert.That(json.RootElement.GetProperty("results").GetArrayLength(), Is.Zero);
        Assert.That(json.RootElement.GetProperty("core_ghz").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(CliRunner.Run("lab", "--simulate-unsupported", "not x86-64").Out, Does.Contain("not supported on this host: not x86-64"));
    }

    [TestCase("--calls", "0")]
    [TestCase("--repetitions", "0")]
    public void NonPositiveCountsAreBadInput(string option, string value)
    {
        var result = CliRunner.Run("lab", option, value);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain(option));
    }

    [Test]
    public void CalibrateWritesAHostProfileThatResolves()
    {
        Assume.That(NativeLab.IsSupported, Is.True, $"native lab unsupported here: {NativeLab.UnsupportedReason}");
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-host-{Guid.NewGuid():N}.json");
        try
        {
            var result = CliRunner.Run("lab", "--json", "--calibrate", "--out", path, "--calls", "2000", "--repetitions", "1");

            Assert.That(result.ExitCode, Is.Zero, result.Error);
            using var json = JsonDocument.Parse(result.Out);
            Assert.That(json.RootElement.GetProperty("host_profile").GetString(), Is.EqualTo(Path.GetFullPath(path)));
            var profile = CpuProfiles.Resolve(CpuProfiles.HostName, path);
            Assert.That(profile.Name, Is.EqualTo("host"));
            Assert.That(profile.DirectCall, Is.Positive);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void CalibrateOnAnUnsupportedHostWritesNothing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-host-{Guid.NewGuid():N}.json");
        var result = CliRunner.Run("lab", "--calibrate", "--out", path, "--simulate-unsupported", "no");
        Assert.That(result.ExitCode, Is.Zero);
        Assert.That(result.Out, Does.Contain("no host profile written"));
        Assert.That(File.Exists(path), Is.False);
    }
}
