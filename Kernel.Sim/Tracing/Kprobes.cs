using System.Globalization;
using System.Text;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing;

/// <summary>kprobe_pre_handler_t: return non-zero after changing regs->ip to divert the function (skips post handlers).</summary>
public delegate int KprobePreHandler(Kprobe probe, ref PtRegs regs);

/// <summary>kprobe_post_handler_t.</summary>
public delegate void KprobePostHandler(Kprobe probe, ref PtRegs regs, ulong flags);

/// <summary>
/// struct kprobe: a probe on <c>SYM+offs</c> (or an address) with pre and post handlers. On the fentry site (offset 0)
/// it rides on ftrace as Linux's KPROBES_ON_FTRACE does.
/// </summary>
public class Kprobe
{
    private long _nmissed;
    private volatile bool _disabled;

    /// <summary>The symbol to probe (or set <see cref="Address"/> instead).</summary>
    public string? SymbolName { get; init; }

    /// <summary>Offset from the symbol.</summary>
    public ulong Offset { get; init; }

    /// <summary>The probed address: given, or resolved from the symbol at registration.</summary>
    public ulong Address { get; set; }

    public KprobePreHandler? PreHandler { get; init; }

    public KprobePostHandler? PostHandler { get; init; }

    /// <summary>Hits not handled because another kprobe handler was running on the CPU (or no instance was free).</summary>
    public long NMissed => Interlocked.Read(ref _nmissed);

    /// <summary>KPROBE_FLAG_DISABLED.</summary>
    public bool Disabled
    {
        get => _disabled;
        internal set => _disabled = value;
    }

    /// <summary>Registered and not yet unregistered.</summary>
    public bool Registered { get; internal set; }

    /// <summary>The function containing the probe (after registration).</summary>
    public KernelFunction? Function { get; internal set; }

    /// <summary>Set for the kprobe inside a kretprobe (listed with type <c>r</c>).</summary>
    internal Kretprobe? Owner { get; set; }

    internal void Miss() => Interlocked.Increment(ref _nmissed);

    /// <summary>Runs the pre_handler on <paramref name="cpu"/>; the kernel's own probes (BPF) override it to skip the delegate.</summary>
    internal virtual int Pre(SimulatedCpu cpu, ref PtRegs regs) => PreHandler is null ? 0 : PreHandler(this, ref regs);
}

/// <summary>kretprobe_handler_t (handler and entry_handler); a non-zero entry_handler result skips the return probe.</summary>
public delegate int KretprobeHandler(KretprobeInstance instance, ref PtRegs regs);

/// <summary>
/// struct kretprobe: an entry probe that hooks the function's return (rethook). At most <see cref="MaxActive"/> calls
/// are tracked at once; a call finding no free instance is counted in <see cref="NMissed"/>.
/// </summary>
public sealed class Kretprobe
{
    /// <summary>KRETPROBE_MAX_DATA_SIZE.</summary>
    public const int MaxDataSize = 4096;

    private long _nmissed;

    public string? SymbolName { get; init; }

    public ulong Offset { get; init; }

    public KretprobeHandler? Handler { get; init; }

    public KretprobeHandler? EntryHandler { get; init; }

    /// <summary>Instances; 0 or less picks Linux's default max(10, 2 * num_possible_cpus()) at registration.</summary>
    public int MaxActive { get; set; }

    /// <summary>Bytes of per-instance data (<see cref="KretprobeInstance.Data"/>), in kernel memory.</summary>
    public int DataSize { get; init; }

    /// <summary>Calls missed because every instance was in use.</summary>
    public long NMissed => Interlocked.Read(ref _nmissed);

    /// <summary>The entry kprobe (its own nmissed counts recursion).</summary>
    public Kprobe? Kp { get; internal set; }

    internal void Miss() => Interlocked.Increment(ref _nmissed);

    internal KretprobePool? Pool { get; set; }

    internal FunctionReturnHandler? Rethook { get; set; }
}

