using System.Runtime.CompilerServices;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing;

/// <summary>
/// The ftrace core of one kernel: registered <see cref="FtraceOps"/>, their filters, and the trampoline every hooked
/// fentry site calls. Registration computes, for each traceable function, the ops that trace it (newest first, as
/// ftrace_ops_list_func walks its list) and publishes them as an immutable handler on the site with one atomic store;
/// the trampoline reads them inside an RCU read-side section, and unregistration waits with synchronize_rcu, so no
/// callback runs after <see cref="Unregister"/> returns.
/// </summary>
public sealed class Ftrace
{
    /// <summary>Depth of the per-CPU return stack (FTRACE_RETFUNC_DEPTH is 50; the shadow stack holds more).</summary>
    public const int ReturnStackDepth = 128;

    private const int TransitionBit = 4;

    private readonly KernelCore _core;
    private readonly Lock _lock = new();
    private readonly List<FtraceOps> _ops = [];
    private readonly PerCpu<CpuState> _cpus;

    public Ftrace(KernelCore core)
    {
        _core = core ?? throw new ArgumentNullException(nameof(core));
        _cpus = new PerCpu<CpuState>(core.Cpus, _ => new CpuState());
        core.Functions.Defined += _ =>
        {
            lock (_lock)
                Republish();
        };
    }

    private sealed class CpuState
    {
        public readonly ReturnEntry[] ReturnStack = new ReturnEntry[ReturnStackDepth];
        public int ReturnTop;
        public long ReturnOverflows;
    }

    private struct ReturnEntry
    {
        public FunctionReturnHandler Handler;
        public ulong Data;
    }

    /// <summary>The kernel this ftrace belongs to.</summary>
    public KernelCore Core => _core;

    /// <summary>The registered ops, newest first.</summary>
    public IReadOnlyList<FtraceOps> Registered
    {
        get
        {
            lock (_lock)
                return _ops.ToArray();
        }
    }

    /// <summary>register_ftrace_function: 0, -EBUSY if already registered or an IPMODIFY conflict.</summary>
    public int Register(FtraceOps ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        lock (_lock)
        {
            if (ops.Registered)
                return -Errno.EBUSY;
            if (IpModifyConflict(ops) is not null)
                return -Errno.EBUSY;
            _ops.Insert(0, ops);
            ops.Registered = true;
            Republish();
        }

        return 0;
    }

    /// <summary>
    /// unregister_ftrace_function: removes the ops and waits for every CPU to leave the trampoline sections that could
    /// still see it. After it returns the callback is never called again. -EINVAL if not registered.
    /// </summary>
    public int Unregister(FtraceOps ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        lock (_lock)
        {
            if (!ops.Registered)
                return -Errno.EINVAL;
            _ops.Remove(ops);
            ops.Registered = false;
            Republish();
        }

        _core.Cpus.SynchronizeRcu();
        return 0;
    }

    /// <summary>
    /// ftrace_set_filter: applies one glob (leading <c>!</c> removes) to the ops' filter hash; <paramref name="reset"/>
    /// clears it first. -EINVAL when nothing matches, -EBUSY when it would give two IPMODIFY ops one function.
    /// </summary>
    public int SetFilter(FtraceOps ops, string pattern, bool reset) => ApplyPattern(ops, pattern, reset, notrace: false);

    /// <summary>ftrace_set_notrace: the same for the notrace hash.</summary>
    public int SetNotrace(FtraceOps ops, string pattern, bool reset) => ApplyPattern(ops, pattern, reset, notrace: true);

