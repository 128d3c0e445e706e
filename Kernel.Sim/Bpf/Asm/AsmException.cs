namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// An error in assembly text, located by file, 1-based line and 1-based column, formatted as compilers do:
/// <c>prog.s:3:9: error: unknown register '%r11'</c>.
/// </summary>
public sealed class AsmException : Exception
{
    public AsmException(string file, int line, int column, string reason)
        : base($"{file}:{line}:{column}: error: {reason}")
    {
        File = file;
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>The file name (or a label such as <c>&lt;stdin&gt;</c>).</summary>
    public string File { get; }

    /// <summary>1-based line.</summary>
    public int Line { get; }

    /// <summary>1-based column.</summary>
    public int Column { get; }

    /// <summary>The reason without the location.</summary>
    public string Reason { get; }
}
