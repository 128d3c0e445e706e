using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing;

/// <summary>
/// Something called when a traced function returns (function_graph's return callback, a kretprobe's rethook). An ftrace
/// callback asks for it with <see cref="Ftrace.HookReturn"/>; the trampoline calls it after the body with the return
/// value in <c>regs.ax</c> and <c>regs.ip</c> set to the return address, newest hook first.
/// </summary>
public abstract class FunctionReturnHandler
{
    private volatile bool _active = true;

    /// <summary>False once unregistered: pending returns are then abandoned instead of handled.</summary>
    public bool Active
    {
        get => _active;
        set => _active = value;
    }

    /// <summary>Handles one return. <paramref name="data"/> is what the entry callback pushed with the hook.</summary>
    public abstract void OnReturn(KernelFunction function, ulong parentIp, ulong data, ref PtRegs regs);

    /// <summary>Called instead of <see cref="OnReturn"/> for a pending return of an inactive handler (to free resources).</summary>
    public virtual void Abandon(ulong data)
    {
    }
}
