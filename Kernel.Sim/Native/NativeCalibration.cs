using Kernel.Sim.Cpu;

namespace Kernel.Sim.Native;

/// <summary>
/// Turns a <see cref="NativeLabReport"/> into the <c>host</c> <see cref="CpuProfile"/>: every cost the lab can
/// measure comes from this machine (cycles per call, dependent chain, the minimum over repetitions: like the clock
/// calibration, a repetition can only be slowed down by preemption or a noisy neighbour, so the fastest one is the
/// least disturbed; on a quiet machine minimum and median agree within a few percent); what user mode cannot measure
/// (eIBRS/IBRS overheads, static-key NOP and jump, BTB and RSB geometry) comes from the built-in profile of the
/// same CPU vendor. The derivation (see docs/native-lab.md) inverts the cost model's sums:
/// <code>
/// direct                  = DirectCall
/// indirect/mono           = PredictedIndirectCall
/// indirect/random         = PredictedIndirectCall + 3/4 × MispredictPenalty      (4 random targets: 3 in 4 mispredict)
/// retpoline               = DirectCall + RetpolineThunk + MispredictPenalty     (the thunk's ret always mispredicts)
/// retpoline-lfence/mono   = PredictedIndirectCall + Lfence
/// retpoline-lfence/random = PredictedIndirectCall + Lfence + 3/4 × MispredictAfterLfence
/// guard-hit               = DirectCall + GuardCompare
/// static-call             = PatchedCall
/// static-call-trampoline  = DirectCall + TrampolineJump
/// TextPoke                = 3 × one measured retarget (text_poke_bp syncs three times, our protocol once)
/// </code>
/// A difference that measures negative (noise on a loaded machine) is clamped to 0.
/// </summary>
public static class NativeCalibration
{
    /// <summary>Fraction of calls that mispredict when each call picks one of four targets uniformly at random.</summary>
    public const double RandomMissRate = 3.0 / 4.0;

    /// <summary>text_poke_bp's synchronisations per update (after int3, after the tail, after the first byte).</summary>
    public const int TextPokeSyncs = 3;

    private const string SpectreV2Path = "/sys/devices/system/cpu/vulnerabilities/spectre_v2";

    /// <summary>
    /// The <c>host</c> profile derived from <paramref name="report"/>, which must hold every mechanism with its
    /// patterns. <paramref name="basis"/> supplies the unmeasurable parameters (default: by CPU vendor);
    /// <paramref name="mitigation"/> the default mitigation (default: what this kernel reports for spectre_v2).
    /// </summary>
    public static CpuProfile DeriveHostProfile(NativeLabReport report, CpuProfile? basis = null, Mitigation? mitigation = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!report.Supported)
            throw new InvalidOperationException($"cannot calibrate: the native lab is not supported here ({report.Reason})");
        basis ??= BasisForThisHost();
        double Cycles(NativeMechanism m, TargetPattern p) =>
            report.Find(m, p)?.Cycles.Min
            ?? throw new InvalidOperationException($"cannot calibrate: {m.Name()}/{p.Name()} was not measured");

        var direct = Cycles(NativeMechanism.Direct, TargetPattern.Mono);
        var indirect = Cycles(NativeMechanism.Indirect, TargetPattern.Mono);
        var mispredict = Positive((Cycles(NativeMechanism.Indirect, TargetPattern.Random) - indirect) / RandomMissRate);
        var lfenceMono = Cycles(NativeMechanism.RetpolineLfence, TargetPattern.Mono);
        var lfenceRandom = Cycles(NativeMechanism.RetpolineLfence, TargetPattern.Random);
        return (basis with
        {
            Name = CpuProfiles.HostName,
            Description = $"this host, calibrated by `kernelsim lab --calibrate` at {report.CoreGhz:F2} GHz core / {report.TscGhz:F2} GHz TSC; "
                          + $"unmeasurable parameters from '{basis.Name}'",
            DefaultMitigation = mitigation ?? ReadHostMitigation() ?? basis.DefaultMitigation,
            NominalGhz = Math.Round(report.CoreGhz, 3),
            DirectCall = Positive(direct),
            PredictedIndirectCall = Positive(indirect),
            MispredictPenalty = mispredict,
            RetpolineThunk = Positive(Cycles(NativeMechanism.Retpoline, TargetPattern.Mono) - direct - mispredict),
            Lfence = Positive(lfenceMono - indirect),
            MispredictAfterLfence = Positive((lfenceRandom - lfenceMono) / RandomMissRate),
            GuardCompare = Positive(Cycles(NativeMechanism.GuardHit, TargetPattern.Mono) - direct),
            PatchedCall = Positive(Cycles(NativeMechanism.StaticCall, TargetPattern.Mono)),
            TrampolineJump = Positive(Cycles(NativeMechanism.StaticCallTrampoline, TargetPattern.Mono) - direct),
            TextPoke = report.Retarget is { } retarget ? Positive(TextPokeSyncs * retarget.Cycles.Min) : basis.TextPoke,
        }).Validate();
    }

    /// <summary>The built-in profile closest to this host's vendor: <c>zen5</c> for AMD, <c>icelake</c> otherwise.</summary>
    public static CpuProfile BasisForThisHost()
    {
        var vendor = "";
        try
        {
            vendor = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("vendor_id", StringComparison.Ordinal)) ?? "";
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return vendor.Contains("AuthenticAMD", StringComparison.Ordinal) ? CpuProfiles.Zen5 : CpuProfiles.IceLake;
    }

    /// <summary>
    /// The mitigation a <c>/sys/devices/system/cpu/vulnerabilities/spectre_v2</c> line names, or null when it
    /// names none this model knows (<c>Mitigation: Retpolines; ...</c> → retpoline, <c>Enhanced / Automatic IBRS</c>
    /// → eIBRS, <c>LFENCE</c> → retpoline,lfence, <c>Vulnerable</c> → none).
    /// </summary>
    public static Mitigation? ParseSpectreV2(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var first = line.Split(';')[0];
        if (first.StartsWith("Vulnerable", StringComparison.Ordinal))
            return Mitigation.None;
        if (first.Contains("Enhanced", StringComparison.Ordinal))
            return Mitigation.Eibrs;
        if (first.Contains("LFENCE", StringComparison.Ordinal))
            return Mitigation.RetpolineLfence;
        if (first.Contains("Retpoline", StringComparison.Ordinal))
            return Mitigation.Retpoline;
        if (first.Contains("IBRS", StringComparison.Ordinal))
            return Mitigation.Ibrs;
        return null;
    }

    private static Mitigation? ReadHostMitigation()
    {
        try
        {
            return File.Exists(SpectreV2Path) ? ParseSpectreV2(File.ReadAllText(SpectreV2Path).Trim()) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Two decimals: finer digits are noise even on a quiet machine, and the profile file stays readable.
    private static double Positive(double cycles) => Math.Round(Math.Max(0, cycles), 2);
}
