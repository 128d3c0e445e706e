using System.Reflection;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>What the engine does after a helper returns.</summary>
[Flags]
public enum HelperFlags
{
    None = 0,

    /// <summary>
    /// The bpf_conformance/uBPF "unwind" convention: a zero return ends the program with r0 = 0.
    /// </summary>
    StopOnZero = 1,

    /// <summary>
    /// bpf_tail_call: when the helper leaves a program in <see cref="HelperContext.PendingTailCall"/>, the engine
    /// continues in that program (same context, same stack frame) instead of the next instruction.
    /// </summary>
    TailCall = 2,
}

/// <summary>One registered helper: its id, name, the static method and its entry point.</summary>
public sealed class HelperDescriptor
{
    internal HelperDescriptor(int id, string name, MethodInfo method, nint entry, HelperFlags flags)
    {
        Id = id;
        Name = name;
        Method = method;
        Entry = entry;
        Flags = flags;
    }

    /// <summary>The helper id (the imm of <c>call</c>), as in enum bpf_func_id.</summary>
    public int Id { get; }

    /// <summary>The helper's name (<c>bpf_map_lookup_elem</c>).</summary>
    public string Name { get; }

    /// <summary>
    /// The static method. Its signature is always
    /// <c>static ulong M(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)</c>, so a JIT can
    /// emit a direct <c>call</c> to it.
    /// </summary>
    public MethodInfo Method { get; }

    /// <summary>The method's entry point, callable as <c>delegate* managed&lt;ulong, ulong, ulong, ulong, ulong, HelperContext, ulong&gt;</c>.</summary>
    public nint Entry { get; }

    /// <summary>What happens after the call.</summary>
    public HelperFlags Flags { get; }
}

/// <summary>
/// Helper id -> implementation. A helper is a static method with one uniform signature (see
/// <see cref="HelperDescriptor.Method"/>): the interpreter calls it through a cached function pointer and a JIT
/// calls it directly, never through a delegate. Later issues (maps, tracing, networking) register their helpers
/// here; <see cref="CreateConformance"/> gives the registry bpf_conformance programs expect.
/// </summary>
public sealed unsafe class HelperRegistry
{
    /// <summary>The helper id the conformance suite uses for its "unwind" helper.</summary>
    public const int ConformanceUnwindId = 5;

    // Indexed by id for an O(1) lookup on every call; grows on registration (rare).
    private HelperDescriptor?[] _byId = new HelperDescriptor?[64];

    /// <summary>The registered helpers, by id.</summary>
    public IEnumerable<HelperDescriptor> All => _byId.Where(d => d is not null)!;

    /// <summary>Registers a static method as helper <paramref name="id"/>.</summary>
    public void Register(int id, string name, MethodInfo method, HelperFlags flags = HelperFlags.None)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        CheckSignature(method);
        if (id >= _byId.Length)
            Array.Resize(ref _byId, Math.Max(id + 1, _byId.Length * 2));
        if (_byId[id] is { } existing)
            throw new InvalidOperationException($"helper {id} is already registered ({existing.Name})");
        _byId[id] = new HelperDescriptor(id, name, method, method.MethodHandle.GetFunctionPointer(), flags);
    }

    /// <summary>Registers the static method <paramref name="methodName"/> of <paramref name="type"/>.</summary>
    public void Register(int id, string name, Type type, string methodName, HelperFlags flags = HelperFlags.None)
    {
        ArgumentNullException.ThrowIfNull(type);
        var method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new ArgumentException($"{type.Name} has no static method {methodName}", nameof(methodName));
        Register(id, name, method, flags);
    }

    /// <summary>The helper with this id, or null.</summary>
    public HelperDescriptor? Find(long id) =>
        id >= 0 && id < _byId.Length ? _byId[id] : null;

    /// <summary>A registry with the conformance suite's helper 5 ("unwind": returns r1; zero stops the program).</summary>
    public static HelperRegistry CreateConformance()
    {
        var registry = new HelperRegistry();
        registry.Register(ConformanceUnwindId, "unwind", typeof(ConformanceHelpers), nameof(ConformanceHelpers.Unwind), HelperFlags.StopOnZero);
        return registry;
    }

    private static void CheckSignature(MethodInfo method)
    {
        var p = method.GetParameters();
        var ok = method.IsStatic && method.ReturnType == typeof(ulong) && p.Length == 6 &&
                 p.Take(5).All(x => x.ParameterType == typeof(ulong)) && p[5].ParameterType == typeof(HelperContext) &&
                 !method.ContainsGenericParameters;
        if (!ok)
            throw new ArgumentException(
                $"helper {method.DeclaringType?.Name}.{method.Name} must be static ulong (ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)",
                nameof(method));
    }
}

/// <summary>The helpers the bpf_conformance suite (and uBPF) define.</summary>
public static class ConformanceHelpers
{
    /// <summary>uBPF's unwind helper: returns its first argument; registered with <see cref="HelperFlags.StopOnZero"/>.</summary>
    public static ulong Unwind(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) => r1;
}
