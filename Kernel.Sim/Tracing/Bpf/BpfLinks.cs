using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>How a link attaches its program.</summary>
public enum BpfAttachKind
{
    Kprobe,
    Kretprobe,
    Fentry,
    Fexit,
}

/// <summary>An attached program (struct bpf_link): dispose or <see cref="Detach"/> to take it off its hook.</summary>
public sealed class BpfLink : IDisposable
{
    private readonly Action<BpfLink> _detach;
    private int _detached;

    internal BpfLink(LoadedBpfProgram program, BpfAttachKind kind, KernelFunction function, ulong cookie, Action<BpfLink> detach)
    {
        Program = program;
        Kind = kind;
        Function = function;
        Cookie = cookie;
        Runnable = program.WithCookie(cookie);
        _detach = detach;
    }

    public LoadedBpfProgram Program { get; }

    /// <summary>The attach cookie (bpf_cookie) the program reads with bpf_get_attach_cookie on this link's hook.</summary>
    public ulong Cookie { get; }

    /// <summary>The program bound to this link's cookie: what the hook runs.</summary>
    internal LoadedBpfProgram Runnable { get; }

    public BpfAttachKind Kind { get; }

    public KernelFunction Function { get; }

    public bool Attached => Volatile.Read(ref _detached) == 0;

    /// <summary>Takes the program off its hook; when this returns no CPU runs it for this link any more.</summary>
    public void Detach()
    {
        if (Interlocked.Exchange(ref _detached, 1) == 0)
            _detach(this);
    }

    public void Dispose() => Detach();
}

/// <summary>
/// The BPF link layer of one kernel: kprobe/kretprobe programs ride on kprobes (ctx = the pt_regs frame in kernel
/// memory), fentry/fexit programs on an ftrace_ops (ctx = u64 args[] built from the argument registers; fexit gets
/// the return value after them). Several programs on one hook run in attach order (an array replaced on every
/// attach/detach, read without locks by the CPUs); a kprobe program calling bpf_override_return (58) may attach only
/// to a function marked for error injection, and then the function returns the given value without running.
/// </summary>
public sealed unsafe class BpfAttachments
{
    private readonly TracingBpf _bpf;
    private readonly Kprobes _kprobes;
    private readonly Ftrace _ftrace;
    private readonly KernelCore _core;
    private readonly Lock _lock = new();
    private readonly Dictionary<(KernelFunction, BpfAttachKind), Hook> _hooks = [];
    private KernelFunction? _justReturn;

    public BpfAttachments(TracingBpf bpf, Kprobes kprobes, Ftrace ftrace)
    {
        _bpf = bpf ?? throw new ArgumentNullException(nameof(bpf));
        _kprobes = kprobes ?? throw new ArgumentNullException(nameof(kprobes));
        _ftrace = ftrace ?? throw new ArgumentNullException(nameof(ftrace));
        _core = bpf.Core;
    }

    /// <summary>The programs attached to <paramref name="function"/> with <paramref name="kind"/>, in run order.</summary>
    public IReadOnlyList<LoadedBpfProgram> Attached(KernelFunction function, BpfAttachKind kind)
    {
        lock (_lock)
            return _hooks.TryGetValue((function, kind), out var hook) ? hook.Programs.Select(l => l.Program).ToArray() : [];
    }

