namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>How a fetched value is printed.</summary>
public enum FetchKind
{
    Unsigned,
    Signed,
    Hex,
    Char,
    String,
    Symbol,
}

/// <summary>A kprobe_events argument type (<c>u32</c>, <c>x64</c>, <c>string</c>, <c>symbol</c>, a bitfield, an array).</summary>
public sealed record FetchType(string Name, int Size, FetchKind Kind, Bitfield? Bitfield = null, int ArrayLength = 0)
{
    /// <summary>The default type of an argument on a 64-bit kernel.</summary>
    public static readonly FetchType Default = Parse("x64")!;

    /// <summary>Bytes the field takes in the entry (strings: a 4-byte __data_loc).</summary>
    public int FieldSize => Kind == FetchKind.String ? 4 : Size * Math.Max(1, ArrayLength);

    public bool IsSigned => Kind == FetchKind.Signed;

    /// <summary>The field type in the event's format file.</summary>
    public string FormatType => Kind switch
    {
        FetchKind.String => "__data_loc char[]",
        FetchKind.Signed => $"s{Size * 8}",
        _ => $"u{Size * 8}",
    };

    /// <summary>The printf format of one element in the format file's print fmt.</summary>
    public string PrintFormat => Kind switch
    {
        FetchKind.Unsigned => Size == 8 ? "%Lu" : "%u",
        FetchKind.Signed => Size == 8 ? "%Ld" : "%d",
        FetchKind.Hex => Size == 8 ? "0x%Lx" : "0x%x",
        FetchKind.Char => "'%c'",
        FetchKind.String => "\\\"%s\\\"",
        _ => "%pS",
    };

    /// <summary>Parses a type name; null when unknown.</summary>
    public static FetchType? Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var array = 0;
        var open = name.IndexOf('[', StringComparison.Ordinal);
        if (open >= 0)
        {
            if (!name.EndsWith(']') || !int.TryParse(name.AsSpan(open + 1, name.Length - open - 2), out array) || array <= 0)
                return null;
            var element = Parse(name[..open]);
            return element is null || element.Kind == FetchKind.String || element.ArrayLength > 0 ? null : element with { Name = name, ArrayLength = array };
        }

        switch (name)
        {
            case "string":
            case "ustring":
            case "symstr":
                return new FetchType(name, 4, FetchKind.String);
            case "char":
                return new FetchType(name, 1, FetchKind.Char);
            case "symbol":
                return new FetchType(name, 8, FetchKind.Symbol);
        }

        if (name.Length >= 2 && name[0] == 'b')
            return ParseBitfield(name);
        if (name.Length < 2 || !int.TryParse(name.AsSpan(1), out var bits) || bits is not (8 or 16 or 32 or 64))
            return null;
        return name[0] switch
        {
            'u' => new FetchType(name, bits / 8, FetchKind.Unsigned),
            's' => new FetchType(name, bits / 8, FetchKind.Signed),
            'x' => new FetchType(name, bits / 8, FetchKind.Hex),
            _ => null,
        };
    }

    private static FetchType? ParseBitfield(string name)
    {
        // b<bit-width>@<bit-offset>/<container-size>
        var at = name.IndexOf('@', StringComparison.Ordinal);
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (at < 0 || slash < at
            || !int.TryParse(name.AsSpan(1, at - 1), out var width)
            || !int.TryParse(name.AsSpan(at + 1, slash - at - 1), out var offset)
            || !int.TryParse(name.AsSpan(slash + 1), out var container)
            || container is not (8 or 16 or 32 or 64)
            || width <= 0 || offset < 0 || width + offset > container)
            return null;
        return new FetchType(name, container / 8, FetchKind.Unsigned, new Bitfield(width, offset, container));
    }

    /// <summary>True when the name looks like a bitfield (to report BAD_BITFIELD rather than BAD_TYPE).</summary>
    public static bool LooksLikeBitfield(string name) => name.Length > 1 && name[0] == 'b' && char.IsDigit(name[1]);
}