/// <summary>struct kretprobe_instance: one tracked call.</summary>
public sealed unsafe class KretprobeInstance
{
    internal KretprobeInstance(Kretprobe probe, int index, ulong data, int dataSize)
    {
        Probe = probe;
        Index = index;
        DataAddress = data;
        DataSize = dataSize;
    }

    public Kretprobe Probe { get; }

    internal int Index { get; }

    /// <summary>The return address the call will go back to.</summary>
    public ulong ReturnAddress { get; internal set; }

    /// <summary>The task that made the call.</summary>
    public SimulatedTask? Task { get; internal set; }

    /// <summary>Address of this instance's data (ri->data) in kernel memory.</summary>
    public ulong DataAddress { get; }

    public int DataSize { get; }

    /// <summary>ri->data as a span.</summary>
    public Span<byte> Data => new((void*)DataAddress, DataSize);
}

/// <summary>The preallocated instances of one kretprobe (a lock-protected free stack, no allocation per call).</summary>
internal sealed class KretprobePool
{
    private readonly Lock _lock = new();
    private readonly KretprobeInstance[] _instances;
    private readonly int[] _free;
    private int _freeCount;

    public KretprobePool(Kretprobe probe, int count, MemoryRegion? data)
    {
        _instances = new KretprobeInstance[count];
        _free = new int[count];
        for (var i = 0; i < count; i++)
        {
            _instances[i] = new KretprobeInstance(probe, i, data is null ? 0 : data.Start + (ulong)(i * probe.DataSize), probe.DataSize);
            _free[i] = count - 1 - i;
        }

        _freeCount = count;
        Data = data;
    }

    public MemoryRegion? Data { get; }

    public KretprobeInstance this[int index] => _instances[index];

    public KretprobeInstance? Take()
    {
        lock (_lock)
            return _freeCount == 0 ? null : _instances[_free[--_freeCount]];
    }

    public void Recycle(KretprobeInstance instance)
    {
        instance.Task = null;
        lock (_lock)
            _free[_freeCount++] = instance.Index;
    }

    public int InUse
    {
        get
        {
            lock (_lock)
                return _instances.Length - _freeCount;
        }
    }
}

/// <summary>
/// kprobes of one kernel: register/unregister/enable/disable for kprobes and kretprobes, the per-CPU current_kprobe
/// that makes a nested hit count as nmissed, and the <c>kprobes/list</c> listing. Probes at a function's fentry site
/// arm one of two ftrace_ops, as Linux does: the IPMODIFY one when a probe at the address has a post handler.
/// </summary>
public sealed class Kprobes
{
    private readonly KernelCore _core;
    private readonly Ftrace _ftrace;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, List<Kprobe>> _table = [];
    private readonly PerCpu<Kprobe?> _current;
    private readonly FtraceOps _ftraceOps;
    private readonly FtraceOps _ipmodifyOps;

    // The probes of each function by KernelFunction.Id, resolved when probes change (an immutable array republished
    // with one store): a hit indexes it instead of hashing the address as get_kprobe() does.
    private KprobeSet?[] _byFunction = [];

    public Kprobes(KernelCore core, Ftrace ftrace)
    {
        _core = core ?? throw new ArgumentNullException(nameof(core));
        _ftrace = ftrace ?? throw new ArgumentNullException(nameof(ftrace));
        _current = new PerCpu<Kprobe?>(core.Cpus, _ => null);
        _ftraceOps = new FtraceOps(KprobeFtraceHandler, KprobeFtraceFunc, FtraceOpsFlags.SaveRegs, "kprobe_ftrace_ops");
        _ipmodifyOps = new FtraceOps(KprobeFtraceHandler, KprobeFtraceFunc, FtraceOpsFlags.SaveRegs | FtraceOpsFlags.IpModify, "kprobe_ipmodify_ops");
    }

