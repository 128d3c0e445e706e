namespace Kernel.Sim.Cpu;

/// <summary>
/// The named <see cref="CpuProfile"/>s: built-in classes of CPU (figures and sources in docs/cost-model.md) and the
/// <c>host</c> profile that <c>kernelsim lab --calibrate</c> measures and saves as JSON.
/// </summary>
public static class CpuProfiles
{
    /// <summary>The name that selects the calibrated profile file instead of a built-in one.</summary>
    public const string HostName = "host";

    /// <summary>Environment variable that overrides <see cref="DefaultHostProfilePath"/>.</summary>
    public const string HostProfileVariable = "KERNELSIM_HOST_PROFILE";

    /// <summary>Intel Skylake client (2015–2019): the retpoline era; RSB underflow falls back to the BTB.</summary>
    public static CpuProfile Skylake { get; } = new CpuProfile
    {
        Name = "skylake",
        Description = "Intel Skylake-class (retpoline era); Intel optimization manual, Agner Fog, LKML retpoline threads",
        DefaultMitigation = Mitigation.Retpoline,
        NominalGhz = 4.0,
        DirectCall = 4.0,
        PredictedIndirectCall = 5.0,
        MispredictPenalty = 17.0,
        RetpolineThunk = 5.0,
        Lfence = 14.0,
        MispredictAfterLfence = 8.0,
        EibrsIndirectOverhead = 0.0,
        IbrsIndirectOverhead = 12.0,
        IbrsEntry = 120.0,
        GuardCompare = 1.0,
        PatchedCall = 4.0,
        TrampolineJump = 1.0,
        PatchedNop = 0.25,
        StaticKeyJump = 1.0,
        TextPoke = 20_000.0,
        BtbSets = 1024,
        BtbWays = 4,
        BtbHistoryBits = 32,
        RsbDepth = 16,
        RsbUnderflow = RsbUnderflow.FallBackToBtb,
    }.Validate();

    /// <summary>AMD Zen 2 (2019): the <c>retpoline,lfence</c> era; RSB underflow gives no prediction.</summary>
    public static CpuProfile Zen2 { get; } = Skylake with
    {
        Name = "zen2",
        Description = "AMD Zen 2-class (retpoline,lfence era); AMD SOG for family 17h, Agner Fog, AMD speculation whitepaper",
        DefaultMitigation = Mitigation.RetpolineLfence,
        NominalGhz = 3.5,
        DirectCall = 4.0,
        PredictedIndirectCall = 5.0,
        MispredictPenalty = 18.0,
        RetpolineThunk = 5.0,
        Lfence = 12.0,
        MispredictAfterLfence = 7.0,
        IbrsIndirectOverhead = 10.0,
        IbrsEntry = 100.0,
        TrampolineJump = 0.5,
        BtbSets = 256,
        BtbWays = 4,
        BtbHistoryBits = 32,
        RsbDepth = 32,
        RsbUnderflow = RsbUnderflow.Mispredict,
    };

    /// <summary>Intel Ice Lake and later: enhanced IBRS, so indirect calls stay plain <c>call *%rax</c>.</summary>
    public static CpuProfile IceLake { get; } = Skylake with
    {
        Name = "icelake",
        Description = "Intel Ice Lake-class (eIBRS era); Intel optimization manual, Intel eIBRS guidance, Agner Fog",
        DefaultMitigation = Mitigation.Eibrs,
        NominalGhz = 3.9,
        MispredictPenalty = 17.0,
        EibrsIndirectOverhead = 0.5,
        BtbSets = 2048,
        BtbWays = 4,
        BtbHistoryBits = 48,
    };

    /// <summary>AMD Zen 5 guest: the machine of record of issue 5, fitted to its measured cycles per call.</summary>
    public static CpuProfile Zen5 { get; } = Zen2 with
    {
        Name = "zen5",
        Description = "AMD Zen 5 guest (machine of record, issue 5): fitted to measured cycles per call",
        DefaultMitigation = Mitigation.Eibrs,
        NominalGhz = 4.0,
        DirectCall = 4.2,
        PredictedIndirectCall = 6.0,
        MispredictPenalty = 21.0,
        RetpolineThunk = 6.0,
        Lfence = 13.0,
        MispredictAfterLfence = 9.0,
        EibrsIndirectOverhead = 0.3,
        GuardCompare = 0.9,
        PatchedCall = 4.05,
        TrampolineJump = 0.0,
        BtbSets = 1024,
        BtbWays = 8,
        BtbHistoryBits = 64,
        RsbDepth = 32,
    };

    /// <summary>The built-in profiles in a stable order.</summary>
    public static IReadOnlyList<CpuProfile> BuiltIn { get; } = [Skylake, Zen2, IceLake, Zen5];

    /// <summary>Every name <see cref="Resolve"/> accepts, built-ins first, then <c>host</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. BuiltIn.Select(p => p.Name), HostName];

    /// <summary>Where the calibrated host profile lives: <c>$KERNELSIM_HOST_PROFILE</c> or <c>~/.kernelsim/host-profile.json</c>.</summary>
    public static string DefaultHostProfilePath
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable(HostProfileVariable);
            if (!string.IsNullOrEmpty(overridden))
                return overridden;
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".kernelsim", "host-profile.json");
        }
    }

    /// <summary>A built-in profile by name (case-insensitive), or null.</summary>
    public static CpuProfile? FindBuiltIn(string name) =>
        BuiltIn.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The profile called <paramref name="name"/>: a built-in one, or for <c>host</c> the JSON file at
    /// <paramref name="hostProfilePath"/> (default <see cref="DefaultHostProfilePath"/>). Throws
    /// <see cref="ArgumentException"/> for an unknown name and <see cref="FileNotFoundException"/> /
    /// <see cref="FormatException"/> for a missing or bad host file, each naming what was wrong.
    /// </summary>
    public static CpuProfile Resolve(string name, string? hostProfilePath = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.Equals(name, HostName, StringComparison.OrdinalIgnoreCase))
        {
            var path = hostProfilePath ?? DefaultHostProfilePath;
            if (!File.Exists(path))
                throw new FileNotFoundException($"no host profile at {path}: run `kernelsim lab --calibrate` first", path);
            return CpuProfile.Load(path);
        }

        return FindBuiltIn(name)
            ?? throw new ArgumentException($"unknown CPU profile '{name}' (known: {string.Join(", ", Names)})", nameof(name));
    }
}