    /// <summary>
    /// Attaches <paramref name="program"/> to <paramref name="symbol"/>, with an attach <paramref name="cookie"/> that
    /// the program reads with bpf_get_attach_cookie (libbpf's <c>bpf_kprobe_opts.bpf_cookie</c>,
    /// <c>bpf_trace_opts.cookie</c>). Throws <see cref="BpfAttachException"/> with Linux's errno when the function is
    /// unknown or notrace, the program type does not fit the kind, or the program overrides the return of a function
    /// not marked for error injection.
    /// </summary>
    public BpfLink Attach(LoadedBpfProgram program, BpfAttachKind kind, string symbol, ulong cookie = 0)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(symbol);
        // A program bound with WithCookie keeps its cookie unless the call gives another: never dropped silently.
        if (program.Cookie != 0 && cookie != 0 && program.Cookie != cookie)
            throw new ArgumentException($"the program is bound to cookie {program.Cookie} and the attach gives {cookie}", nameof(cookie));
        cookie = cookie != 0 ? cookie : program.Cookie;
        var function = _core.Functions.Find(symbol) ?? throw new BpfAttachException(Errno.ENOENT, $"no kernel function '{symbol}'");
        if (function.Notrace)
            throw new BpfAttachException(Errno.EINVAL, $"{symbol} is notrace");
        var wantsKprobe = kind is BpfAttachKind.Kprobe or BpfAttachKind.Kretprobe;
        if (wantsKprobe != (program.Type.Name == "kprobe"))
            throw new BpfAttachException(Errno.EINVAL, $"a {program.Type.Name} program cannot attach as {kind}");
        if (program.Type is TracingProgramType tracing && (tracing.IsExit != (kind == BpfAttachKind.Fexit) || tracing.Slots - (tracing.IsExit ? 1 : 0) != function.Prototype.Parameters.Count))
            throw new BpfAttachException(Errno.EINVAL, $"the program was loaded for another target than {kind} {symbol}");
        if (program.Instructions.Any(i => i.Opcode == (Opcodes.BPF_JMP | Opcodes.BPF_CALL) && i.Src == 0 && i.Imm == 58))
        {
            // trace_kprobe_on_func_entry && trace_kprobe_error_injectable, as perf_event_attach_bpf_prog checks.
            if (kind != BpfAttachKind.Kprobe || !function.AllowErrorInjection)
                throw new BpfAttachException(Errno.EINVAL, $"bpf_override_return needs a kprobe on a function marked ALLOW_ERROR_INJECTION ({symbol} is not)");
        }

