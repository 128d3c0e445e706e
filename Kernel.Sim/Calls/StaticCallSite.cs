using System.Reflection;
using System.Runtime.CompilerServices;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>
/// The code of a caller that contains an inline static_call: its body is generic over the target, so the JIT compiles a
/// separate body per target in which <c>TTarget.Invoke(args)</c> is a direct <c>call</c>. A NULL target is
/// <see cref="NullTarget{TArgs}"/> (test it with <see cref="StaticCalls.IsNull{TArgs, TTarget}"/>, folded to a constant).
/// </summary>
public interface IStaticCallCaller<TArgs>
    where TArgs : struct
{
    /// <summary>The caller's body with the static_call's target baked in.</summary>
    static abstract int Run<TTarget>(TArgs args)
        where TTarget : struct, ICallTarget<TArgs>;
}

/// <summary>Helpers for static_call caller bodies.</summary>
public static class StaticCalls
{
    /// <summary>True in the body instantiated for a NULL static_call (a JIT-time constant).</summary>
    public static bool IsNull<TArgs, TTarget>()
        where TArgs : struct
        where TTarget : struct, ICallTarget<TArgs> => typeof(TTarget) == typeof(NullTarget<TArgs>);
}

/// <summary>
/// One inline static_call site: the caller <typeparamref name="TCaller"/> instantiated with the current target. An
/// update writes the site's bytes (call, NOP for NULL, <c>xor %eax,%eax</c> for RET0) through text_poke_bp and swaps
/// the caller's entry to the new instantiation with one atomic store.
/// </summary>
public sealed unsafe class StaticCallSite<TArgs, TCaller> : IStaticCallSite
    where TArgs : struct
    where TCaller : struct, IStaticCallCaller<TArgs>
{
    private static readonly MethodInfo EnterDefinition =
        typeof(StaticCallSite<TArgs, TCaller>).GetMethod(nameof(Enter), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly CallTarget<TArgs> _null;
    private readonly CallTarget<TArgs> _ret0;
    private readonly CostModel? _model;
    private nint _entry;
    private bool _nop;

    internal StaticCallSite(string name, CallTarget<TArgs> target, CallTarget<TArgs> nullTarget, CallTarget<TArgs> ret0, CostModel? model)
    {
        _null = nullTarget;
        _ret0 = ret0;
        _model = model;
        var address = KernelText.AddressOf(name);
        Site = new PatchSite(name, address, SiteBytes(address, target));
        Publish(target);
    }

    /// <summary>The site's bytes.</summary>
    public PatchSite Site { get; }

    /// <summary>Runs the caller's body as currently patched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Run(TArgs args)
    {
        if (_model is { Enabled: true })
            return RunModelled(args);
        return ((delegate* managed<TArgs, int>)Volatile.Read(ref _entry))(args);
    }

    void IStaticCallSite.Patch(object target)
    {
        var t = (CallTarget<TArgs>)target;
        TextPoke.Poke(Site, SiteBytes(Site.Address, t), () => Publish(t), _model);
    }

    private void Publish(CallTarget<TArgs> target)
    {
        var body = EnterDefinition.MakeGenericMethod(target.TargetType!);
        Volatile.Write(ref _nop, ReferenceEquals(target, _null) || ReferenceEquals(target, _ret0));
        Volatile.Write(ref _entry, body.MethodHandle.GetFunctionPointer());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int RunModelled(TArgs args)
    {
        var cpu = _model!.Current;
        if (Volatile.Read(ref _nop))
        {
            cpu.PatchedNop();
            return ((delegate* managed<TArgs, int>)Volatile.Read(ref _entry))(args);
        }

        cpu.CallPatched(Site.Address);
        var result = ((delegate* managed<TArgs, int>)Volatile.Read(ref _entry))(args);
        cpu.Return(Site.Address);
        return result;
    }

    private byte[] SiteBytes(ulong address, CallTarget<TArgs> target) =>
        ReferenceEquals(target, _null) ? PatchSite.Nop()
        : ReferenceEquals(target, _ret0) ? PatchSite.Return0()
        : PatchSite.Branch(address, target.Address, call: true);

    private static int Enter<TTarget>(TArgs args)
        where TTarget : struct, ICallTarget<TArgs> => TCaller.Run<TTarget>(args);
}
