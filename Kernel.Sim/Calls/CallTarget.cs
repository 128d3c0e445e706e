using System.Reflection;

namespace Kernel.Sim.Calls;

/// <summary>
/// A function that call sites can reach: its name, its address in the simulated kernel text (what the branch
/// predictor model sees) and its managed function pointer (<c>delegate* managed&lt;TArgs, int&gt;</c>). One
/// descriptor per target type (<see cref="Of{T}"/>), so identity comparisons are pointer comparisons, as in Linux.
/// </summary>
public sealed class CallTarget<TArgs>
    where TArgs : struct
{
    internal CallTarget(string name, ulong address, nint functionPointer, Type? targetType, nint trampolineEntry)
    {
        Name = name;
        Address = address;
        FunctionPointer = functionPointer;
        TargetType = targetType;
        TrampolineEntry = trampolineEntry;
    }

    /// <summary>Symbol name.</summary>
    public string Name { get; }

    /// <summary>Simulated kernel text address.</summary>
    public ulong Address { get; }

    /// <summary>The target's own entry point, for an indirect call.</summary>
    public nint FunctionPointer { get; }

    /// <summary>The <see cref="ICallTarget{TArgs}"/> struct, or null for a target known only by pointer (not patchable).</summary>
    public Type? TargetType { get; }

    /// <summary>Entry of a method whose body is a direct call (tail jump) to this target: the static_call trampoline.</summary>
    internal nint TrampolineEntry { get; }

    /// <summary>The descriptor of target type <typeparamref name="T"/> (one per type).</summary>
    public static CallTarget<TArgs> Of<T>()
        where T : struct, ICallTarget<TArgs> => CallTargets<TArgs, T>.Descriptor;

    /// <summary>
    /// The descriptor of a target type chosen at run time, after checking it really is a struct implementing
    /// <see cref="ICallTarget{TArgs}"/> (the run-time half of static_call_update's type check).
    /// </summary>
    public static CallTarget<TArgs> Of(Type targetType)
    {
        ArgumentNullException.ThrowIfNull(targetType);
        if (!targetType.IsValueType || !typeof(ICallTarget<TArgs>).IsAssignableFrom(targetType))
        {
            throw new ArgumentException(
                $"{targetType.Name} is not a call target of type int({typeof(TArgs).Name}): it must be a struct implementing ICallTarget<{typeof(TArgs).Name}>",
                nameof(targetType));
        }

        var holder = typeof(CallTargets<,>).MakeGenericType(typeof(TArgs), targetType);
        var field = holder.GetField(nameof(CallTargets<TArgs, NullTarget<TArgs>>.Descriptor), BindingFlags.Public | BindingFlags.Static)!;
        return (CallTarget<TArgs>)field.GetValue(null)!;
    }

    /// <summary>A target known only by its function pointer (a callback in native memory): callable, not patchable.</summary>
    public static unsafe CallTarget<TArgs> FromPointer(string name, delegate* managed<TArgs, int> function, ulong address = 0) =>
        new(name, address == 0 ? KernelText.AddressOf(name) : address, (nint)function, null, 0);

    public override string ToString() => Name;
}

/// <summary>Holds the one descriptor per target type; the JIT folds <see cref="Pointer"/> into guard compares.</summary>
internal static unsafe class CallTargets<TArgs, T>
    where TArgs : struct
    where T : struct, ICallTarget<TArgs>
{
    public static readonly CallTarget<TArgs> Descriptor = new(
        typeof(T).Name,
        KernelText.AddressOf(typeof(T).Name),
        EntryOf(),
        typeof(T),
        (nint)(delegate* managed<TArgs, int>)&StaticCallTrampoline<TArgs>.Jump<T>);

    public static readonly nint Pointer = Descriptor.FunctionPointer;

    // The interface map gives the struct's own Invoke, so an indirect call goes straight to the target.
    private static nint EntryOf()
    {
        var map = typeof(T).GetInterfaceMap(typeof(ICallTarget<TArgs>));
        return map.TargetMethods[0].MethodHandle.GetFunctionPointer();
    }
}

/// <summary>Out-of-line static_call trampolines: one instantiation per target, its body a direct call to it.</summary>
internal static class StaticCallTrampoline<TArgs>
    where TArgs : struct
{
    public static int Jump<T>(TArgs args)
        where T : struct, ICallTarget<TArgs> => T.Invoke(args);
}

/// <summary>The NULL target of DEFINE_STATIC_CALL_NULL: calling it unconditionally is a bug.</summary>
public readonly struct NullTarget<TArgs> : ICallTarget<TArgs>
    where TArgs : struct
{
    public static int Invoke(TArgs args) =>
        throw new InvalidOperationException("static_call to a NULL target (use static_call_cond, or update it first)");
}

/// <summary>__static_call_return0: the target of DEFINE_STATIC_CALL_RET0.</summary>
public readonly struct Return0Target<TArgs> : ICallTarget<TArgs>
    where TArgs : struct
{
    public static int Invoke(TArgs args) => 0;
}
