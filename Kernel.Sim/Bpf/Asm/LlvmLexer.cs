namespace Kernel.Sim.Bpf.Asm;

/// <summary>The kinds of token in one line of LLVM-syntax BPF assembly.</summary>
internal enum LlvmTokenKind
{
    /// <summary>A name: register, keyword, label or directive (<c>r1</c>, <c>goto</c>, <c>LBB0_2</c>, <c>.quad</c>).</summary>
    Identifier,

    /// <summary>An unsigned decimal or <c>0x</c> hex number (a leading minus is a separate token).</summary>
    Number,

    /// <summary>An operator or punctuation mark (<c>+=</c>, <c>s&lt;=</c>, <c>(</c>, <c>*</c>).</summary>
    Punct,
}

/// <summary>One token with its 1-based column; <see cref="Value"/> holds a number's magnitude.</summary>
internal readonly record struct LlvmToken(LlvmTokenKind Kind, string Text, int Column, ulong Value, bool Overflow)
{
    public bool Is(string punct) => Kind == LlvmTokenKind.Punct && Text == punct;

    public bool IsWord(string word) => Kind == LlvmTokenKind.Identifier && Text == word;
}

/// <summary>Splits one line into tokens after removing <c>#</c>, <c>;</c> and <c>//</c> comments.</summary>
internal static class LlvmLexer
{
    // Longest first, so "<<=" wins over "<" and "s>>=" over "s>".
    private static readonly string[] Operators =
    [
        "s>>=", "<<=", ">>=", "s>=", "s<=", "s/=", "s%=",
        "+=", "-=", "*=", "/=", "|=", "&=", "%=", "^=", "==", "!=", ">=", "<=", "s>", "s<",
        ">", "<", "=", "*", "(", ")", "[", "]", ",", "+", "-", ":", "&",
    ];

    /// <summary>Tokenizes <paramref name="line"/>; throws <see cref="AsmException"/> only for a malformed number.</summary>
    public static List<LlvmToken> Tokenize(string line, string file, int lineNumber)
    {
        var tokens = new List<LlvmToken>();
        var end = CommentStart(line);
        var i = 0;
        while (i < end)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (char.IsAsciiDigit(c))
            {
                i = ReadNumber(line, i, end, tokens, file, lineNumber);
                continue;
            }

            var op = MatchOperator(line, i, end);
            if (op is not null)
            {
                tokens.Add(new LlvmToken(LlvmTokenKind.Punct, op, i + 1, 0, false));
                i += op.Length;
                continue;
            }

            if (char.IsAsciiLetter(c) || c is '_' or '.' or '$')
            {
                var start = i;
                while (i < end && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or '.' or '$'))
                    i++;
                tokens.Add(new LlvmToken(LlvmTokenKind.Identifier, line[start..i], start + 1, 0, false));
                continue;
            }

            // Any other character becomes a one-character token, so the parser reports it in context
            // ("unknown instruction 'mov'" for conformance text, not a complaint about its '%').
            tokens.Add(new LlvmToken(LlvmTokenKind.Punct, c.ToString(), i + 1, 0, false));
            i++;
        }

        return tokens;
    }

    private static int CommentStart(string line)
    {
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] is '#' or ';' || (line[i] == '/' && i + 1 < line.Length && line[i + 1] == '/'))
                return i;
        }

        return line.Length;
    }

    private static string? MatchOperator(string line, int i, int end)
    {
        foreach (var op in Operators)
        {
            if (i + op.Length <= end && string.CompareOrdinal(line, i, op, 0, op.Length) == 0)
                return op;
        }

        return null;
    }

    private static int ReadNumber(string line, int i, int end, List<LlvmToken> tokens, string file, int lineNumber)
    {
        var start = i;
        var hex = line[i] == '0' && i + 1 < end && line[i + 1] is 'x' or 'X';
        if (hex)
            i += 2;
        var digitsStart = i;
        while (i < end && char.IsAsciiLetterOrDigit(line[i]))
            i++;
        var digits = line.AsSpan(digitsStart, i - digitsStart);
        ulong value = 0;
        var overflow = false;
        foreach (var d in digits)
        {
            int digit;
            if (char.IsAsciiDigit(d))
                digit = d - '0';
            else if (hex && char.IsAsciiHexDigit(d))
                digit = (d | 0x20) - 'a' + 10;
            else
                throw new AsmException(file, lineNumber, start + 1, $"invalid number '{line[start..i]}'");
            var radix = hex ? 16UL : 10UL;
            if (value > (ulong.MaxValue - (ulong)digit) / radix)
                overflow = true;
            value = unchecked((value * radix) + (ulong)digit);
        }

        if (digits.IsEmpty)
            throw new AsmException(file, lineNumber, start + 1, $"invalid number '{line[start..i]}'");
        tokens.Add(new LlvmToken(LlvmTokenKind.Number, line[start..i], start + 1, value, overflow));
        return i;
    }
}
