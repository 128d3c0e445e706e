namespace System.Runtime.CompilerServices;

/// <summary>
/// Recognised by the runtime by name: an assembly carrying it may use the named assembly's non-public types and
/// members. The JIT puts it on each program's dynamic assembly so the emitted IL can reach Kernel.Sim's internals.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
{
    /// <summary>The assembly whose internals are reachable.</summary>
    public string AssemblyName { get; } = assemblyName;
}
