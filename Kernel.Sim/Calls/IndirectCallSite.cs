using System.Runtime.CompilerServices;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>
/// A call through a target pointer (<c>f(args)</c> with <c>f</c> a function pointer) under a Spectre v2 mitigation.
/// Managed execution is one <c>calli</c>; when the cost model is on, the current CPU is charged for the mitigated
/// sequence (predicted or mispredicted <c>call *%rax</c>, retpoline thunk, <c>lfence; jmp</c>, eIBRS, IBRS).
/// </summary>
public sealed unsafe class IndirectCallSite<TArgs>
    where TArgs : struct
{
    private readonly CostModel? _model;

    /// <param name="name">Site name (the caller's symbol and an offset, e.g. <c>deliver_skb+0x4a</c>).</param>
    /// <param name="mitigation">How this site's indirect call is mitigated.</param>
    /// <param name="model">The cost model to charge, or null for none.</param>
    /// <param name="address">Simulated address; derived from <paramref name="name"/> when 0.</param>
    public IndirectCallSite(string name, Mitigation mitigation, CostModel? model = null, ulong address = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Mitigation = mitigation;
        Address = address == 0 ? KernelText.AddressOf(name) : address;
        _model = model;
    }

    /// <summary>Site name.</summary>
    public string Name { get; }

    /// <summary>Simulated address of the call instruction.</summary>
    public ulong Address { get; }

    /// <summary>The mitigation this site was built with.</summary>
    public Mitigation Mitigation { get; }

    /// <summary>Calls <paramref name="target"/> indirectly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Call(CallTarget<TArgs> target, TArgs args) => Call(target.FunctionPointer, target.Address, args);

    /// <summary>Calls the function at <paramref name="function"/> (simulated address <paramref name="targetAddress"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Call(nint function, ulong targetAddress, TArgs args)
    {
        if (_model is { Enabled: true })
            return CallModelled(function, targetAddress, args);
        return ((delegate* managed<TArgs, int>)function)(args);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int CallModelled(nint function, ulong targetAddress, TArgs args)
    {
        var cpu = _model!.Current;
        cpu.CallIndirect(Address, targetAddress, Mitigation);
        var result = ((delegate* managed<TArgs, int>)function)(args);
        cpu.Return(Address);
        return result;
    }
}
