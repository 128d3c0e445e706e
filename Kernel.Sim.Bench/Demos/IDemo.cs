namespace Kernel.Sim.Bench.Demos;

/// <summary>
/// A narrated teaching demo: it explains a mechanism in steps and shows, at each step, real output of the simulated
/// kernel (model figures, trace lines, patched bytes) produced by running the code, never canned text.
/// </summary>
public interface IDemo
{
    /// <summary>The name given to <c>kernelsim demo NAME</c>.</summary>
    string Name { get; }

    /// <summary>One line for <c>kernelsim demo list</c>.</summary>
    string Description { get; }

    /// <summary>Runs the demo, narrating through <paramref name="session"/>.</summary>
    void Run(DemoSession session);
}
