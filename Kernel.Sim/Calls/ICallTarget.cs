namespace Kernel.Sim.Calls;

/// <summary>
/// A call target known as a type: a struct whose static <see cref="Invoke"/> is the function. Code generic over
/// <c>T : struct, ICallTarget&lt;TArgs&gt;</c> is specialised by the JIT per target, so <c>T.Invoke(args)</c> is a
/// direct <c>call</c> — this is how guards and patched static_call sites make real direct calls in managed code.
/// </summary>
/// <typeparam name="TArgs">The arguments, one struct (a value tuple for several), passed by value: no allocation.</typeparam>
public interface ICallTarget<TArgs>
    where TArgs : struct
{
    /// <summary>The function.</summary>
    static abstract int Invoke(TArgs args);
}
