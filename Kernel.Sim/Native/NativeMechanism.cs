namespace Kernel.Sim.Native;

/// <summary>
/// The call shapes the native lab generates as x86-64 machine code. Names (<see cref="NativeMechanisms.Name"/>)
/// are those of <c>kernelsim model</c>. Two of the model's mechanisms have no user-mode equivalent: <c>eibrs</c>
/// (enhanced IBRS is an MSR only the kernel sets; user mode runs under whatever the host chose) and
/// <c>adaptive</c> (a kernel run-time patching policy, not a call shape).
/// </summary>
public enum NativeMechanism
{
    /// <summary><c>call rel32</c> to the target.</summary>
    Direct,

    /// <summary><c>call rax</c>: what an indirect call is without mitigations or under eIBRS.</summary>
    Indirect,

    /// <summary><c>call __x86_indirect_thunk_rax</c>, the generic retpoline (RSB-steered <c>ret</c>, speculation trapped in <c>pause; lfence</c>).</summary>
    Retpoline,

    /// <summary><c>call</c> to an <c>lfence; jmp rax</c> thunk: AMD's <c>retpoline,lfence</c>.</summary>
    RetpolineLfence,

    /// <summary>INDIRECT_CALL_1 guard whose candidate is the target: <c>cmp rax, r15; jne miss; call candidate</c>.</summary>
    GuardHit,

    /// <summary>The same guard with a candidate that never matches: compare, mispredict-free <c>jne</c>, retpoline.</summary>
    GuardMiss,

    /// <summary>Inline static_call: a <c>call rel32</c> in the loop, repatched in place.</summary>
    StaticCall,

    /// <summary>Out-of-line static_call: <c>call</c> to a trampoline that is one patchable <c>jmp rel32</c>.</summary>
    StaticCallTrampoline,
}

/// <summary>Names and properties of <see cref="NativeMechanism"/>.</summary>
public static class NativeMechanisms
{
    /// <summary>Every mechanism in report order.</summary>
    public static IReadOnlyList<NativeMechanism> All { get; } = Enum.GetValues<NativeMechanism>();

    /// <summary>Mechanisms of <c>kernelsim model</c> that user-mode code cannot create, with the reason.</summary>
    public static IReadOnlyDictionary<string, string> NotMeasurable { get; } = new Dictionary<string, string>
    {
        ["eibrs"] = "enhanced IBRS is enabled by the kernel through IA32_SPEC_CTRL; user mode cannot switch it (its cost is the host's indirect call under whatever mode the host runs)",
        ["adaptive"] = "adaptive devirtualization is a kernel run-time policy that repatches guards; its steady state is guard-hit, its learning phase guard-miss",
    };

    /// <summary>The <c>kernelsim model</c> name: <c>direct</c>, <c>retpoline-lfence</c>, <c>static-call-trampoline</c>...</summary>
    public static string Name(this NativeMechanism mechanism) => mechanism switch
    {
        NativeMechanism.Direct => "direct",
        NativeMechanism.Indirect => "indirect",
        NativeMechanism.Retpoline => "retpoline",
        NativeMechanism.RetpolineLfence => "retpoline-lfence",
        NativeMechanism.GuardHit => "guard-hit",
        NativeMechanism.GuardMiss => "guard-miss",
        NativeMechanism.StaticCall => "static-call",
        NativeMechanism.StaticCallTrampoline => "static-call-trampoline",
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, null),
    };

    /// <summary>Parses a <c>kernelsim model</c> name; false for an unknown one.</summary>
    public static bool TryParse(string name, out NativeMechanism mechanism)
    {
        foreach (var m in All)
        {
            if (m.Name() == name)
            {
                mechanism = m;
                return true;
            }
        }

        mechanism = default;
        return false;
    }

    /// <summary>
    /// The patterns worth measuring: a direct call, a hit guard and a static_call have one target by construction;
    /// the indirect shapes are measured with one, two alternating and four random targets (random is the
    /// mispredicted indirect call).
    /// </summary>
    public static IReadOnlyList<TargetPattern> Patterns(this NativeMechanism mechanism) => mechanism switch
    {
        NativeMechanism.Direct or NativeMechanism.GuardHit or NativeMechanism.StaticCall or NativeMechanism.StaticCallTrampoline => [TargetPattern.Mono],
        _ => [TargetPattern.Mono, TargetPattern.Alternate, TargetPattern.Random],
    };
}
