namespace Kernel.Sim.Cpu;

/// <summary>What a CPU predicts for a <c>ret</c> when its return stack buffer is empty.</summary>
public enum RsbUnderflow
{
    /// <summary>
    /// Falls back to the branch target buffer (Intel Skylake and later): the prediction may be right if the BTB has
    /// seen this return before. This fallback is why Skylake needs RSB stuffing for retpolines to stay safe.
    /// </summary>
    FallBackToBtb,

    /// <summary>No prediction (AMD): the return resolves late and costs a mispredict.</summary>
    Mispredict,
}
