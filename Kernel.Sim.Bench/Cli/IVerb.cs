using System.CommandLine;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// One command of the <c>kernelsim</c> tree. Every non-abstract implementation in this assembly is found
/// by reflection and placed under its <see cref="Parent"/> group (empty for a top-level verb), so adding a
/// verb is adding one file.
/// </summary>
public interface IVerb
{
    /// <summary>The group this verb belongs to (<c>"bpf"</c>), or empty for a top-level verb.</summary>
    string Parent { get; }

    /// <summary>Builds the command with its arguments, options and action.</summary>
    Command Build(CliContext context);
}

/// <summary>Where verbs write: stdout and stderr (redirected in tests); <paramref name="In"/> is stdin when a verb reads it.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, TextReader? In = null);
