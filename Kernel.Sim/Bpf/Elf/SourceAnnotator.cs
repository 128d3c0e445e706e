using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf.Elf.Btf;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>
/// Adds source lines to a verifier log as Linux's verbose_linfo does when the program came with BTF line info:
/// before an instruction line whose covering line_info record differs from the last one printed, a line
/// <c>; SOURCE @ FILE:LINE</c> (source left-trimmed, file without its directories).
/// </summary>
public static class SourceAnnotator
{
    /// <summary>The log with source lines inserted; unchanged when <paramref name="program"/> has no line info.</summary>
    public static string Annotate(string log, BpfProgramSpec program)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(program);
        if (program.LineInfo.Count == 0)
            return log;
        var sb = new StringBuilder(log.Length * 2);
        BtfLineInfo? last = null;
        foreach (var line in log.Split('\n'))
        {
            if (InstructionIndex(line) is { } idx && program.LineFor(idx) is { } li && li != last)
            {
                sb.Append("; ").Append(li.Line.TrimStart()).Append(" @ ").Append(Path.GetFileName(li.FileName))
                    .Append(':').Append(li.LineNumber.ToString(CultureInfo.InvariantCulture)).Append('\n');
                last = li;
            }

            sb.Append(line).Append('\n');
        }

        sb.Length--;
        return sb.ToString();
    }

    /// <summary>The index of an instruction line <c>N: (op) ...</c>, or null for state and other lines.</summary>
    private static int? InstructionIndex(string line)
    {
        var colon = line.IndexOf(": (", StringComparison.Ordinal);
        if (colon <= 0)
            return null;
        return int.TryParse(line.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var idx) ? idx : null;
    }
}
