using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Cpu;

public sealed class CpuProfileTests
{
    private static IEnumerable<CpuProfile> BuiltIn => CpuProfiles.BuiltIn;

    [TestCaseSource(nameof(BuiltIn))]
    public void BuiltInProfileRoundTripsThroughJson(CpuProfile profile)
    {
        var back = CpuProfile.FromJson(profile.ToJson());
        Assert.That(back, Is.EqualTo(profile));
    }

    [Test]
    public void JsonUsesSnakeCaseNames()
    {
        var json = CpuProfiles.Skylake.ToJson();
        Assert.That(json, Does.Contain("\"predicted_indirect_call\": 5").And.Contain("\"default_mitigation\": \"retpoline\""));
    }

    [Test]
    public void ResolveFindsBuiltInsCaseInsensitively() =>
        Assert.That(CpuProfiles.Resolve("Zen2"), Is.SameAs(CpuProfiles.Zen2));

    [Test]
    public void UnknownNameListsTheKnownOnes() =>
        Assert.That(() => CpuProfiles.Resolve("pentium"), Throws.ArgumentException.With.Message.Contains("skylake, zen2, icelake, zen5, host"));

    [Test]
    public void HostProfileIsReadFromItsFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-host-{Guid.NewGuid():N}.json");
        try
        {
            (CpuProfiles.Zen2 with { Name = "host", DirectCall = 3.5 }).Save(path);
            var host = CpuProfiles.Resolve("host", path);
            Assert.That((host.Name, host.DirectCall), Is.EqualTo(("host", 3.5)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MissingHostProfileSaysHowToMakeOne() =>
        Assert.That(() => CpuProfiles.Resolve("host", "/nonexistent/host-profile.json"),
            Throws.InstanceOf<FileNotFoundException>().With.Message.Contains("lab --calibrate"));

    [Test]
    public void BadValuesAreNamedInTheError()
    {
        var json = CpuProfiles.Skylake.ToJson().Replace("\"btb_sets\": 1024", "\"btb_sets\": 1000", StringComparison.Ordinal);
        Assert.That(() => CpuProfile.FromJson(json, "my.json"), Throws.InstanceOf<FormatException>().With.Message.Contains("my.json").And.Message.Contains("btb_sets"));
    }

    [Test]
    public void UnknownFieldsAndSyntaxErrorsNameTheFile()
    {
        Assert.That(() => CpuProfile.FromJson("{\"name\": \"x\", \"warp\": 9}", "a.json"), Throws.InstanceOf<FormatException>().With.Message.StartsWith("a.json"));
        Assert.That(() => CpuProfile.FromJson("{\n\"name\": ", "b.json"), Throws.InstanceOf<FormatException>().With.Message.StartsWith("b.json:"));
    }
}
