using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kernel.Sim.Cpu;

/// <summary>
/// Every cost the dispatch model charges, in core cycles per call, for one class of CPU. Costs are for a call and
/// its return to a trivial target in a dependent chain (the shape the native lab measures). Each figure and its
/// source is listed in docs/cost-model.md; <see cref="CpuProfiles"/> holds the built-in profiles and the
/// <c>host</c> profile written by <c>kernelsim lab --calibrate</c>.
/// </summary>
public sealed record CpuProfile
{
    /// <summary>Profile name as given to <c>--profile</c> (<c>skylake</c>, <c>zen2</c>, <c>icelake</c>, <c>host</c>...).</summary>
    public required string Name { get; init; }

    /// <summary>One line saying what the profile stands for and where its figures come from.</summary>
    public string Description { get; init; } = "";

    /// <summary>The mitigation Linux picks by default on this class of CPU.</summary>
    public Mitigation DefaultMitigation { get; init; } = Mitigation.Retpoline;

    /// <summary>Nominal core clock, only used to turn modelled cycles into nanoseconds.</summary>
    public double NominalGhz { get; init; } = 3.0;

    /// <summary><c>call rel32</c> + <c>ret</c> of a trivial target.</summary>
    public double DirectCall { get; init; }

    /// <summary><c>call *%rax</c> + <c>ret</c> whose target the BTB predicted correctly.</summary>
    public double PredictedIndirectCall { get; init; }

    /// <summary>Extra cycles when a branch (indirect target, return, or guard condition) is mispredicted.</summary>
    public double MispredictPenalty { get; init; }

    /// <summary>
    /// Cycles of the generic retpoline thunk beyond its deliberately mispredicted <c>ret</c>: the inner call,
    /// the <c>mov %rax,(%rsp)</c> and the <c>ret</c> itself. The mispredict is charged separately through the RSB model.
    /// </summary>
    public double RetpolineThunk { get; init; }

    /// <summary>Cycles of the <c>lfence</c> in an <c>lfence; jmp *%rax</c> thunk (dispatch serialisation).</summary>
    public double Lfence { get; init; }

    /// <summary>
    /// Penalty of a mispredicted <c>jmp *%rax</c> right after an <c>lfence</c>: smaller than a full mispredict
    /// because nothing younger than the jump has been dispatched and its target register is ready.
    /// </summary>
    public double MispredictAfterLfence { get; init; }

    /// <summary>Extra cycles per indirect call with enhanced IBRS on (range 0–2 in published measurements).</summary>
    public double EibrsIndirectOverhead { get; init; }

    /// <summary>Extra cycles per indirect call with legacy IBRS set (restricted prediction while the bit is set).</summary>
    public double IbrsIndirectOverhead { get; init; }

    /// <summary>Cycles of the <c>wrmsr IA32_SPEC_CTRL</c> on each kernel entry and exit under legacy IBRS.</summary>
    public double IbrsEntry { get; init; }

    /// <summary>One predicted <c>cmp</c> + <c>jne</c> of an INDIRECT_CALL guard (macro-fused on every modelled core).</summary>
    public double GuardCompare { get; init; }

    /// <summary>A <c>call rel32</c> written into the caller by static_call (inline flavour).</summary>
    public double PatchedCall { get; init; }

    /// <summary>The extra <c>jmp rel32</c> of an out-of-line static_call trampoline, on top of <see cref="DirectCall"/>.</summary>
    public double TrampolineJump { get; init; }

    /// <summary>A 5-byte NOP: a disabled static key, or a static_call_cond / RET0 site patched to do nothing.</summary>
    public double PatchedNop { get; init; }

    /// <summary>A taken <c>jmp</c> of an enabled static key (or an unlikely branch taken).</summary>
    public double StaticKeyJump { get; init; }

    /// <summary>
    /// One text_poke_bp on the updating CPU: three writes each followed by a sync IPI to every CPU. A range of
    /// microseconds is published; the figure is a representative midpoint.
    /// </summary>
    public double TextPoke { get; init; }

