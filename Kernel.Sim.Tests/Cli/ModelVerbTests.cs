using System.Text.Json;

namespace Kernel.Sim.Tests.Cli;

public sealed class ModelVerbTests
{
    private static readonly string[] Expected =
    [
        "direct", "indirect", "retpoline", "retpoline-lfence", "eibrs", "ibrs", "guard-hit", "guard-miss",
        "static-call", "static-call-trampoline", "adaptive",
    ];

    [Test]
    public void JsonListsEveryMechanism()
    {
        var result = CliRunner.Run("model", "--profile", "zen2", "--calls", "2000", "--json");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        using var doc = JsonDocument.Parse(result.Out);
        Assert.That(doc.RootElement.GetProperty("profile").GetString(), Is.EqualTo("zen2"));
        var mechanisms = doc.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("mechanism").GetString());
        Assert.That(mechanisms, Is.EqualTo(Expected));
        Assert.That(doc.RootElement.GetProperty("results")[0].GetProperty("cycles_per_call").GetDouble(), Is.EqualTo(4.0));
    }

    [Test]
    public void IdenticalArgumentsGiveIdenticalOutput()
    {
        string[] args = ["model", "--targets", "4", "--pattern", "random", "--calls", "3000", "--seed", "9", "--json"];
        var first = CliRunner.Run(args).Out;
        var second = CliRunner.Run(args).Out;
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void RandomPatternMispredictsAndAlternateDoesNot()
    {
        double Indirect(string pattern)
        {
            var result = CliRunner.Run("model", "--targets", "2", "--pattern", pattern, "--calls", "4000", "--json");
            using var doc = JsonDocument.Parse(result.Out);
            return doc.RootElement.GetProperty("results").EnumerateArray()
                .Single(r => r.GetProperty("mechanism").GetString() == "indirect").GetProperty("mispredicts_per_call").GetDouble();
        }

        Assert.That(Indirect("alternate"), Is.Zero);
        Assert.That(Indirect("random"), Is.GreaterThan(0.3));
    }

    [Test]
    public void TableHasAHeaderAndARowPerMechanism()
    {
        var result = CliRunner.Run("model", "--calls", "1000");
        Assert.That(result.ExitCode, Is.EqualTo(0));
        Assert.That(result.Lines[0], Does.StartWith("profile skylake"));
        Assert.That(result.Lines.Skip(2).Select(l => l.Split(' ')[0]), Is.EqualTo(Expected));
    }

    [TestCase("--profile", "pentium", "unknown CPU profile")]
    [TestCase("--targets", "3", "'3'")]
    [TestCase("--pattern", "zigzag", "zigzag")]
    [TestCase("--calls", "0", "--calls")]
    public void BadInputExitsTwo(string option, string value, string message)
    {
        var result = CliRunner.Run("model", option, value);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain(message));
    }

    [Test]
    public void MissingHostProfileExitsTwo()
    {
        var result = CliRunner.Run("model", "--profile", "host", "--host-profile", "/nonexistent/host.json");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("lab --calibrate"));
    }
}
