using Kernel.Sim.Cpu;
using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

public sealed class NativeCalibrationTests
{
    // Cycles per call, shaped like the machine of record (Zen 5 guest).
    private static readonly Dictionary<(NativeMechanism, TargetPattern), double> Measured = new()
    {
        [(NativeMechanism.Direct, TargetPattern.Mono)] = 4.2,
        [(NativeMechanism.Indirect, TargetPattern.Mono)] = 6.0,
        [(NativeMechanism.Indirect, TargetPattern.Alternate)] = 6.0,
        [(NativeMechanism.Indirect, TargetPattern.Random)] = 27.0,
        [(NativeMechanism.Retpoline, TargetPattern.Mono)] = 31.0,
        [(NativeMechanism.Retpoline, TargetPattern.Alternate)] = 31.0,
        [(NativeMechanism.Retpoline, TargetPattern.Random)] = 33.0,
        [(NativeMechanism.RetpolineLfence, TargetPattern.Mono)] = 19.0,
        [(NativeMechanism.RetpolineLfence, TargetPattern.Alternate)] = 19.0,
        [(NativeMechanism.RetpolineLfence, TargetPattern.Random)] = 26.5,
        [(NativeMechanism.GuardHit, TargetPattern.Mono)] = 5.1,
        [(NativeMechanism.GuardMiss, TargetPattern.Mono)] = 41.0,
        [(NativeMechanism.GuardMiss, TargetPattern.Alternate)] = 41.0,
        [(NativeMechanism.GuardMiss, TargetPattern.Random)] = 41.0,
        [(NativeMechanism.StaticCall, TargetPattern.Mono)] = 4.05,
        [(NativeMechanism.StaticCallTrampoline, TargetPattern.Mono)] = 4.1,
    };

    private static NativeLabReport Report(IEnumerable<KeyValuePair<(NativeMechanism, TargetPattern), double>> figures) =>
        new(true, null, 2.5, 4.0, 1000, 3, true,
            [.. figures.Select(f => new NativeLabResult(f.Key.Item1, f.Key.Item2, new(1, 1, 1), new(f.Value, f.Value + 1, f.Value + 2)))])
        {
            Retarget = (new(100, 150, 200), new(1000, 1500, 2000)),
        };

    /// <summary>Each figure's minimum is the measured value (medians are one cycle more: calibration must ignore them).</summary>
    [Test]
    public void MeasuredCostsInvertTheModelsSums()
    {
        var profile = NativeCalibration.DeriveHostProfile(Report(Measured), CpuProfiles.Zen5, Mitigation.Retpoline);

        Assert.Multiple(() =>
        {
            Assert.That(profile.Name, Is.EqualTo("host"));
            Assert.That(profile.DefaultMitigation, Is.EqualTo(Mitigation.Retpoline));
            Assert.That(profile.NominalGhz, Is.EqualTo(4.0));
            Assert.That(profile.DirectCall, Is.EqualTo(4.2));
            Assert.That(profile.PredictedIndirectCall, Is.EqualTo(6.0));
            Assert.That(profile.MispredictPenalty, Is.EqualTo(28.0), "(27 - 6) / (3/4)");
            Assert.That(profile.RetpolineThunk, Is.EqualTo(0.0), "31 - 4.2 - 28 is negative: clamped");
            Assert.That(profile.Lfence, Is.EqualTo(13.0));
            Assert.That(profile.MispredictAfterLfence, Is.EqualTo(10.0), "(26.5 - 19) / (3/4)");
            Assert.That(profile.GuardCompare, Is.EqualTo(0.9).Within(1e-9));
            Assert.That(profile.PatchedCall, Is.EqualTo(4.05));
            Assert.That(profile.TrampolineJump, Is.EqualTo(0.0), "4.1 - 4.2 is negative: clamped");
            Assert.That(profile.TextPoke, Is.EqualTo(3000.0), "three syncs of the fastest measured retarget");
            Assert.That(profile.BtbSets, Is.EqualTo(CpuProfiles.Zen5.BtbSets), "unmeasurable geometry comes from the basis");
            Assert.That(profile.EibrsIndirectOverhead, Is.EqualTo(CpuProfiles.Zen5.EibrsIndirectOverhead));
        });
    }

    [Test]
    public void SavedProfileIsWhatHostResolvesTo()
    {
        var profile = NativeCalibration.DeriveHostProfile(Report(Measured), CpuProfiles.IceLake, Mitigation.Eibrs);
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-host-{Guid.NewGuid():N}.json");
        try
        {
            profile.Save(path);
            Assert.That(CpuProfiles.Resolve(CpuProfiles.HostName, path), Is.EqualTo(profile));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MissingMechanismIsNamed()
    {
        var partial = Measured.Where(f => f.Key.Item1 != NativeMechanism.RetpolineLfence);
        Assert.That(() => NativeCalibration.DeriveHostProfile(Report(partial), CpuProfiles.Zen5, Mitigation.Retpoline),
            Throws.InvalidOperationException.With.Message.Contains("retpoline-lfence/mono"));
    }

    [Test]
    public void UnsupportedReportCannotBeCalibrated() =>
        Assert.That(() => NativeCalibration.DeriveHostProfile(NativeLabReport.Unsupported("no"), CpuProfiles.Zen5),
            Throws.InvalidOperationException.With.Message.Contains("not supported"));

    [TestCase("Mitigation: Retpolines; STIBP: disabled; RSB filling; PBRSB-eIBRS: Not affected; BHI: Retpoline", Mitigation.Retpoline)]
    [TestCase("Mitigation: Enhanced / Automatic IBRS; IBPB: conditional; RSB filling; PBRSB-eIBRS: SW sequence", Mitigation.Eibrs)]
    [TestCase("Mitigation: Enhanced IBRS, IBPB: conditional, RSB filling", Mitigation.Eibrs)]
    [TestCase("Mitigation: LFENCE; IBPB: conditional; STIBP: disabled; RSB filling", Mitigation.RetpolineLfence)]
    [TestCase("Mitigation: IBRS; IBPB: conditional; RSB filling", Mitigation.Ibrs)]
    [TestCase("Vulnerable, IBPB: disabled, STIBP: disabled", Mitigation.None)]
    public void SpectreV2LineNamesTheMitigation(string line, Mitigation expected) =>
        Assert.That(NativeCalibration.ParseSpectreV2(line), Is.EqualTo(expected));

    [Test]
    public void UnknownSpectreV2LineIsNull() => Assert.That(NativeCalibration.ParseSpectreV2("Not affected"), Is.Null);
}
