namespace Kernel.Sim.Bpf.Interpreter;

/// <summary>Limits of an interpreter instance.</summary>
public sealed class BpfInterpreterOptions
{
    /// <summary>Linux's MAX_CALL_FRAMES: the main program plus up to 7 nested local calls.</summary>
    public const int MaxCallFrames = 8;

    /// <summary>Linux's MAX_BPF_STACK: bytes of stack per frame.</summary>
    public const int FrameSize = 512;

    /// <summary>Instructions one run may execute before it is stopped (Linux has no run-time budget; this catches endless loops of unverified programs).</summary>
    public long InstructionBudget { get; set; } = 10_000_000;
}
