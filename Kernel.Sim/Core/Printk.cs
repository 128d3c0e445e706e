using System.Globalization;

namespace Kernel.Sim.Core;

/// <summary>The printk ring (log_buf): bounded, oldest lines dropped first, printed as dmesg does.</summary>
public sealed class Printk
{
    private readonly Lock _lock = new();
    private readonly Queue<(long Ns, string Text)> _lines = new();
    private readonly Func<long> _clock;

    internal Printk(Func<long> clock, int capacity)
    {
        _clock = clock;
        Capacity = capacity;
    }

    /// <summary>How many lines the ring keeps.</summary>
    public int Capacity { get; }

    /// <summary>printk(): stamps the message with the clock and stores it.</summary>
    public void Log(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = _clock();
        lock (_lock)
        {
            if (_lines.Count == Capacity)
                _lines.Dequeue();
            _lines.Enqueue((now, message));
        }
    }

    /// <summary>The ring as dmesg prints it: <c>[    0.000123] message</c>.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
                return _lines.Select(l => FormatLine(l.Ns, l.Text)).ToArray();
        }
    }

    /// <summary>Formats one line: seconds right-aligned in 5 columns, microseconds in 6.</summary>
    public static string FormatLine(long ns, string text) =>
        string.Create(CultureInfo.InvariantCulture, $"[{ns / 1_000_000_000,5}.{ns % 1_000_000_000 / 1000:D6}] {text}");
}
