namespace Kernel.Sim.Cpu;

/// <summary>
/// The Spectre v2 mitigation an indirect call runs under, named as in Linux's
/// <c>spectre_v2=</c> boot parameter and <c>/sys/devices/system/cpu/vulnerabilities/spectre_v2</c>.
/// </summary>
public enum Mitigation
{
    /// <summary>No mitigation: a plain <c>call *%rax</c> predicted by the branch target buffer.</summary>
    None,

    /// <summary>Generic retpoline (<c>call __x86_indirect_thunk_rax</c>): the return is always mispredicted on purpose.</summary>
    Retpoline,

    /// <summary>AMD-style <c>retpoline,lfence</c>: <c>lfence; jmp *%rax</c>, predicted but serialised.</summary>
    RetpolineLfence,

    /// <summary>Enhanced IBRS: hardware isolates predictions across privilege levels; the call stays <c>call *%rax</c>.</summary>
    Eibrs,

    /// <summary>Legacy IBRS: the IBRS bit is written on kernel entry and restricts indirect prediction while set.</summary>
    Ibrs,
}
