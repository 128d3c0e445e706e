namespace Kernel.Sim.Calls;

/// <summary>
/// Simulated kernel text addresses for functions and call sites, derived from their names so that they are the same
/// in every run (the branch predictor model indexes by address). 16-byte aligned, inside the kernel text mapping.
/// </summary>
public static class KernelText
{
    /// <summary>Start of the kernel text mapping (<c>_stext</c> on x86-64 with the default layout).</summary>
    public const ulong Start = 0xffff_ffff_8100_0000;

    /// <summary>Size of the range names are hashed into.</summary>
    public const ulong Size = 0x0100_0000;

    /// <summary>A stable address for <paramref name="name"/> (FNV-1a over its UTF-16 code units).</summary>
    public static ulong AddressOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var hash = 0xcbf29ce484222325UL;
        foreach (var c in name)
        {
            hash ^= c;
            hash *= 0x100000001b3UL;
        }

        return Start + ((hash % Size) & ~0xFUL);
    }
}