    /// <summary>ftrace_set_filter_ip: adds (or removes) one function by address. -ENOENT if no traceable function starts there.</summary>
    public int SetFilterIp(FtraceOps ops, ulong ip, bool remove, bool reset)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var function = _core.Functions.FindByAddress(ip);
        if (function is null || function.Notrace || function.Address != ip)
            return -Errno.ENOENT;
        return Update(ops, notrace: false, hash =>
        {
            if (reset)
                hash.Clear();
            if (remove)
                hash.Remove(function.Id);
            else
                hash.Add(function.Id);
            return 0;
        });
    }

    /// <summary>Sets the filter hash to exactly <paramref name="functionIds"/> (an empty set means every function).</summary>
    internal int SetFilterIds(FtraceOps ops, IEnumerable<int> functionIds) => Update(ops, notrace: false, hash =>
    {
        hash.Clear();
        hash.UnionWith(functionIds);
        return 0;
    });

    /// <summary>Empties the filter (trace everything) or notrace hash.</summary>
    public void ResetFilter(FtraceOps ops, bool notrace = false) => Update(ops, notrace, hash =>
    {
        hash.Clear();
        return 0;
    });

    /// <summary>The function names in an ops' filter (or notrace) hash, in address order, as set_ftrace_filter lists them.</summary>
    public IReadOnlyList<string> ListHash(FtraceOps ops, bool notrace)
    {
        ArgumentNullException.ThrowIfNull(ops);
        lock (_lock)
        {
            var hash = notrace ? ops.NotraceHash : ops.FilterHash;
            return _core.Functions.All.Where(f => hash.Contains(f.Id)).Select(f => f.Name).ToArray();
        }
    }

    /// <summary>enabled_functions: <c>name (N) R I</c> for every hooked function.</summary>
    public string EnabledFunctions()
    {
        lock (_lock)
        {
            var text = new System.Text.StringBuilder();
            foreach (var function in _core.Functions.Traceable)
            {
                var ops = _ops.Where(o => o.Traces(function)).ToArray();
                if (ops.Length == 0)
                    continue;
                var regs = ops.Any(o => o.Flags.HasFlag(FtraceOpsFlags.SaveRegs)) ? " R" : "  ";
                var ipmodify = ops.Any(o => o.Flags.HasFlag(FtraceOpsFlags.IpModify)) ? " I" : "  ";
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{function.Name} ({ops.Length}){regs}{ipmodify}\n");
            }

            return text.ToString();
        }
    }

    private int ApplyPattern(FtraceOps ops, string pattern, bool reset, bool notrace)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentNullException.ThrowIfNull(pattern);
        var glob = FtraceGlob.Parse(pattern);
        return Update(ops, notrace, hash =>
        {
            if (reset)
                hash.Clear();
            var matched = 0;
            foreach (var function in _core.Functions.Traceable)
            {
                if (!glob.Matches(function.Name))
                    continue;
                matched++;
                if (glob.Negate)
                    hash.Remove(function.Id);
                else
                    hash.Add(function.Id);
            }

            return matched == 0 ? -Errno.EINVAL : 0;
        });
    }

    private int Update(FtraceOps ops, bool notrace, Func<HashSet<int>, int> change)
    {
        ArgumentNullException.ThrowIfNull(ops);
        lock (_lock)
        {
            var hash = notrace ? ops.NotraceHash : ops.FilterHash;
            var saved = hash.ToArray();
            var result = change(hash);
            if (result == 0 && ops.Registered && IpModifyConflict(ops) is not null)
                result = -Errno.EBUSY;
            if (result != 0)
            {
                hash.Clear();
                hash.UnionWith(saved);
                return result;
            }

            if (ops.Registered)
                Republish();
        }

        if (ops.Registered)
            _core.Cpus.SynchronizeRcu();
        return 0;
    }

    private KernelFunction? IpModifyConflict(FtraceOps ops)
    {
        if (!ops.Flags.HasFlag(FtraceOpsFlags.IpModify))
            return null;
        foreach (var function in _core.Functions.Traceable)
        {
            if (ops.Traces(function) && _ops.Any(o => o != ops && o.Flags.HasFlag(FtraceOpsFlags.IpModify) && o.Traces(function)))
                return function;
        }

        return null;
    }

    private void Republish()
    {
        foreach (var function in _core.Functions.Traceable)
        {
            var ops = _ops.Where(o => o.Traces(function)).ToArray();
            var current = function.Fentry as FunctionHooks;
            if (ops.Length == 0)
            {
                if (current is not null)
                    function.Patch(null);
            }
            else if (current is null || !current.Ops.AsSpan().SequenceEqual(ops))
            {
                function.Patch(new FunctionHooks(this, ops));
            }
        }
    }

    /// <summary>
    /// ftrace_test_recursion_trylock: claims this CPU's recursion bit for the current context (one extra level is let
    /// through as a context transition, as Linux does). Returns the bit to pass to <see cref="RecursionUnlock"/>, or -1
    /// when the context is already inside.
    /// </summary>
    public int RecursionTryLock(SimulatedCpu cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        return TryLockRecursion(cpu);
    }

    /// <summary>ftrace_test_recursion_unlock.</summary>
    public void RecursionUnlock(SimulatedCpu cpu, int bit)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        cpu.TraceRecursion &= ~(1 << bit);
    }

    /// <summary>The bits live on the CPU and only its own thread touches them: plain loads and stores, no atomics.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int TryLockRecursion(SimulatedCpu cpu)
    {
        var bits = cpu.TraceRecursion;
        var bit = (int)cpu.Context;
        if ((bits & (1 << bit)) != 0)
        {
            bit = TransitionBit;
            if ((bits & (1 << bit)) != 0)
                return -1;
        }

        cpu.TraceRecursion = bits | (1 << bit);
        return bit;
    }

    /// <summary>
    /// From inside a callback: asks for <paramref name="handler"/> to run when the current traced function returns,
    /// with <paramref name="data"/>. False when the per-CPU return stack is full (the return is then not seen).
    /// </summary>
    public bool HookReturn(FunctionReturnHandler handler, ulong data)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var state = _cpus[_core.Cpus.RequireCurrent().Id];
        if (state.ReturnTop == ReturnStackDepth)
        {
            state.ReturnOverflows++;
            return false;
        }

        state.ReturnStack[state.ReturnTop++] = new ReturnEntry { Handler = handler, Data = data };
        return true;
    }

    /// <summary>How deep the current CPU's return stack is (the function_graph depth of pending returns).</summary>
    public int ReturnDepth(SimulatedCpu cpu) => _cpus[cpu.Id].ReturnTop;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CallOps(SimulatedCpu cpu, FtraceOps ops, KernelFunction function, ulong parentIp, ref PtRegs regs)
    {
        if ((ops.Flags & FtraceOpsFlags.Recursion) == 0)
        {
            Invoke(cpu, ops, function, parentIp, ref regs);
            return;
        }

        var bit = TryLockRecursion(cpu);
        if (bit < 0)
        {
            ops.CountRecursionMiss();
            return;
        }

        try
        {
            Invoke(cpu, ops, function, parentIp, ref regs);
        }
        finally
        {
            cpu.TraceRecursion &= ~(1 << bit);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Invoke(SimulatedCpu cpu, FtraceOps ops, KernelFunction function, ulong parentIp, ref PtRegs regs)
    {
        if (ops.Direct is { } direct)
            direct(function, parentIp, cpu, ref regs);
        else
            ops.Func(function.Address, parentIp, ops, ref regs);
    }

    /// <summary>
    /// The immutable per-function list of ops published on a hooked fentry site; the site calls it directly (its
    /// <see cref="Invoke"/> is the trampoline, so a hit makes one call, not a forwarding call and then the trampoline).
    /// </summary>
    internal sealed class FunctionHooks(Ftrace ftrace, FtraceOps[] ops) : FentryHandler
    {
        public FtraceOps[] Ops { get; } = ops;

        /// <summary>
        /// The trampoline: builds the pt_regs frame on the CPU's simulated stack (return address pushed first, so
        /// <c>$stack0</c> is the return address), calls the ops' callbacks, follows an IPMODIFY diversion, runs the body,
        /// then the return hooks pushed during entry.
        /// </summary>
        [SkipLocalsInit]
        public override unsafe ulong Invoke(KernelFunction function, ulong parentIp, ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            var cpu = ftrace._core.Cpus.RequireCurrent();
            var state = ftrace._cpus[cpu.Id];
            var savedSp = cpu.StackPointer;
            var sp = savedSp - 8;
            var frame = sp - PtRegs.Size;
            if (frame < cpu.Stack.Start + 256)
                throw new InvalidOperationException($"kernel stack overflow on cpu{cpu.Id} in {function.Name}");
            *(ulong*)sp = parentIp;
            ref var regs = ref *(PtRegs*)frame;
            regs = default;
            regs.di = a0;
            regs.si = a1;
            regs.dx = a2;
            regs.cx = a3;
            regs.r8 = a4;
            regs.r9 = a5;
            regs.ip = function.Address + KernelFunction.FentryInsnSize;
            regs.sp = sp;
            regs.cs = 0x10;
            regs.ss = 0x18;
            regs.flags = cpu.IrqsDisabled ? 0x46UL : 0x246UL;
            regs.orig_ax = ulong.MaxValue;
            cpu.StackPointer = frame;
            var mark = state.ReturnTop;
            try
            {
                cpu.RcuReadLock();
                try
                {
                    if (function.Fentry is FunctionHooks hooks)
                    {
                        foreach (var ops in hooks.Ops)
                            CallOps(cpu, ops, function, parentIp, ref regs);
                    }
                }
                finally
                {
                    cpu.RcuReadUnlock();
                }

                ulong result;
                var expected = function.Address + KernelFunction.FentryInsnSize;
                if (regs.ip == expected)
                {
                    result = function.Body(ref regs);
                }
                else
                {
                    var target = ftrace._core.Functions.FindByAddress(regs.ip);
                    if (target is null || (regs.ip != target.Address && regs.ip != target.Address + KernelFunction.FentryInsnSize))
                        throw new InvalidOperationException($"BUG: {function.Name} diverted to 0x{regs.ip:x}, which starts no kernel function");
                    result = target.Body(ref regs);
                }

                if (state.ReturnTop > mark)
                {
                    regs.ax = result;
                    regs.ip = parentIp;
                    regs.sp = sp + 8;
                    cpu.RcuReadLock();
                    try
                    {
                        while (state.ReturnTop > mark)
                        {
                            var entry = state.ReturnStack[--state.ReturnTop];
                            state.ReturnStack[state.ReturnTop] = default;
                            if (entry.Handler.Active)
                                entry.Handler.OnReturn(function, parentIp, entry.Data, ref regs);
                            else
                                entry.Handler.Abandon(entry.Data);
                        }
                    }
                    finally
                    {
                        cpu.RcuReadUnlock();
                    }

                    result = regs.ax;
                }

                return result;
            }
            finally
            {
                while (state.ReturnTop > mark)
                {
                    var entry = state.ReturnStack[--state.ReturnTop];
                    state.ReturnStack[state.ReturnTop] = default;
                    entry.Handler.Abandon(entry.Data);
                }

                cpu.StackPointer = savedSp;
            }
        }
    }
}
