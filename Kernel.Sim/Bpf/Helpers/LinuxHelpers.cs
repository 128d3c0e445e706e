using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// Linux's helpers by id (enum bpf_func_id), with the verifier's prototypes (<see cref="HelperPrototypes"/>), and the
/// per-program-type registry: a type gets every helper its get_func_proto allows. The <c>raw</c> type (the
/// conformance convention) keeps helper 5 as the suite's "unwind" instead of bpf_ktime_get_ns.
/// </summary>
public static class LinuxHelpers
{
    private static readonly (int Id, Type Type, string Method, HelperFlags Flags)[] Implementations =
    [
        (1, typeof(MapHelpers), nameof(MapHelpers.MapLookupElem), HelperFlags.None),
        (2, typeof(MapHelpers), nameof(MapHelpers.MapUpdateElem), HelperFlags.None),
        (3, typeof(MapHelpers), nameof(MapHelpers.MapDeleteElem), HelperFlags.None),
        (4, typeof(ProbeReadHelpers), nameof(ProbeReadHelpers.ProbeRead), HelperFlags.None),
        (5, typeof(KernelHelpers), nameof(KernelHelpers.KtimeGetNs), HelperFlags.None),
        (6, typeof(TracePrintk), nameof(TracePrintk.TracePrintkHelper), HelperFlags.None),
        (7, typeof(KernelHelpers), nameof(KernelHelpers.GetPrandomU32), HelperFlags.None),
        (8, typeof(KernelHelpers), nameof(KernelHelpers.GetSmpProcessorId), HelperFlags.None),
        (12, typeof(TailCalls), nameof(TailCalls.TailCall), HelperFlags.TailCall),
        (14, typeof(KernelHelpers), nameof(KernelHelpers.GetCurrentPidTgid), HelperFlags.None),
        (16, typeof(KernelHelpers), nameof(KernelHelpers.GetCurrentComm), HelperFlags.None),
        (25, typeof(OutputHelpers), nameof(OutputHelpers.PerfEventOutput), HelperFlags.None),
        (45, typeof(ProbeReadHelpers), nameof(ProbeReadHelpers.ProbeReadStr), HelperFlags.None),
        (113, typeof(ProbeReadHelpers), nameof(ProbeReadHelpers.ProbeReadKernel), HelperFlags.None),
        (115, typeof(ProbeReadHelpers), nameof(ProbeReadHelpers.ProbeReadKernelStr), HelperFlags.None),
        (125, typeof(KernelHelpers), nameof(KernelHelpers.KtimeGetBootNs), HelperFlags.None),
        (130, typeof(OutputHelpers), nameof(OutputHelpers.RingbufOutput), HelperFlags.None),
        (131, typeof(OutputHelpers), nameof(OutputHelpers.RingbufReserve), HelperFlags.None),
        (132, typeof(OutputHelpers), nameof(OutputHelpers.RingbufSubmit), HelperFlags.None),
        (133, typeof(OutputHelpers), nameof(OutputHelpers.RingbufDiscard), HelperFlags.None),
    ];

    /// <summary>The helper ids KernelSim implements.</summary>
    public static IEnumerable<int> Ids => Implementations.Select(i => i.Id);

    /// <summary>A registry with the helpers <paramref name="type"/> may call.</summary>
    public static HelperRegistry CreateRegistry(ProgramType type)
    {
        var registry = type is RawProgramType ? HelperRegistry.CreateConformance() : new HelperRegistry();
        Register(registry, type);
        return registry;
    }

    /// <summary>Adds the helpers <paramref name="type"/> may call that <paramref name="registry"/> does not have yet.</summary>
    public static void Register(HelperRegistry registry, ProgramType type)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(type);
        foreach (var (id, implType, method, flags) in Implementations)
        {
            var prototype = HelperPrototypes.All[id];
            // raw is not a Linux type: it may call every helper (tracing ones included), as the conformance
            // harness and the tests drive it directly.
            if (registry.Find(id) is not null || (type is not RawProgramType && !type.IsHelperAllowed(prototype)))
                continue;
            registry.Register(id, prototype.LogName, implType, method, flags);
        }
    }
}
