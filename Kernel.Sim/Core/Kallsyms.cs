using System.Globalization;
using System.Text;

namespace Kernel.Sim.Core;

/// <summary>One kallsyms entry: address, size, nm-style type letter and name.</summary>
public sealed record KernelSymbol(ulong Address, ulong Size, char Type, string Name)
{
    /// <summary>One past the last byte.</summary>
    public ulong End => Address + Size;
}

/// <summary>
/// The kernel symbol table (kallsyms). Text symbols get addresses from <see cref="TextBase"/> upwards, as in an x86-64
/// kernel without KASLR; data symbols carry the real address of their native allocation. Lookups are lock-free over
/// an immutable snapshot republished on every change.
/// </summary>
public sealed class Kallsyms
{
    /// <summary>Where simulated kernel text starts (_stext of a non-KASLR x86-64 kernel).</summary>
    public const ulong TextBase = 0xffffffff81000000;

    private readonly Lock _lock = new();
    private ulong _nextText = TextBase;
    private Snapshot _snapshot = new([], new Dictionary<string, KernelSymbol[]>(StringComparer.Ordinal));

    private sealed record Snapshot(KernelSymbol[] ByAddress, Dictionary<string, KernelSymbol[]> ByName);

    /// <summary>Every symbol by address.</summary>
    public IReadOnlyList<KernelSymbol> Symbols => Volatile.Read(ref _snapshot).ByAddress;

    /// <summary>Places a text symbol of <paramref name="size"/> bytes at the next 16-byte aligned text address.</summary>
    public KernelSymbol AddText(string name, ulong size, bool global = true)
    {
        lock (_lock)
        {
            var symbol = new KernelSymbol(_nextText, size, global ? 'T' : 't', name);
            _nextText = (_nextText + size + 15) & ~15UL;
            Publish(symbol);
            return symbol;
        }
    }

    /// <summary>Adds a symbol at a given address (a data object in kernel memory: type D, B or R).</summary>
    public KernelSymbol Add(ulong address, ulong size, char type, string name)
    {
        var symbol = new KernelSymbol(address, size, type, name);
        lock (_lock)
            Publish(symbol);
        return symbol;
    }

    private void Publish(KernelSymbol symbol)
    {
        var old = _snapshot;
        var byAddress = old.ByAddress.Append(symbol).OrderBy(s => s.Address).ThenBy(s => s.Name, StringComparer.Ordinal).ToArray();
        var byName = new Dictionary<string, KernelSymbol[]>(old.ByName, StringComparer.Ordinal);
        byName[symbol.Name] = byName.TryGetValue(symbol.Name, out var same) ? [.. same, symbol] : [symbol];
        Volatile.Write(ref _snapshot, new Snapshot(byAddress, byName));
    }

    /// <summary>kallsyms_lookup_name: the first symbol called <paramref name="name"/>, or null.</summary>
    public KernelSymbol? Lookup(string name) =>
        Volatile.Read(ref _snapshot).ByName.TryGetValue(name, out var found) ? found[0] : null;

    /// <summary>How many symbols share <paramref name="name"/> (kprobe events refuse non-unique names).</summary>
    public int CountNamed(string name) =>
        Volatile.Read(ref _snapshot).ByName.TryGetValue(name, out var found) ? found.Length : 0;

    /// <summary>The symbol containing <paramref name="address"/>, or null.</summary>
    public KernelSymbol? Find(ulong address)
    {
        var symbols = Volatile.Read(ref _snapshot).ByAddress;
        int lo = 0, hi = symbols.Length - 1;
        KernelSymbol? best = null;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (symbols[mid].Address <= address)
            {
                best = symbols[mid];
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return best is not null && (address < best.End || (best.Size == 0 && address == best.Address)) ? best : null;
    }

    /// <summary>printk's <c>%ps</c>: the bare symbol name, or <c>0x…</c> when unknown.</summary>
    public string FormatName(ulong address) =>
        Find(address)?.Name ?? "0x" + address.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>printk's <c>%pS</c>: <c>sym+0xoff/0xsize</c>, or <c>0x…</c> when unknown.</summary>
    public string FormatOffset(ulong address)
    {
        var symbol = Find(address);
        return symbol is null
            ? "0x" + address.ToString("x", CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{symbol.Name}+0x{address - symbol.Address:x}/0x{symbol.Size:x}");
    }

    /// <summary>/proc/kallsyms: <c>ffffffff81000000 T name</c>, one line per symbol, by address.</summary>
    public string ProcKallsyms()
    {
        var text = new StringBuilder();
        foreach (var s in Symbols)
            text.Append(CultureInfo.InvariantCulture, $"{s.Address:x16} {s.Type} {s.Name}\n");
        return text.ToString();
    }
}