    /// <summary>The default maxactive: max(10, 2 * num_possible_cpus()).</summary>
    public int DefaultMaxActive => Math.Max(10, 2 * _core.Cpus.Count);

    /// <summary>The kprobe running on the current CPU (kprobe_running()), or null.</summary>
    public Kprobe? Running => _core.Cpus.Current is { } cpu ? _current[cpu.Id] : null;

    /// <summary>register_kprobe: 0 or -errno (-ENOENT unknown symbol, -EILSEQ not an instruction boundary, -EINVAL, -EBUSY).</summary>
    public int Register(Kprobe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        lock (_lock)
        {
            if (probe.Registered)
                return -Errno.EINVAL;
            var resolved = Resolve(probe, out var function);
            if (resolved != 0)
                return resolved;
            probe.Function = function;
            if (!_table.TryGetValue(probe.Address, out var list))
                _table[probe.Address] = list = [];
            list.Insert(0, probe);
            probe.Registered = true;
            probe.Disabled = false;
            var armed = Rearm();
            if (armed != 0)
            {
                list.Remove(probe);
                if (list.Count == 0)
                    _table.Remove(probe.Address);
                probe.Registered = false;
                Rearm();
                return armed;
            }
        }

        return 0;
    }

    /// <summary>unregister_kprobe: no handler of the probe runs after it returns.</summary>
    public void Unregister(Kprobe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        lock (_lock)
        {
            if (!probe.Registered || !_table.TryGetValue(probe.Address, out var list))
                return;
            list.Remove(probe);
            if (list.Count == 0)
                _table.Remove(probe.Address);
            probe.Registered = false;
            Rearm();
        }

        _core.Cpus.SynchronizeRcu();
    }

    /// <summary>disable_kprobe: the probe stays registered but its handlers stop (the site is disarmed when all at the address are off).</summary>
    public int Disable(Kprobe probe) => SetDisabled(probe, true);

    /// <summary>enable_kprobe.</summary>
    public int Enable(Kprobe probe) => SetDisabled(probe, false);

    private int SetDisabled(Kprobe probe, bool disabled)
    {
        ArgumentNullException.ThrowIfNull(probe);
        lock (_lock)
        {
            if (!probe.Registered)
                return -Errno.EINVAL;
            probe.Disabled = disabled;
            return Rearm();
        }
    }

    /// <summary>register_kretprobe: the probe must be on a function entry (-EINVAL), data_size at most 4096 (-E2BIG).</summary>
    public int Register(Kretprobe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (probe.Kp is { Registered: true })
            return -Errno.EINVAL;
        // kprobe_on_func_entry: a return probe must sit on the function entry.
        if (probe.Offset != 0)
            return -Errno.EINVAL;
        if (probe.DataSize is < 0 or > Kretprobe.MaxDataSize)
            return -Errno.E2BIG;
        if (probe.MaxActive <= 0)
            probe.MaxActive = DefaultMaxActive;
        var kp = new Kprobe { SymbolName = probe.SymbolName, Offset = probe.Offset, PreHandler = KretprobePreHandler, Owner = probe };
        probe.Rethook = new Rethook(probe);
        var check = Resolve(kp, out var function);
        if (check != 0)
            return check;
        if (kp.Address != function!.Address)
            return -Errno.EINVAL;
        kp.Address = 0; // resolved again by register_kprobe below
        var data = probe.DataSize > 0 ? _core.Memory.Allocate($"kretprobe/{probe.SymbolName}", (ulong)(probe.DataSize * probe.MaxActive)) : null;
        probe.Pool = new KretprobePool(probe, probe.MaxActive, data);
        probe.Kp = kp;
        var result = Register(kp);
        if (result != 0)
        {
            if (data is not null)
                _core.Memory.Free(data);
            probe.Pool = null;
        }

        return result;
    }

    /// <summary>unregister_kretprobe: pending returns are abandoned; no handler runs after it returns.</summary>
    public void Unregister(Kretprobe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (probe.Kp is null)
            return;
        Unregister(probe.Kp);
    }

