namespace Kernel.Sim.Cpu;

/// <summary>
/// Modelled cycles and events charged to one simulated CPU. Only that CPU's thread writes it, so it needs no
/// synchronisation; read it when the CPU is quiet.
/// </summary>
public sealed class CycleAccount
{
    /// <summary>Modelled core cycles.</summary>
    public double Cycles { get; private set; }

    /// <summary>Calls of any kind (direct, indirect, patched, guarded).</summary>
    public long Calls { get; private set; }

    /// <summary>Indirect calls that reached the (mitigated) indirect path.</summary>
    public long IndirectCalls { get; private set; }

    /// <summary>Mispredicted branches: indirect targets, returns, guard conditions.</summary>
    public long Mispredicts { get; private set; }

    /// <summary>Returns that found the RSB empty.</summary>
    public long RsbUnderflows { get; private set; }

    /// <summary>text_poke_bp sequences run by this CPU.</summary>
    public long TextPokes { get; private set; }

    /// <summary>Adds cycles.</summary>
    public void Charge(double cycles) => Cycles += cycles;

    internal void CountCall() => Calls++;

    internal void CountIndirect() => IndirectCalls++;

    internal void CountMispredict() => Mispredicts++;

    internal void CountRsbUnderflow() => RsbUnderflows++;

    internal void CountTextPoke() => TextPokes++;

    /// <summary>Zeroes every counter.</summary>
    public void Reset()
    {
        Cycles = 0;
        Calls = IndirectCalls = Mispredicts = RsbUnderflows = TextPokes = 0;
    }
}
