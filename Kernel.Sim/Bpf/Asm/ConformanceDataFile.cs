using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// One bpf_conformance test (<c>.data</c> file): its program (<c>-- asm</c>, replaced by <c>-- raw</c> when
/// present), input memory (<c>-- mem</c>), expected r0 (<c>-- result</c>) or expected error text
/// (<c>-- error</c>). <c>-- c</c> and <c>-- no register offset</c> sections are ignored, as upstream does.
/// Parse errors are <see cref="AsmException"/>s naming the file and line.
/// </summary>
public sealed class ConformanceDataFile
{
    private ConformanceDataFile(string name, Instruction[] program, byte[] memory, ulong? result, string? error)
    {
        Name = name;
        Program = program;
        Memory = memory;
        ExpectedResult = result;
        ExpectedError = error;
    }

    /// <summary>The test name (file name without <c>.data</c>).</summary>
    public string Name { get; }

    /// <summary>The program.</summary>
    public Instruction[] Program { get; }

    /// <summary>The input memory (empty when the file has none).</summary>
    public byte[] Memory { get; }

    /// <summary>The expected final r0, when the file has a <c>-- result</c> section.</summary>
    public ulong? ExpectedResult { get; }

    /// <summary>The expected error text (last line of <c>-- error</c>), when present.</summary>
    public string? ExpectedError { get; }

    /// <summary>Reads and parses a file.</summary>
    public static ConformanceDataFile Load(string path) =>
        Parse(File.ReadAllText(path), path);

    /// <summary>Parses the text of a <c>.data</c> file; <paramref name="file"/> names it in errors and gives the test name.</summary>
    public static ConformanceDataFile Parse(string text, string file = "<input>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        // The assembler sees the file with every non-asm line blanked, so its line numbers are the file's.
        var asm = new StringBuilder();
        var hasAsm = false;
        List<(string Token, int Line, int Column)> raw = [];
        var hasRaw = false;
        var memory = new List<byte>();
        (string Text, int Line)? resultLine = null;
        string? errorLine = null;
        var section = "";
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            var content = hash >= 0 ? line[..hash] : line;
            if (content.Contains("--", StringComparison.Ordinal))
            {
                section = SectionOf(content);
                hasAsm |= section == "asm";
                hasRaw |= section == "raw";
                asm.Append('\n');
                continue;
            }

            asm.Append(section == "asm" ? content : "").Append('\n');
            if (string.IsNullOrWhiteSpace(content))
                continue;
            switch (section)
            {
                case "raw":
                    foreach (var (token, column) in Words(content))
                        raw.Add((token, i + 1, column));
                    break;
                case "mem":
                    foreach (var (token, column) in Words(content))
                    {
                        if (!byte.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b) || token.Length > 2)
                            throw new AsmException(file, i + 1, column, $"bad memory byte '{token}' (two hex digits)");
                        memory.Add(b);
                    }

                    break;
                case "result":
                    resultLine = (content.Trim(), i + 1);
                    break;
                case "error":
                    errorLine = content.Trim();
                    break;
            }
        }

        Instruction[] program;
        if (hasRaw)
            program = [.. raw.Select(r => Instruction.FromUInt64(ParseWord(r.Token, file, r.Line, r.Column)))];
        else if (hasAsm)
            program = ConformanceAssembler.Assemble(asm.ToString(), file);
        else
            throw new AsmException(file, lines.Length, 1, "no '-- asm' or '-- raw' section");

        ulong? result = null;
        if (resultLine is { } r)
            result = ParseResult(r.Text, file, r.Line);
        var name = Path.GetFileNameWithoutExtension(file);
        return new ConformanceDataFile(name, program, [.. memory], result, errorLine);
    }

    private static string SectionOf(string marker)
    {
        // Upstream picks the section by substring; "no register offset" and " c" are ignored sections.
        if (marker.Contains("no register offset", StringComparison.Ordinal))
            return "ignored";
        foreach (var name in (string[])["asm", "result", "mem", "raw", "error"])
        {
            if (marker.Contains(name, StringComparison.Ordinal))
                return name;
        }

        return "ignored";
    }

    private static IEnumerable<(string Token, int Column)> Words(string line)
    {
        var i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i]))
                i++;
            yield return (line[start..i], start + 1);
        }
    }

    private static ulong ParseWord(string token, string file, int line, int column)
    {
        var ok = token.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(token.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok)
            throw new AsmException(file, line, column, $"bad raw instruction word '{token}' (a 64-bit number)");
        return value;
    }

    private static ulong ParseResult(string text, string file, int line)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
            ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            return hex;
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var dec))
            return dec;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var signed))
            return (ulong)signed;
        throw new AsmException(file, line, 1, $"bad result '{text}' (0x hex or decimal)");
    }
}
