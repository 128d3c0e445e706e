using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>One step of a text_poke_bp.</summary>
public enum TextPokeStep
{
    /// <summary>Writes <c>int3</c> over the first byte; executors now trap and the handler emulates the new instruction.</summary>
    Int3,

    /// <summary>Writes every byte but the first.</summary>
    Tail,

    /// <summary>Writes the new first byte: the new instruction is complete.</summary>
    Head,

    /// <summary>Serialises every CPU (an IPI running <c>sync_core</c>), so no CPU holds stale instruction bytes.</summary>
    Sync,
}

/// <summary>What an observer sees after each step: the step and the site's bytes at that moment.</summary>
public readonly record struct TextPokeEvent(TextPokeStep Step, byte[] Bytes);

/// <summary>
/// Linux's text_poke_bp protocol (arch/x86/kernel/alternative.c) for rewriting a live instruction that other CPUs may
/// be executing: int3 on the first byte, sync, tail bytes, sync, first byte, sync. At no moment does an executor see a
/// mix of old and new bytes that decodes to something else: it sees the old instruction, the breakpoint (whose handler
/// emulates the new instruction) or the new instruction. In managed code the executable form of the site (a function
/// pointer) is published with one atomic store at the int3 step, which is when the trap handler starts running the new
/// instruction. Concurrent pokes of one site are serialised (text_mutex).
/// </summary>
public static class TextPoke
{
    /// <summary>
    /// Rewrites <paramref name="site"/> to <paramref name="instruction"/>. <paramref name="publish"/> makes the managed
    /// code follow (one atomic store); <paramref name="observer"/> sees each step; the current CPU of
    /// <paramref name="model"/> is charged one text poke.
    /// </summary>
    public static void Poke(PatchSite site, ReadOnlySpan<byte> instruction, Action? publish = null, CostModel? model = null, Action<TextPokeEvent>? observer = null)
    {
        ArgumentNullException.ThrowIfNull(site);
        if (instruction.Length != PatchSite.Length)
            throw new ArgumentException($"text_poke_bp {site.Name}: instruction must be {PatchSite.Length} bytes", nameof(instruction));

        lock (site.TextMutex)
        {
            var current = site.Bytes;
            if (instruction.SequenceEqual(current))
            {
                // Nothing to patch (Linux skips identical pokes too), but the managed side still follows: two
                // targets whose simulated addresses collide encode alike.
                publish?.Invoke();
                return;
            }

            site.Write(0, [0xcc]);
            Report(observer, TextPokeStep.Int3, site);
            publish?.Invoke();
            Report(observer, TextPokeStep.Sync, site);

            if (!instruction[1..].SequenceEqual(current.AsSpan(1)))
            {
                site.Write(1, instruction[1..]);
                Report(observer, TextPokeStep.Tail, site);
                Report(observer, TextPokeStep.Sync, site);
            }

            site.Write(0, instruction[..1]);
            Report(observer, TextPokeStep.Head, site);
            Report(observer, TextPokeStep.Sync, site);
            site.Pokes++;
        }

        if (model is { Enabled: true })
            model.Current.TextPoke();
    }

    private static void Report(Action<TextPokeEvent>? observer, TextPokeStep step, PatchSite site) =>
        observer?.Invoke(new TextPokeEvent(step, site.Bytes));
}
