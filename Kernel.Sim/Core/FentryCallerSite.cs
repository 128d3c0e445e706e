using System.Runtime.CompilerServices;

namespace Kernel.Sim.Core;

/// <summary>
/// The state of a function's fentry site as a type: the code of a caller generic over it is compiled once per state,
/// and in the <see cref="FentryNop"/> body <see cref="Calls"/> is a JIT-time constant <c>false</c>, so the site check
/// folds away and the call is exactly an untraced call (the 5-byte NOP of Linux's patched <c>__fentry__</c>).
/// </summary>
public interface IFentryPatch
{
    /// <summary>Whether the site calls the ftrace trampoline (<c>call ftrace_regs_caller</c>) or is a NOP.</summary>
    static abstract bool Calls { get; }
}

/// <summary>The site patched to a 5-byte NOP: nothing is attached.</summary>
public readonly struct FentryNop : IFentryPatch
{
    public static bool Calls => false;
}

/// <summary>The site patched to <c>call ftrace_regs_caller</c>: something is attached; the body checks <see cref="KernelFunction.Fentry"/>.</summary>
public readonly struct FentryCall : IFentryPatch
{
    public static bool Calls => true;
}

/// <summary>
/// A caller of a traced function whose code is generic over the function's fentry state. Write the call as
/// <code>
/// if (TPatch.Calls &amp;&amp; fn.Fentry is { } hook) return hook.Invoke(fn, parentIp, a0, a1, 0, 0, 0, 0);
/// return Body(a0, a1);
/// </code>
/// In the <see cref="FentryNop"/> instantiation the first operand is a constant <c>false</c> and the JIT removes the
/// check, the load of <c>fn</c> and the hooked branch.
/// </summary>
public interface IFentryCaller<TArgs>
{
    /// <summary>The caller's code for the site state <typeparamref name="TPatch"/>.</summary>
    static abstract ulong Run<TPatch>(TArgs args)
        where TPatch : struct, IFentryPatch;
}

/// <summary>The part of a caller site its <see cref="KernelFunction"/> repatches.</summary>
internal interface IFentryCallerSite
{
    void Publish(bool calls);
}

/// <summary>
/// A caller of one traced function, entered at the instantiation matching the function's fentry site: when ftrace
/// patches the site (text_poke_bp on <see cref="KernelFunction.FentrySite"/>), the caller's entry is swapped to the
/// other instantiation with one atomic store at the int3 step, as an inline static_call site is. Get one with
/// <see cref="KernelFunction.CallerSite{TArgs, TCaller}"/>; entering costs one indirect call per caller run, and every
/// call of the function inside the caller's code is then a direct call with no check when nothing is attached.
/// </summary>
public sealed unsafe class FentryCallerSite<TArgs, TCaller> : IFentryCallerSite
    where TCaller : struct, IFentryCaller<TArgs>
{
    private nint _entry;

    internal FentryCallerSite(bool calls) => Publish(calls);

    /// <summary>Whether the caller is currently entered at its <see cref="FentryCall"/> instantiation.</summary>
    public bool Calls => Volatile.Read(ref _entry) == (nint)(delegate* managed<TArgs, ulong>)&TCaller.Run<FentryCall>;

    /// <summary>Runs the caller's code as currently patched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Run(TArgs args) => ((delegate* managed<TArgs, ulong>)Volatile.Read(ref _entry))(args);

    /// <summary>Points the entry at the instantiation for the site's new state.</summary>
    void IFentryCallerSite.Publish(bool calls) => Publish(calls);

    private void Publish(bool calls)
    {
        var entry = calls
            ? (nint)(delegate* managed<TArgs, ulong>)&TCaller.Run<FentryCall>
            : (nint)(delegate* managed<TArgs, ulong>)&TCaller.Run<FentryNop>;
        Volatile.Write(ref _entry, entry);
    }
}
