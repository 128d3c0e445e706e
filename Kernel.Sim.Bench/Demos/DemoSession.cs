using System.Globalization;

namespace Kernel.Sim.Bench.Demos;

/// <summary>
/// Where a demo writes: numbered steps, narration, and blocks of real output (indented, as a terminal excerpt). In
/// step mode each step after the first waits for a line on <see cref="Input"/> (Enter); end of input ends the
/// waiting and the demo runs on. <see cref="Quick"/> asks for small counts (tests and CI).
/// </summary>
public sealed class DemoSession
{
    private readonly TextReader? _input;
    private bool _stepping;

    public DemoSession(TextWriter output, TextReader? input = null, bool step = false, bool quick = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        Out = output;
        _input = input;
        _stepping = step && input is not null;
        Quick = quick;
    }

    /// <summary>The demo's output.</summary>
    public TextWriter Out { get; }

    /// <summary>Use small counts: the demo must finish in a second or two.</summary>
    public bool Quick { get; }

    /// <summary>Steps started so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Starts step <see cref="Steps"/>+1 titled <paramref name="title"/>, waiting for Enter first in step mode.</summary>
    public void Step(string title)
    {
        if (Steps > 0 && _stepping)
        {
            Out.Write("[press Enter for the next step] ");
            Out.Flush();
            if (_input!.ReadLine() is null)
                _stepping = false; // stdin closed: run the rest straight through
            Out.WriteLine();
        }

        Steps++;
        if (Steps > 1)
            Out.WriteLine();
        Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== {Steps}. {title}"));
    }

    /// <summary>Narration: what to look at and why.</summary>
    public void Say(string text)
    {
        foreach (var line in text.Split('\n'))
            Out.WriteLine(line.TrimEnd());
    }

    /// <summary>A block of real output, indented by four spaces (a command's output, a table, trace lines).</summary>
    public void Show(string text)
    {
        foreach (var line in text.TrimEnd('\n').Split('\n'))
            Out.WriteLine(line.Length == 0 ? string.Empty : "    " + line.TrimEnd('\r'));
    }

    /// <summary>A shell command shown as typed (<c>$ ...</c> or <c># ...</c> for root), before its output.</summary>
    public void Command(string command) => Out.WriteLine("  " + command);

    /// <summary>Formats invariantly.</summary>
    public static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