    /// <summary>disable_kretprobe / enable_kretprobe.</summary>
    public int Disable(Kretprobe probe) => probe?.Kp is null ? -Errno.EINVAL : Disable(probe.Kp);

    public int Enable(Kretprobe probe) => probe?.Kp is null ? -Errno.EINVAL : Enable(probe.Kp);

    /// <summary>Instances of <paramref name="probe"/> currently tracking a call.</summary>
    public static int ActiveInstances(Kretprobe probe) => probe?.Pool?.InUse ?? 0;

    private int Resolve(Kprobe probe, out KernelFunction? function)
    {
        function = null;
        if (probe.SymbolName is not null)
        {
            if (probe.Address != 0)
                return -Errno.EINVAL;
            var symbol = _core.Symbols.Lookup(probe.SymbolName);
            if (symbol is null)
                return -Errno.ENOENT;
            if (probe.Offset >= symbol.Size)
                return -Errno.EINVAL;
            probe.Address = symbol.Address + probe.Offset;
        }
        else if (probe.Address == 0)
        {
            return -Errno.EINVAL;
        }

        var symbolAt = _core.Symbols.Find(probe.Address);
        function = symbolAt is null ? null : _core.Functions.Find(symbolAt.Name);
        if (function is null || function.Symbol != symbolAt)
            return -Errno.EINVAL;
        if (function.Notrace)
        {
            _core.Printk.Log($"kprobes: {function.Name} is notrace: no fentry site to probe");
            return -Errno.EINVAL;
        }

        // KernelSim models one instruction boundary inside a function: the fentry call at +0.
        return probe.Address == function.Address ? 0 : -Errno.EILSEQ;
    }

    private int Rearm()
    {
        var byFunction = new KprobeSet?[_core.Functions.All.Count];
        var plain = new List<int>();
        var ipmodify = new List<int>();
        foreach (var list in _table.Values)
        {
            var enabled = list.Where(p => !p.Disabled).ToArray();
            if (enabled.Length == 0)
                continue;
            var id = list[0].Function!.Id;
            byFunction[id] = new KprobeSet([.. list], list.Any(p => p.PostHandler is not null));
            (enabled.Any(p => p.PostHandler is not null) ? ipmodify : plain).Add(id);
        }

        Volatile.Write(ref _byFunction, byFunction);
        var result = Arm(_ftraceOps, plain);
        var second = Arm(_ipmodifyOps, ipmodify);
        return result != 0 ? result : second;
    }

    private int Arm(FtraceOps ops, List<int> ids)
    {
        if (ids.Count == 0)
        {
            if (ops.Registered)
                _ftrace.Unregister(ops);
            _ftrace.ResetFilter(ops);
            return 0;
        }

        var result = _ftrace.SetFilterIds(ops, ids);
        if (result != 0)
            return result;
        return ops.Registered ? 0 : _ftrace.Register(ops);
    }

    /// <summary>The ops' public callback form (for whoever calls <see cref="FtraceOps.Func"/> directly): resolves ip and CPU.</summary>
    private void KprobeFtraceFunc(ulong ip, ulong parentIp, FtraceOps ops, ref PtRegs regs)
    {
        if (_core.Functions.FindByAddress(ip) is { } function && function.Address == ip)
            KprobeFtraceHandler(function, parentIp, _core.Cpus.RequireCurrent(), ref regs);
    }

