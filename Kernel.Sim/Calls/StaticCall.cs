using System.Runtime.CompilerServices;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>
/// A static_call (include/linux/static_call.h): a call whose target is fixed until <see cref="Update(CallTarget{TArgs})"/>
/// rewrites it. <see cref="Call"/> is the out-of-line flavour: a call to a trampoline (<c>__SCT__name</c>) that jumps to
/// the target; in managed code the trampoline is a method instantiated per target whose body is a direct call to it,
/// and an update swaps the trampoline pointer with one atomic store. <see cref="Site{TCaller}"/> adds inline-patched
/// call sites, where the caller's own code is instantiated with the target and makes the direct call itself.
/// Every update goes through <see cref="TextPoke"/> on the trampoline and on each inline site.
/// </summary>
public sealed unsafe class StaticCall<TArgs>
    where TArgs : struct
{
    private static readonly CallTarget<TArgs> Null = CallTarget<TArgs>.Of<NullTarget<TArgs>>();
    private static readonly CallTarget<TArgs> Ret0 = CallTarget<TArgs>.Of<Return0Target<TArgs>>();

    private readonly CostModel? _model;
    private readonly object _mutex = new();
    private readonly List<IStaticCallSite> _sites = [];
    private nint _entry;
    private CallTarget<TArgs> _target;

    private StaticCall(string name, CallTarget<TArgs> target, CostModel? model)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _model = model;
        _target = target;
        _entry = target.TrampolineEntry;
        var address = KernelText.AddressOf("__SCT__" + name);
        Trampoline = new PatchSite("__SCT__" + name, address, TrampolineBytes(address, target));
    }

    /// <summary><c>DEFINE_STATIC_CALL(name, func)</c>.</summary>
    public static StaticCall<TArgs> Define<T>(string name, CostModel? model = null)
        where T : struct, ICallTarget<TArgs> => new(name, CallTarget<TArgs>.Of<T>(), model);

    /// <summary><c>DEFINE_STATIC_CALL_NULL(name, type)</c>: no target until updated; call it with <see cref="CallCond"/>.</summary>
    public static StaticCall<TArgs> DefineNull(string name, CostModel? model = null) => new(name, Null, model);

    /// <summary><c>DEFINE_STATIC_CALL_RET0(name, type)</c>: the target is <c>__static_call_return0</c>.</summary>
    public static StaticCall<TArgs> DefineRet0(string name, CostModel? model = null) => new(name, Ret0, model);

    /// <summary>The key's name.</summary>
    public string Name { get; }

    /// <summary>The out-of-line trampoline's bytes.</summary>
    public PatchSite Trampoline { get; }

    /// <summary>The current target: null for NULL, the RET0 target's descriptor for RET0.</summary>
    public CallTarget<TArgs>? Target
    {
        get
        {
            var target = Volatile.Read(ref _target);
            return ReferenceEquals(target, Null) ? null : target;
        }
    }

    /// <summary>Whether the target is <c>__static_call_return0</c>.</summary>
    public bool IsRet0 => ReferenceEquals(Volatile.Read(ref _target), Ret0);

    /// <summary>The inline sites patched along with the trampoline.</summary>
    public int SiteCount
    {
        get
        {
            lock (_mutex)
                return _sites.Count;
        }
    }

    /// <summary><c>static_call(name)(args)</c> through the trampoline. Throws for a NULL target.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Call(TArgs args)
    {
        if (_model is { Enabled: true })
            return CallModelled(args);
        return ((delegate* managed<TArgs, int>)Volatile.Read(ref _entry))(args);
    }

    /// <summary><c>static_call_cond(name)(args)</c>: nothing happens while the target is NULL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CallCond(TArgs args)
    {
        var entry = Volatile.Read(ref _entry);
        if (entry == Null.TrampolineEntry)
        {
            if (_model is { Enabled: true })
                _model.Current.PatchedNop();
            return;
        }

        if (_model is { Enabled: true })
            CallModelled(args);
        else
            ((delegate* managed<TArgs, int>)entry)(args);
    }

    /// <summary><c>static_call_update(name, func)</c> with a target type checked by the compiler.</summary>
    public void Update<T>()
        where T : struct, ICallTarget<TArgs> => Update(CallTarget<TArgs>.Of<T>());

    /// <summary><c>static_call_update</c> to a type chosen at run time; the type check throws <see cref="ArgumentException"/>.</summary>
    public void Update(Type targetType) => Update(CallTarget<TArgs>.Of(targetType));

    /// <summary>
    /// <c>static_call_update(name, func)</c>; null makes the call NULL. The target must be a type (a pointer-only
    /// target cannot be reached by a direct call). Patches the trampoline and every inline site via text_poke_bp.
    /// </summary>
    public void Update(CallTarget<TArgs>? target)
    {
        target ??= Null;
        if (target.TargetType is null)
        {
            throw new ArgumentException(
                $"static_call {Name}: {target.Name} is known only by pointer; a static_call target must be an ICallTarget<{typeof(TArgs).Name}> struct", nameof(target));
        }

        lock (_mutex)
        {
            TextPoke.Poke(Trampoline, TrampolineBytes(Trampoline.Address, target), () =>
            {
                Volatile.Write(ref _target, target);
                Volatile.Write(ref _entry, target.TrampolineEntry);
            }, _model);
            foreach (var site in _sites)
                site.Patch(target);
        }
    }

    /// <summary>
    /// An inline-patched call site in the caller <typeparamref name="TCaller"/>, whose body is instantiated with the
    /// current target and re-instantiated on every update.
    /// </summary>
    public StaticCallSite<TArgs, TCaller> Site<TCaller>(string? name = null)
        where TCaller : struct, IStaticCallCaller<TArgs>
    {
        lock (_mutex)
        {
            var site = new StaticCallSite<TArgs, TCaller>(name ?? typeof(TCaller).Name, Volatile.Read(ref _target), Null, Ret0, _model);
            _sites.Add(site);
            return site;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int CallModelled(TArgs args)
    {
        var cpu = _model!.Current;
        cpu.CallTrampoline(Trampoline.Address);
        var result = ((delegate* managed<TArgs, int>)Volatile.Read(ref _entry))(args);
        cpu.Return(Trampoline.Address);
        return result;
    }

    private static byte[] TrampolineBytes(ulong address, CallTarget<TArgs> target) =>
        ReferenceEquals(target, Null) ? PatchSite.Return() : PatchSite.Branch(address, target.Address, call: false);
}

/// <summary>The patchable part of an inline static_call site, as its <see cref="StaticCall{TArgs}"/> sees it.</summary>
internal interface IStaticCallSite
{
    void Patch(object target);
}
