namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// A loaded program a prog array can hold (the value behind a program fd). Each engine implements it for its own
/// loaded form; a tail call switches to the target only when the calling engine knows how to run it.
/// </summary>
public interface IBpfProgram
{
    /// <summary>The program's name (bpf_prog_info.name), empty when it has none.</summary>
    string Name { get; }
}
