using System.Text;
using System.Text.RegularExpressions;

namespace Kernel.Sim.Tests.Docs;

/// <summary>
/// One <c>kernelsim</c> command shown in a ```sh block of a doc, with the output shape it promises: the
/// <c>&lt;!-- expect ... --&gt;</c> comment right after the block holds one line per command, in order,
/// each a regular expression (multiline) the command's stdout must match, optionally prefixed by
/// <c>[exit N] </c> when the command is shown failing on purpose.
/// </summary>
public sealed record DocCommand(string Doc, int Line, string Text, string[] Args, int ExpectedExit, string Pattern)
{
    public override string ToString() => $"{Doc}:{Line}: {Text}";
}

/// <summary>Extracts <see cref="DocCommand"/>s from Markdown; malformed docs are reported as errors naming the line.</summary>
public static partial class DocCommands
{
    private const string DotnetRun = "dotnet run --project Kernel.Sim.Bench";

    /// <summary>The commands of <paramref name="markdown"/>; <paramref name="errors"/> gets every problem found.</summary>
    public static IReadOnlyList<DocCommand> Parse(string doc, string markdown, List<string> errors)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var commands = new List<DocCommand>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```sh")
                continue;
            var block = new List<(int Line, string Text, string[] Args)>();
            var j = i + 1;
            for (; j < lines.Length && lines[j].Trim() != "```"; j++)
            {
                var args = CommandArgs(lines[j].Trim(), out var text);
                if (args is not null)
                    block.Add((j + 1, text, args));
            }

            if (j == lines.Length)
            {
                errors.Add($"{doc}:{i + 1}: unterminated ```sh block");
                break;
            }

            i = j;
            if (block.Count == 0)
                continue;
            var expectations = ReadExpect(lines, j + 1, out var next);
            if (expectations is null)
            {
                errors.Add($"{doc}:{block[0].Line}: no <!-- expect ... --> comment after the block");
                continue;
            }

            i = next - 1;
            if (expectations.Count != block.Count)
            {
                errors.Add($"{doc}:{block[0].Line}: the block has {block.Count} command(s) but its expect comment {expectations.Count} line(s)");
                continue;
            }

            for (var k = 0; k < block.Count; k++)
            {
                var (exit, pattern) = expectations[k];
                commands.Add(new DocCommand(doc, block[k].Line, block[k].Text, block[k].Args, exit, pattern));
            }
        }

        return commands;
    }

    // The CLI arguments of a `kernelsim ...` or `dotnet run --project Kernel.Sim.Bench ... -- ...` line, or null
    // when the line is not one to run (dotnet test, bench suites, anything else).
    private static string[]? CommandArgs(string line, out string text)
    {
        text = StripComment(line);
        string rest;
        if (text.StartsWith("kernelsim ", StringComparison.Ordinal))
            rest = text["kernelsim ".Length..];
        else if (text.StartsWith(DotnetRun, StringComparison.Ordinal) && text.Contains(" -- ", StringComparison.Ordinal))
            rest = text[(text.IndexOf(" -- ", StringComparison.Ordinal) + 4)..];
        else
            return null;
        var args = Split(rest);
        return args.Length == 0 || args[0] == "bench" ? null : args;
    }

    // Drops a trailing ` # comment` outside quotes.
    private static string StripComment(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
            }
            else if (c is '\'' or '"')
                quote = c;
            else if (c == '#' && i > 0 && char.IsWhiteSpace(line[i - 1]))
                return line[..i].TrimEnd();
        }

        return line;
    }

    /// <summary>Splits a shell command line into words: whitespace separates, '...' and "..." quote.</summary>
    public static string[] Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        var quote = '\0';
        foreach (var c in line)
        {
            if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
                else
                    word.Append(c);
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                    words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (quote != '\0')
            throw new FormatException($"unterminated {quote} in: {line}");
        if (inWord)
            words.Add(word.ToString());
        return [.. words];
    }

    // `<!-- expect: ONE -->` or `<!-- expect` / lines / `-->`, after optional blank lines; null when absent.
    private static List<(int Exit, string Pattern)>? ReadExpect(string[] lines, int start, out int next)
    {
        next = start;
        var i = start;
        while (i < lines.Length && lines[i].Trim().Length == 0)
            i++;
        if (i == lines.Length)
            return null;
        var first = lines[i].Trim();
        var single = SingleExpect().Match(first);
        if (single.Success)
        {
            next = i + 1;
            return [Expectation(single.Groups[1].Value)];
        }

        if (first != "<!-- expect")
            return null;
        var result = new List<(int, string)>();
        for (i++; i < lines.Length && lines[i].Trim() != "-->"; i++)
            result.Add(Expectation(lines[i].Trim()));
        next = i + 1;
        return result;
    }

    private static (int Exit, string Pattern) Expectation(string text)
    {
        var exit = ExitPrefix().Match(text);
        return exit.Success ? (int.Parse(exit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), text[exit.Length..]) : (0, text);
    }

    [GeneratedRegex(@"^<!-- expect: (.*) -->$")]
    private static partial Regex SingleExpect();

    [GeneratedRegex(@"^\[exit (\d+)\] ")]
    private static partial Regex ExitPrefix();
}
