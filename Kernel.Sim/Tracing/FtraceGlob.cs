namespace Kernel.Sim.Tracing;

/// <summary>How a filter pattern matches, as ftrace's filter_parse_regex classifies it.</summary>
public enum GlobMatchType
{
    /// <summary>No wildcard: the whole name.</summary>
    Full,
    /// <summary><c>prefix*</c>.</summary>
    FrontOnly,
    /// <summary><c>*contains*</c>.</summary>
    MiddleOnly,
    /// <summary><c>*suffix</c>.</summary>
    EndOnly,
    /// <summary>Anything else with <c>*</c>, <c>?</c>, <c>[...]</c> or <c>\</c>: a full glob.</summary>
    Glob,
}

/// <summary>
/// One set_ftrace_filter / set_ftrace_notrace pattern: an optional leading <c>!</c> (remove matches), then a name with
/// the kernel's wildcard rules. A <c>*</c> that is first, last, or both picks a fast match type; any other wildcard
/// makes it a full glob (<c>*</c>, <c>?</c>, <c>[a-z]</c>, <c>[!x]</c>, <c>\</c> escapes).
/// </summary>
public sealed class FtraceGlob
{
    private FtraceGlob(string text, bool negate, GlobMatchType type, string search)
    {
        Text = text;
        Negate = negate;
        Type = type;
        Search = search;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>Leading <c>!</c>: the matches are removed from the set.</summary>
    public bool Negate { get; }

    public GlobMatchType Type { get; }

    /// <summary>The part compared (the pattern without <c>!</c> and without the wildcard of a fast type).</summary>
    public string Search { get; }

    /// <summary>Classifies <paramref name="pattern"/> as filter_parse_regex does.</summary>
    public static FtraceGlob Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var negate = pattern.StartsWith('!');
        var body = negate ? pattern[1..] : pattern;
        var type = GlobMatchType.Full;
        var search = body;
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c == '*')
            {
                if (i == 0)
                {
                    type = GlobMatchType.EndOnly;
                }
                else if (i == body.Length - 1)
                {
                    type = type == GlobMatchType.EndOnly ? GlobMatchType.MiddleOnly : GlobMatchType.FrontOnly;
                    search = body[..i];
                    break;
                }
                else
                {
                    return new FtraceGlob(pattern, negate, GlobMatchType.Glob, body);
                }
            }
            else if (c is '[' or '?' or '\\')
            {
                return new FtraceGlob(pattern, negate, GlobMatchType.Glob, body);
            }
        }

        if (type is GlobMatchType.EndOnly or GlobMatchType.MiddleOnly)
            search = search[1..];
        return new FtraceGlob(pattern, negate, type, search);
    }

    /// <summary>Whether <paramref name="name"/> matches (ignoring <see cref="Negate"/>).</summary>
    public bool Matches(string name) => Type switch
    {
        GlobMatchType.Full => name == Search,
        GlobMatchType.FrontOnly => name.StartsWith(Search, StringComparison.Ordinal),
        GlobMatchType.MiddleOnly => name.Contains(Search, StringComparison.Ordinal),
        GlobMatchType.EndOnly => name.EndsWith(Search, StringComparison.Ordinal),
        _ => GlobMatch(Search, name),
    };

    /// <summary>lib/glob.c semantics: <c>*</c>, <c>?</c>, character classes with ranges and <c>!</c>, <c>\</c> escapes.</summary>
    public static bool GlobMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, backP = -1, backT = -1;
        while (true)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                backP = ++p;
                backT = t;
                continue;
            }

            if (t == text.Length)
                return p == pattern.Length;
            if (p < pattern.Length && StepMatches(pattern, ref p, text[t]))
            {
                t++;
                continue;
            }

            if (backP < 0)
                return false;
            p = backP;
            t = ++backT;
        }
    }

    private static bool StepMatches(ReadOnlySpan<char> pattern, ref int p, char c)
    {
        var d = pattern[p];
        if (d == '?')
        {
            p++;
            return true;
        }

        if (d == '[')
        {
            var q = p + 1;
            var inverted = q < pattern.Length && pattern[q] == '!';
            if (inverted)
                q++;
            var matched = false;
            var first = true;
            while (q < pattern.Length && (first || pattern[q] != ']'))
            {
                first = false;
                var lo = pattern[q];
                var hi = lo;
                if (q + 2 < pattern.Length && pattern[q + 1] == '-' && pattern[q + 2] != ']')
                {
                    hi = pattern[q + 2];
                    q += 2;
                }

                if (c >= lo && c <= hi)
                    matched = true;
                q++;
            }

            if (q >= pattern.Length)
                return d == c && Advance(ref p); // unterminated class: a literal '['
            p = q + 1;
            return matched != inverted;
        }

        if (d == '\\' && p + 1 < pattern.Length)
        {
            if (pattern[p + 1] != c)
                return false;
            p += 2;
            return true;
        }

        if (d != c)
            return false;
        p++;
        return true;
    }

    private static bool Advance(ref int p)
    {
        p++;
        return true;
    }

    public override string ToString() => Text;
}
