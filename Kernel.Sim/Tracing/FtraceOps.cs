using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing;

/// <summary>ftrace_func_t: <c>(ip, parent_ip, ops, regs)</c>. <paramref name="ip"/> is the traced function's address.</summary>
public delegate void FtraceFunc(ulong ip, ulong parentIp, FtraceOps ops, ref PtRegs regs);

/// <summary>
/// The trampoline's calling convention for the kernel's own ops (kprobe_ftrace_ops, BPF trampolines): the function
/// and the CPU it already resolved are passed, so the callback needs no address lookup and no current-CPU lookup.
/// </summary>
internal delegate void FtraceFunctionCallback(KernelFunction function, ulong parentIp, SimulatedCpu cpu, ref PtRegs regs);

/// <summary>FTRACE_OPS_FL_* flags that KernelSim gives meaning to.</summary>
[Flags]
public enum FtraceOpsFlags
{
    None = 0,
    /// <summary>Wants a full pt_regs (KernelSim always builds one; the flag is recorded for listings and IPMODIFY).</summary>
    SaveRegs = 1 << 0,
    /// <summary>FTRACE_OPS_FL_RECURSION: ftrace protects the callback against recursion (per context).</summary>
    Recursion = 1 << 1,
    /// <summary>May change regs->ip to divert the function (livepatch); at most one such ops per function.</summary>
    IpModify = 1 << 2,
}

/// <summary>
/// struct ftrace_ops: a callback, flags, and its own filter and notrace hashes. An empty filter means every traceable
/// function; the notrace hash always wins. Change the hashes with <see cref="Ftrace.SetFilter"/> and friends so a
/// registered ops is re-applied.
/// </summary>
public sealed class FtraceOps
{
    public FtraceOps(FtraceFunc func, FtraceOpsFlags flags = FtraceOpsFlags.None, string? name = null)
    {
        Func = func ?? throw new ArgumentNullException(nameof(func));
        Flags = flags;
        Name = name ?? func.Method.Name;
    }

    /// <summary>An ops of the kernel's own whose trampoline call passes the function and CPU (<see cref="Direct"/>).</summary>
    internal FtraceOps(FtraceFunctionCallback direct, FtraceFunc func, FtraceOpsFlags flags, string name)
        : this(func, flags, name) => Direct = direct;

    /// <summary>The callback.</summary>
    public FtraceFunc Func { get; }

    /// <summary>What the trampoline calls instead of <see cref="Func"/> when set.</summary>
    internal FtraceFunctionCallback? Direct { get; }

    public FtraceOpsFlags Flags { get; }

    /// <summary>For listings (enabled_functions-style) and errors.</summary>
    public string Name { get; }

    /// <summary>Arbitrary data the owner of the ops keeps with it (ops->private).</summary>
    public object? Private { get; set; }

    /// <summary>The functions this ops asked for (ids); empty = all.</summary>
    internal HashSet<int> FilterHash { get; } = [];

    /// <summary>The functions this ops refuses (ids).</summary>
    internal HashSet<int> NotraceHash { get; } = [];

    /// <summary>True between a successful register and unregister.</summary>
    public bool Registered { get; internal set; }

    /// <summary>Number of callbacks skipped because the same context was already inside it (RECURSION flag).</summary>
    public long RecursionMissed => Interlocked.Read(ref _recursionMissed);

    private long _recursionMissed;

    internal void CountRecursionMiss() => Interlocked.Increment(ref _recursionMissed);

    /// <summary>Whether this ops traces <paramref name="function"/>: not notrace, in the filter (or no filter), not in notrace.</summary>
    public bool Traces(KernelFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return !function.Notrace && (FilterHash.Count == 0 || FilterHash.Contains(function.Id)) && !NotraceHash.Contains(function.Id);
    }

    public override string ToString() => Name;
}
