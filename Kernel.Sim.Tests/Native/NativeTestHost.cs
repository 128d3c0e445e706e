using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

/// <summary>Skips (inconclusive) a native-lab test on a host without the lab; the unsupported path is tested separately.</summary>
internal static class NativeTestHost
{
    public static void RequireSupported() =>
        Assume.That(NativeLab.IsSupported, Is.True, $"native lab unsupported here: {NativeLab.UnsupportedReason}");

    /// <summary>Also skips where membarrier SYNC_CORE is missing (Linux before 4.16): live patching needs it.</summary>
    public static void RequirePatching()
    {
        RequireSupported();
        string? reason = null;
        try
        {
            PatchableBranch.SyncCore();
        }
        catch (NativeLabException e)
        {
            reason = e.Message;
        }

        Assume.That(reason, Is.Null, $"live patching unsupported here: {reason}");
    }
}
