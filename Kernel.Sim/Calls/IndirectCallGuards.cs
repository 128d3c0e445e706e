using System.Runtime.CompilerServices;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>
/// <c>INDIRECT_CALL_1(f, f1, args)</c>: compares the target with 1 candidate in
/// the order written (T1); a match is a direct call, otherwise the mitigated indirect call.
/// </summary>
public sealed class IndirectCallGuard<TArgs, T1> : IndirectCallGuard<TArgs>
    where TArgs : struct
    where T1 : struct, ICallTarget<TArgs>
{
    public IndirectCallGuard(string name, Mitigation mitigation, CostModel? model = null, ulong address = 0)
        : base(name, [CallTarget<TArgs>.Of<T1>()], mitigation, model, address)
    {
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int Call(nint function, ulong targetAddress, TArgs args)
    {
        if (function == CallTargets<TArgs, T1>.Pointer)
            return Hit<T1>(0, args);
        return Miss(function, targetAddress, args);
    }
}

/// <summary>
/// <c>INDIRECT_CALL_2(f, f2, f1, args)</c>: compares the target with 2 candidates in
/// the order written (T1, T2); a match is a direct call, otherwise the mitigated indirect call.
/// </summary>
public sealed class IndirectCallGuard<TArgs, T1, T2> : IndirectCallGuard<TArgs>
    where TArgs : struct
    where T1 : struct, ICallTarget<TArgs>
    where T2 : struct, ICallTarget<TArgs>
{
    public IndirectCallGuard(string name, Mitigation mitigation, CostModel? model = null, ulong address = 0)
        : base(name, [CallTarget<TArgs>.Of<T1>(), CallTarget<TArgs>.Of<T2>()], mitigation, model, address)
    {
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int Call(nint function, ulong targetAddress, TArgs args)
    {
        if (function == CallTargets<TArgs, T1>.Pointer)
            return Hit<T1>(0, args);

        if (function == CallTargets<TArgs, T2>.Pointer)
            return Hit<T2>(1, args);
        return Miss(function, targetAddress, args);
    }
}

/// <summary>
/// <c>INDIRECT_CALL_3(f, f3, f2, f1, args)</c>: compares the target with 3 candidates in
/// the order written (T1, T2, T3); a match is a direct call, otherwise the mitigated indirect call.
/// </summary>
public sealed class IndirectCallGuard<TArgs, T1, T2, T3> : IndirectCallGuard<TArgs>
    where TArgs : struct
    where T1 : struct, ICallTarget<TArgs>
    where T2 : struct, ICallTarget<TArgs>
    where T3 : struct, ICallTarget<TArgs>
{
    public IndirectCallGuard(string name, Mitigation mitigation, CostModel? model = null, ulong address = 0)
        : base(name, [CallTarget<TArgs>.Of<T1>(), CallTarget<TArgs>.Of<T2>(), CallTarget<TArgs>.Of<T3>()], mitigation, model, address)
    {
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int Call(nint function, ulong targetAddress, TArgs args)
    {
        if (function == CallTargets<TArgs, T1>.Pointer)
            return Hit<T1>(0, args);

        if (function == CallTargets<TArgs, T2>.Pointer)
            return Hit<T2>(1, args);

        if (function == CallTargets<TArgs, T3>.Pointer)
            return Hit<T3>(2, args);
        return Miss(function, targetAddress, args);
    }
}

/// <summary>
/// <c>INDIRECT_CALL_4(f, f4, f3, f2, f1, args)</c>: compares the target with 4 candidates in
/// the order written (T1, T2, T3, T4); a match is a direct call, otherwise the mitigated indirect call.
/// </summary>
public sealed class IndirectCallGuard<TArgs, T1, T2, T3, T4> : IndirectCallGuard<TArgs>
    where TArgs : struct
    where T1 : struct, ICallTarget<TArgs>
    where T2 : struct, ICallTarget<TArgs>
    where T3 : struct, ICallTarget<TArgs>
    where T4 : struct, ICallTarget<TArgs>
{
    public IndirectCallGuard(string name, Mitigation mitigation, CostModel? model = null, ulong address = 0)
        : base(name, [CallTarget<TArgs>.Of<T1>(), CallTarget<TArgs>.Of<T2>(), CallTarget<TArgs>.Of<T3>(), CallTarget<TArgs>.Of<T4>()], mitigation, model, address)
    {
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int Call(nint function, ulong targetAddress, TArgs args)
    {
        if (function == CallTargets<TArgs, T1>.Pointer)
            return Hit<T1>(0, args);

        if (function == CallTargets<TArgs, T2>.Pointer)
            return Hit<T2>(1, args);

        if (function == CallTargets<TArgs, T3>.Pointer)
            return Hit<T3>(2, args);

        if (function == CallTargets<TArgs, T4>.Pointer)
            return Hit<T4>(3, args);
        return Miss(function, targetAddress, args);
    }
}