    /// <summary>
    /// kprobe_ftrace_handler: the ftrace callback of both ops. The probes come from the per-function table, the
    /// recursion bit and current_kprobe are this CPU's own (plain stores), and the pt_regs frame is the trampoline's.
    /// </summary>
    private void KprobeFtraceHandler(KernelFunction function, ulong parentIp, SimulatedCpu cpu, ref PtRegs regs)
    {
        var table = Volatile.Read(ref _byFunction);
        var id = function.Id;
        if ((uint)id >= (uint)table.Length || table[id] is not { } set)
            return;
        var probes = set.Probes;
        var bit = Ftrace.TryLockRecursion(cpu);
        if (bit < 0)
            return;
        ref var running = ref _current[cpu.Id];
        try
        {
            if (running is not null)
            {
                foreach (var probe in probes)
                {
                    if (!probe.Disabled)
                        probe.Miss();
                }

                return;
            }

            var ip = function.Address;
            var originalIp = regs.ip;
            // The handlers expect regs->ip = ip + 1, as if the int3 had just been hit.
            regs.ip = ip + 1;
            var diverted = false;
            foreach (var probe in probes)
            {
                if (probe.Disabled)
                    continue;
                running = probe;
                if (probe.Pre(cpu, ref regs) != 0)
                {
                    diverted = true;
                    break;
                }
            }

            if (!diverted && set.AnyPostHandler)
            {
                // Emulate single-stepping the 5-byte nop, then restore the ip.
                regs.ip = ip + KernelFunction.FentryInsnSize;
                foreach (var probe in probes)
                {
                    if (probe.Disabled || probe.PostHandler is null)
                        continue;
                    running = probe;
                    probe.PostHandler(probe, ref regs, 0);
                }
            }

            if (!diverted)
                regs.ip = originalIp;
        }
        finally
        {
            running = null;
            cpu.TraceRecursion &= ~(1 << bit);
        }
    }

    /// <summary>pre_handler_kretprobe: takes an instance (or counts a miss), runs entry_handler, hooks the return.</summary>
    private unsafe int KretprobePreHandler(Kprobe kp, ref PtRegs regs)
    {
        var rp = kp.Owner!;
        var pool = rp.Pool!;
        var instance = pool.Take();
        if (instance is null)
        {
            rp.Miss();
            return 0;
        }

        instance.ReturnAddress = *(ulong*)regs.sp;
        instance.Task = _core.Cpus.Current?.CurrentTask;
        if (rp.EntryHandler is not null && rp.EntryHandler(instance, ref regs) != 0)
        {
            pool.Recycle(instance);
            return 0;
        }

        if (!_ftrace.HookReturn(rp.Rethook!, (ulong)instance.Index))
        {
            pool.Recycle(instance);
            rp.Miss();
        }

        return 0;
    }

    /// <summary>/sys/kernel/debug/kprobes/list: <c>ffffffff81234560  k  ip_rcv+0x0    [FTRACE]</c>.</summary>
    public string List()
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            foreach (var (address, list) in _table.OrderBy(e => e.Key))
            {
                foreach (var probe in list)
                {
                    var symbol = _core.Symbols.Find(address);
                    var type = probe.Owner is null ? "k" : "r";
                    text.Append(CultureInfo.InvariantCulture, $"{address:x16}  {type}  {symbol!.Name}+0x{address - symbol.Address:x}    ");
                    if (probe.Disabled)
                        text.Append("[DISABLED]");
                    text.Append("[FTRACE]\n");
                }
            }
        }

        return text.ToString();
    }

    /// <summary>The probes at one function, as a hit sees them (registered order, newest first), resolved at (un)register.</summary>
    private sealed record KprobeSet(Kprobe[] Probes, bool AnyPostHandler);

    /// <summary>The rethook of a kretprobe: calls the handler with the instance at return, then recycles it.</summary>
    private sealed class Rethook(Kretprobe probe) : FunctionReturnHandler
    {
        public override void OnReturn(KernelFunction function, ulong parentIp, ulong data, ref PtRegs regs)
        {
            var pool = probe.Pool!;
            var instance = pool[(int)data];
            try
            {
                if (probe.Kp is { Registered: true, Disabled: false })
                    probe.Handler?.Invoke(instance, ref regs);
            }
            finally
            {
                pool.Recycle(instance);
            }
        }

        public override void Abandon(ulong data) => probe.Pool!.Recycle(probe.Pool[(int)data]);
    }
}
