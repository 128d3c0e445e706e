using System.Runtime.CompilerServices;
using Kernel.Sim.Calls;

namespace Kernel.Sim.Core;

/// <summary>The body of a simulated kernel function in the register ABI: arguments in di, si, dx, cx, r8, r9.</summary>
public delegate ulong KernelFunctionBody(ref PtRegs regs);

/// <summary>
/// What an fentry site calls when something is attached: the ftrace trampoline. Only the hooked path pays for the
/// virtual call; with nothing attached the site is one null check.
/// </summary>
public abstract class FentryHandler
{
    /// <summary>Runs the attached hooks around the function's body and returns its result.</summary>
    public abstract ulong Invoke(KernelFunction function, ulong parentIp, ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5);
}

/// <summary>
/// A traceable simulated kernel function: its kallsyms symbol, its C prototype, its body in the register ABI, and its
/// fentry site. A simulated function's C# entry point starts with the site check:
/// <code>
/// if (fn.Fentry is { } hook) return hook.Invoke(fn, parentIp, a0, a1, 0, 0, 0, 0);
/// return Body(a0, a1);
/// </code>
/// With nothing attached <see cref="Fentry"/> is null: one load and one predictable branch. Hot callers that want the
/// cost of Linux's patched <c>__fentry__</c> NOP (nothing at all) use a <see cref="CallerSite{TArgs, TCaller}"/>: their
/// code is instantiated over the site's state (<see cref="FentryNop"/> or <see cref="FentryCall"/>) and re-entered at
/// the other instantiation when ftrace patches <see cref="FentrySite"/>. <c>parentIp</c> is the caller's return
/// address (its symbol plus the call's offset), which a call instruction would push.
/// </summary>
public sealed class KernelFunction
{
    /// <summary>MCOUNT_INSN_SIZE: the 5-byte <c>call __fentry__</c> at the start of every traceable function.</summary>
    public const int FentryInsnSize = 5;

    /// <summary>Where a hooked site calls: the <c>ftrace_regs_caller</c> trampoline (the encoded call's target).</summary>
    public static readonly ulong FtraceCallerAddress = KernelText.AddressOf("ftrace_regs_caller");

    private readonly Lock _patchLock = new();
    private FentryHandler? _fentry;
    private IFentryCallerSite[] _callers = [];

    internal KernelFunction(int id, KernelSymbol symbol, FunctionPrototype prototype, KernelFunctionBody body, bool notrace)
    {
        Id = id;
        Symbol = symbol;
        Prototype = prototype;
        Body = body;
        Notrace = notrace;
        FentrySite = new PatchSite(symbol.Name, symbol.Address, PatchSite.Nop());
    }

    /// <summary>Dense index in <see cref="KernelFunctions"/> (the dyn_ftrace record number).</summary>
    public int Id { get; }

    public KernelSymbol Symbol { get; }

    public string Name => Symbol.Name;

    /// <summary>The function's address (its fentry site).</summary>
    public ulong Address => Symbol.Address;

    public FunctionPrototype Prototype { get; }

    /// <summary>The body, called by the trampoline when hooks are attached (and by IPMODIFY redirection).</summary>
    public KernelFunctionBody Body { get; }

    /// <summary>Marked <c>notrace</c>: no fentry site, not in available_filter_functions, never hooked.</summary>
    public bool Notrace { get; }

    /// <summary>Whether a bpf_override_return/fault injection may skip this function (ALLOW_ERROR_INJECTION).</summary>
    public bool AllowErrorInjection { get; init; }

