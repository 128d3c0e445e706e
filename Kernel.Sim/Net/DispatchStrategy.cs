using Kernel.Sim.Cpu;

namespace Kernel.Sim.Net;

/// <summary>How every indirect call site of the receive path dispatches (one strategy for the whole path).</summary>
public enum DispatchStrategy
{
    /// <summary>Plain <c>call *%rax</c>, no Spectre v2 mitigation.</summary>
    Indirect,

    /// <summary>Generic retpoline thunk.</summary>
    Retpoline,

    /// <summary>AMD's <c>lfence; jmp *%rax</c>.</summary>
    RetpolineLfence,

    /// <summary>Enhanced IBRS: <c>call *%rax</c> with hardware isolation.</summary>
    Eibrs,

    /// <summary>Linux's INDIRECT_CALL wrappers with the kernel's candidates, retpoline on a miss.</summary>
    Guards,

    /// <summary>A static_call per site patched to the site's configured target, compared first; retpoline otherwise.</summary>
    StaticCall,

    /// <summary>Adaptive devirtualisation: each site learns its hot targets and repatches its guard; retpoline on a miss.</summary>
    Adaptive,
}

/// <summary>Command-line names of the strategies.</summary>
public static class DispatchStrategies
{
    /// <summary>Every strategy in report order.</summary>
    public static IReadOnlyList<DispatchStrategy> All { get; } = Enum.GetValues<DispatchStrategy>();

    /// <summary>The name used by <c>kernelsim run --strategy</c> and in JSON.</summary>
    public static string Name(this DispatchStrategy strategy) => strategy switch
    {
        DispatchStrategy.Indirect => "indirect",
        DispatchStrategy.Retpoline => "retpoline",
        DispatchStrategy.RetpolineLfence => "retpoline-lfence",
        DispatchStrategy.Eibrs => "eibrs",
        DispatchStrategy.Guards => "guards",
        DispatchStrategy.StaticCall => "static-call",
        _ => "adaptive",
    };

    /// <summary>Parses a name; null when unknown.</summary>
    public static DispatchStrategy? Parse(string name) =>
        All.Select(s => (DispatchStrategy?)s).FirstOrDefault(s => s!.Value.Name() == name);

    /// <summary>
    /// The mitigation of the indirect calls that remain: the strategy's own for the plain strategies; retpoline for the
    /// devirtualising ones (they exist because of retpoline) and for <c>deliver_skb</c>, which Linux never wraps.
    /// </summary>
    public static Mitigation Mitigation(this DispatchStrategy strategy) => strategy switch
    {
        DispatchStrategy.Indirect => Cpu.Mitigation.None,
        DispatchStrategy.RetpolineLfence => Cpu.Mitigation.RetpolineLfence,
        DispatchStrategy.Eibrs => Cpu.Mitigation.Eibrs,
        _ => Cpu.Mitigation.Retpoline,
    };
}
