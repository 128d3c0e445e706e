using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

/// <summary>Skips (inconclusive) a native-lab test on a host without the lab; the unsupported path is tested separately.</summary>
internal static class NativeTestHost
{
    public static void RequireSupported() =>
        Assume.That(NativeLab.IsSupported, Is.True, $"native lab unsupported here: {NativeLab.UnsupportedReason}");
}
