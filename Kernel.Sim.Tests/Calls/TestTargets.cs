using Kernel.Sim.Calls;

namespace Kernel.Sim.Tests.Calls;

// Targets tell themselves apart by what they add to the argument.
public readonly struct AddOne : ICallTarget<nint>
{
    public static int Invoke(nint args) => (int)args + 1;
}

public readonly struct AddTwo : ICallTarget<nint>
{
    public static int Invoke(nint args) => (int)args + 2;
}

public readonly struct AddThree : ICallTarget<nint>
{
    public static int Invoke(nint args) => (int)args + 3;
}

public readonly struct AddFour : ICallTarget<nint>
{
    public static int Invoke(nint args) => (int)args + 4;
}

public readonly struct AddFive : ICallTarget<nint>
{
    public static int Invoke(nint args) => (int)args + 5;
}

/// <summary>Not a struct target: used to check the run-time type check.</summary>
public sealed class NotATarget
{
}

/// <summary>A caller body with an inline static_call: returns 100 + the call's result, or -1 when the call is NULL.</summary>
public readonly struct PlusHundredCaller : IStaticCallCaller<nint>
{
    public static int Run<TTarget>(nint args)
        where TTarget : struct, ICallTarget<nint> =>
        StaticCalls.IsNull<nint, TTarget>() ? -1 : 100 + TTarget.Invoke(args);
}