    /// <summary>The fentry site: null when nothing is attached. Read once per call.</summary>
    public FentryHandler? Fentry
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _fentry;
    }

    /// <summary>
    /// The bytes of the fentry site at <see cref="Address"/>: the 5-byte NOP while nothing is attached,
    /// <c>call ftrace_regs_caller</c> while hooked. Changed only by <see cref="Patch"/> through text_poke_bp.
    /// </summary>
    public PatchSite FentrySite { get; }

    /// <summary>
    /// Hooks or unhooks the site. The handler is published with one atomic store; when the site changes between
    /// unhooked and hooked, its bytes are rewritten with text_poke_bp and every caller site is re-entered at the
    /// matching instantiation at the int3 step. Hooking publishes the handler before the callers switch (a caller
    /// switched to <see cref="FentryCall"/> finds it); unhooking clears it first (a caller still in the
    /// <see cref="FentryCall"/> code finds null and runs the body).
    /// </summary>
    public void Patch(FentryHandler? handler)
    {
        if (Notrace && handler is not null)
            throw new InvalidOperationException($"{Name} is notrace: it has no fentry site");
        lock (_patchLock)
        {
            var wasHooked = _fentry is not null;
            Volatile.Write(ref _fentry, handler);
            var hooked = handler is not null;
            if (wasHooked == hooked)
                return;
            var bytes = hooked ? PatchSite.Branch(Address, FtraceCallerAddress, call: true) : PatchSite.Nop();
            var callers = _callers;
            TextPoke.Poke(FentrySite, bytes, () =>
            {
                foreach (var caller in callers)
                    caller.Publish(hooked);
            });
        }
    }

    /// <summary>
    /// A caller site of this function: <typeparamref name="TCaller"/>'s code instantiated over this site's state and
    /// re-entered at the other instantiation whenever the site is patched (see <see cref="IFentryCaller{TArgs}"/>).
    /// </summary>
    public FentryCallerSite<TArgs, TCaller> CallerSite<TArgs, TCaller>()
        where TCaller : struct, IFentryCaller<TArgs>
    {
        if (Notrace)
            throw new InvalidOperationException($"{Name} is notrace: it has no fentry site to instantiate a caller over");
        lock (_patchLock)
        {
            var site = new FentryCallerSite<TArgs, TCaller>(_fentry is not null);
            _callers = [.. _callers, site];
            return site;
        }
    }

    /// <summary>A return address inside this function (what a call at <paramref name="offset"/> pushes).</summary>
    public ulong At(ulong offset) => Address + offset;

    /// <summary>Calls the function through its site with up to six register arguments (for callers without a typed wrapper).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Call(ulong parentIp, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0)
    {
        if (_fentry is { } hook)
            return hook.Invoke(this, parentIp, a0, a1, a2, a3, a4, a5);
        var regs = new PtRegs { di = a0, si = a1, dx = a2, cx = a3, r8 = a4, r9 = a5 };
        return Body(ref regs);
    }

    public override string ToString() => Name;
}

/// <summary>
/// The registry of simulated kernel functions (the kernel's text): defining one places its symbol in kallsyms and,
/// unless notrace, lists it in available_filter_functions. Subsystems (the built-in workload, the packet path) define
/// their functions here; <see cref="Defined"/> lets ftrace apply its filters to functions defined later.
/// </summary>
public sealed class KernelFunctions
{
    private readonly Kallsyms _kallsyms;
    private readonly Lock _lock = new();
    private KernelFunction[] _all = [];
    private Dictionary<string, KernelFunction> _byName = new(StringComparer.Ordinal);

    internal KernelFunctions(Kallsyms kallsyms) => _kallsyms = kallsyms;

    /// <summary>Raised after a function is defined (ftrace updates its hooks).</summary>
    public event Action<KernelFunction>? Defined;

    /// <summary>Every function by id.</summary>
    public IReadOnlyList<KernelFunction> All => Volatile.Read(ref _all);

    /// <summary>The traceable ones, in definition (address) order: available_filter_functions.</summary>
    public IEnumerable<KernelFunction> Traceable => All.Where(f => !f.Notrace);

    /// <summary>Defines a function from its C prototype text, placing a text symbol of <paramref name="size"/> bytes.</summary>
    public KernelFunction Define(string prototype, KernelFunctionBody body, ulong size = 0x80, bool notrace = false, bool allowErrorInjection = false) =>
        Define(FunctionPrototype.Parse(prototype), body, size, notrace, allowErrorInjection);

    /// <summary>Defines a function from its prototype.</summary>
    public KernelFunction Define(FunctionPrototype prototype, KernelFunctionBody body, ulong size = 0x80, bool notrace = false, bool allowErrorInjection = false)
    {
        ArgumentNullException.ThrowIfNull(prototype);
        ArgumentNullException.ThrowIfNull(body);
        if (size < KernelFunction.FentryInsnSize)
            throw new ArgumentOutOfRangeException(nameof(size), "a function is at least as long as its fentry call");
        KernelFunction function;
        lock (_lock)
        {
            if (_byName.ContainsKey(prototype.Name))
                throw new InvalidOperationException($"kernel function '{prototype.Name}' is already defined");
            var symbol = _kallsyms.AddText(prototype.Name, size);
            function = new KernelFunction(_all.Length, symbol, prototype, body, notrace) { AllowErrorInjection = allowErrorInjection };
            var byName = new Dictionary<string, KernelFunction>(_byName, StringComparer.Ordinal) { [prototype.Name] = function };
            _byName = byName;
            Volatile.Write(ref _all, [.. _all, function]);
        }

        Defined?.Invoke(function);
        return function;
    }

    /// <summary>The function called <paramref name="name"/>, or null.</summary>
    public KernelFunction? Find(string name) => Volatile.Read(ref _byName).GetValueOrDefault(name);

    /// <summary>The function whose symbol starts at <paramref name="address"/> (or contains it), or null.</summary>
    public KernelFunction? FindByAddress(ulong address)
    {
        var symbol = _kallsyms.Find(address);
        return symbol is null ? null : Find(symbol.Name) is { } f && f.Symbol == symbol ? f : null;
    }

    /// <summary>available_filter_functions: one traceable function name per line.</summary>
    public string AvailableFilterFunctions() => string.Concat(Traceable.Select(f => f.Name + "\n"));
}