        lock (_lock)
        {
            if (!_hooks.TryGetValue((function, kind), out var hook))
            {
                hook = new Hook(this, function, kind);
                var result = hook.Arm();
                if (result != 0)
                    throw new BpfAttachException(-result, $"cannot hook {symbol}: errno {-result}");
                _hooks[(function, kind)] = hook;
            }

            var link = new BpfLink(program.Unbound, kind, function, cookie, Detach);
            hook.Programs = [.. hook.Programs, link];
            return link;
        }
    }

    private void Detach(BpfLink link)
    {
        Hook? emptied = null;
        lock (_lock)
        {
            if (!_hooks.TryGetValue((link.Function, link.Kind), out var hook))
                return;
            hook.Programs = hook.Programs.Where(l => l != link).ToArray();
            if (hook.Programs.Length == 0)
            {
                _hooks.Remove((link.Function, link.Kind));
                emptied = hook;
            }
        }

        // Unregistering waits for CPUs inside the hook (the kprobe/ftrace unregister guarantee); a hook that keeps
        // other programs waits the same way, since a CPU may have read the old array just before it was replaced.
        if (emptied is not null)
            emptied.Disarm();
        else
            _core.Cpus.SynchronizeRcu();
    }

    /// <summary>The function an overridden call is diverted to: returns regs->ax (Linux's just_return_func).</summary>
    private KernelFunction JustReturn()
    {
        lock (_lock)
            return _justReturn ??= _core.Functions.Find("just_return_func")
                ?? _core.Functions.Define("unsigned long just_return_func(void)", (ref PtRegs r) => r.ax, notrace: true);
    }

    private sealed class Hook(BpfAttachments owner, KernelFunction function, BpfAttachKind kind)
    {
        public BpfLink[] Programs = [];
        private Kprobe? _kprobe;
        private Kretprobe? _kretprobe;
        private FtraceOps? _ops;
        private ExitHandler? _exit;
        private KernelFunction? _justReturn;
        private readonly int _argumentCount = Math.Min(function.Prototype.Parameters.Count, FunctionPrototype.MaxRegisterArguments);

        public int Arm()
        {
            switch (kind)
            {
                case BpfAttachKind.Kprobe:
                    _justReturn = owner.JustReturn();
                    _kprobe = new BpfKprobe(this) { SymbolName = function.Name };
                    return owner._kprobes.Register(_kprobe);
                case BpfAttachKind.Kretprobe:
                    _kretprobe = new Kretprobe { SymbolName = function.Name, Handler = OnKretprobe };
                    return owner._kprobes.Register(_kretprobe);
                default:
                    _exit = kind == BpfAttachKind.Fexit ? new ExitHandler(this) : null;
                    _ops = new FtraceOps(OnFentry, OnFentryFunc, FtraceOpsFlags.SaveRegs, $"bpf_trampoline_{function.Name}");
                    var result = owner._ftrace.SetFilter(_ops, function.Name, reset: true);
                    return result != 0 ? result : owner._ftrace.Register(_ops);
            }
        }

        public void Disarm()
        {
            if (_kprobe is not null)
                owner._kprobes.Unregister(_kprobe);
            if (_kretprobe is not null)
                owner._kprobes.Unregister(_kretprobe);
            if (_exit is not null)
                _exit.Active = false;
            if (_ops is not null)
                owner._ftrace.Unregister(_ops);
        }

        /// <summary>kprobe_perf_func → trace_call_bpf: runs the programs on the trampoline's pt_regs frame.</summary>
        public int OnKprobe(SimulatedCpu cpu, ref PtRegs regs)
        {
            var id = cpu.Id;
            var services = owner._bpf.ServicesOf(id);
            services.FunctionIp = function.Address;
            services.OverrideReturn = null;
            fixed (PtRegs* ctx = &regs)
            {
                foreach (var link in Volatile.Read(ref Programs))
                    link.Runnable.Run(id, ctx, PtRegs.Size);
            }

            if (services.OverrideReturn is not { } value)
                return 0;
            // bpf_override_return: ax = rc, ip = just_return_func; the kprobe reports the ip change.
            services.OverrideReturn = null;
            regs.ax = value;
            regs.ip = _justReturn!.Address + KernelFunction.FentryInsnSize;
            return 1;
        }

        private int OnKretprobe(KretprobeInstance instance, ref PtRegs regs)
        {
            var cpu = owner._core.Cpus.RequireCurrent().Id;
            owner._bpf.ServicesOf(cpu).FunctionIp = function.Address;
            fixed (PtRegs* ctx = &regs)
            {
                foreach (var link in Volatile.Read(ref Programs))
                    link.Runnable.Run(cpu, ctx, PtRegs.Size);
            }

            return 0;
        }

        private void OnFentryFunc(ulong ip, ulong parentIp, FtraceOps ops, ref PtRegs regs) =>
            OnFentry(function, parentIp, owner._core.Cpus.RequireCurrent(), ref regs);

        private void OnFentry(KernelFunction traced, ulong parentIp, SimulatedCpu cpu, ref PtRegs regs)
        {
            if (_exit is not null)
            {
                owner._ftrace.HookReturn(_exit, 0);
                return;
            }

            RunTracing(cpu.Id, ref regs, withReturn: false);
        }

        public int CurrentCpu => owner._core.Cpus.RequireCurrent().Id;

        public void RunTracing(int cpu, ref PtRegs regs, bool withReturn)
        {
            owner._bpf.ServicesOf(cpu).FunctionIp = function.Address;
            var count = _argumentCount;
            // All six argument registers, unconditionally (cheaper than a switch per argument); slots past the
            // prototype's count are outside the context the verifier lets the program read.
            var args = stackalloc ulong[FunctionPrototype.MaxRegisterArguments + 1];
            args[0] = regs.di;
            args[1] = regs.si;
            args[2] = regs.dx;
            args[3] = regs.cx;
            args[4] = regs.r8;
            args[5] = regs.r9;
            if (withReturn)
                args[count] = regs.ax;
            var slots = count + (withReturn ? 1 : 0);
            foreach (var link in Volatile.Read(ref Programs))
                link.Runnable.Run(cpu, args, Math.Max(8, slots * 8));
        }

        /// <summary>The kprobe of a BPF kprobe link: its pre_handler is the hook itself, called with the CPU.</summary>
        private sealed class BpfKprobe(Hook hook) : Kprobe
        {
            internal override int Pre(SimulatedCpu cpu, ref PtRegs regs) => hook.OnKprobe(cpu, ref regs);
        }

        private sealed class ExitHandler(Hook hook) : FunctionReturnHandler
        {
            public override void OnReturn(KernelFunction function, ulong parentIp, ulong data, ref PtRegs regs) =>
                hook.RunTracing(hook.CurrentCpu, ref regs, withReturn: true);
        }
    }
}

/// <summary>An attach refused with Linux's errno.</summary>
public sealed class BpfAttachException(int errno, string message) : Exception(message)
{
    /// <summary>The positive errno (EINVAL, ENOENT...).</summary>
    public int Errno { get; } = errno;
}
