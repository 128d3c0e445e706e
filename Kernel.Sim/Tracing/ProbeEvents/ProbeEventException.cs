namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>
/// A rejected probe definition: the error_log message (trace_probe.h's text), the position of the caret in the
/// command, and the errno the write fails with.
/// </summary>
public sealed class ProbeEventException(string message, int position, int errno, string command) : Exception(message)
{
    /// <summary>Byte offset of the problem in <see cref="Command"/>.</summary>
    public int Position { get; } = position;

    /// <summary>Negative errno (-EINVAL, -EEXIST, -ENOENT, ...).</summary>
    public int Errno { get; } = errno;

    /// <summary>The command as logged (its words joined by single spaces).</summary>
    public string Command { get; } = command;

    /// <summary>The error_log entry's two last lines: <c>  Command: …</c> and the caret.</summary>
    public string Caret => $"  Command: {Command}\n{new string(' ', "  Command: ".Length + Position)}^";
}