    /// <summary>Number of sets of the indirect branch target buffer (a power of two).</summary>
    public int BtbSets { get; init; } = 512;

    /// <summary>Ways per set (replacement is least recently used).</summary>
    public int BtbWays { get; init; } = 4;

    /// <summary>Bits of global path history hashed into the BTB index and tag (0 = site address only).</summary>
    public int BtbHistoryBits { get; init; } = 16;

    /// <summary>Return stack buffer entries.</summary>
    public int RsbDepth { get; init; } = 16;

    /// <summary>What a <c>ret</c> predicts when the RSB is empty.</summary>
    public RsbUnderflow RsbUnderflow { get; init; } = RsbUnderflow.FallBackToBtb;

    /// <summary>Checks every parameter; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public CpuProfile Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("CPU profile: name is empty");
        Check(NominalGhz > 0, nameof(NominalGhz), "must be positive");
        foreach (var (name, value) in Costs())
            Check(value >= 0 && double.IsFinite(value), name, "must be a finite, non-negative cycle count");
        Check(BtbSets > 0 && (BtbSets & (BtbSets - 1)) == 0, nameof(BtbSets), "must be a power of two");
        Check(BtbWays is > 0 and <= 64, nameof(BtbWays), "must be 1..64");
        Check(BtbHistoryBits is >= 0 and <= 64, nameof(BtbHistoryBits), "must be 0..64");
        Check(RsbDepth is > 0 and <= 256, nameof(RsbDepth), "must be 1..256");
        return this;
    }

    /// <summary>Every cycle-valued parameter with its property name, in declaration order.</summary>
    public IEnumerable<(string Name, double Cycles)> Costs()
    {
        yield return (nameof(DirectCall), DirectCall);
        yield return (nameof(PredictedIndirectCall), PredictedIndirectCall);
        yield return (nameof(MispredictPenalty), MispredictPenalty);
        yield return (nameof(RetpolineThunk), RetpolineThunk);
        yield return (nameof(Lfence), Lfence);
        yield return (nameof(MispredictAfterLfence), MispredictAfterLfence);
        yield return (nameof(EibrsIndirectOverhead), EibrsIndirectOverhead);
        yield return (nameof(IbrsIndirectOverhead), IbrsIndirectOverhead);
        yield return (nameof(IbrsEntry), IbrsEntry);
        yield return (nameof(GuardCompare), GuardCompare);
        yield return (nameof(PatchedCall), PatchedCall);
        yield return (nameof(TrampolineJump), TrampolineJump);
        yield return (nameof(PatchedNop), PatchedNop);
        yield return (nameof(StaticKeyJump), StaticKeyJump);
        yield return (nameof(TextPoke), TextPoke);
    }

    private void Check(bool ok, string property, string what)
    {
        if (!ok)
            throw new ArgumentException($"CPU profile '{Name}': {JsonNamingPolicy.SnakeCaseLower.ConvertName(property)} {what}");
    }

    /// <summary>JSON options of the profile file format: snake_case names, enums as strings, indented.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The profile as JSON (the format of <c>host-profile.json</c>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Parses and validates a profile; <paramref name="source"/> names the file in error messages.</summary>
    public static CpuProfile FromJson(string json, string source = "profile")
    {
        CpuProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<CpuProfile>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $":{line + 1}:{(e.BytePositionInLine ?? 0) + 1}" : "";
            throw new FormatException($"{source}{where}: not a CPU profile: {e.Message}", e);
        }

        if (profile is null)
            throw new FormatException($"{source}: not a CPU profile: null");
        try
        {
            return profile.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Writes the profile to <paramref name="path"/>, creating its directory.</summary>
    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        File.WriteAllText(path, ToJson() + "\n");
    }

    /// <summary>Reads and validates a profile file.</summary>
    public static CpuProfile Load(string path) => FromJson(File.ReadAllText(path), path);
}
