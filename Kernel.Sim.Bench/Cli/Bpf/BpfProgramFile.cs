using System.Globalization;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// A program read from a file for the <c>bpf</c> verbs: a conformance <c>.data</c> file (program and input
/// memory), raw little-endian bytes (<c>.bin</c>) or assembly text in the conformance or the LLVM syntax. Every failure is a <see cref="CliUsageException"/> naming the place.
/// </summary>
internal sealed record BpfProgramFile(Instruction[] Program, byte[] Memory, ConformanceDataFile? Data)
{
    /// <summary>Reads FILE; <paramref name="syntax"/> names the text syntax (null: detect).</summary>
    public static BpfProgramFile Load(string path, string? syntax = null)
    {
        if (!File.Exists(path))
            throw new CliUsageException($"{path}: no such file");
        try
        {
            if (path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
            {
                var bytes = File.ReadAllBytes(path);
                if (bytes.Length % Instruction.Size != 0)
                    throw new CliUsageException($"{path}: {bytes.Length} bytes is not a whole number of 8-byte instructions");
                return new BpfProgramFile(Instruction.ReadAll(bytes), [], null);
            }

            var text = File.ReadAllText(path);
            if (path.EndsWith(".data", StringComparison.OrdinalIgnoreCase) || LooksLikeDataFile(text))
            {
                var data = ConformanceDataFile.Parse(text, path);
                return new BpfProgramFile(data.Program, data.Memory, data);
            }

            return new BpfProgramFile(BpfSyntaxOption.Assemble(text, path, syntax), [], null);
        }
        catch (AsmException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (IOException e)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
    }

    /// <summary>
    /// Assembly text in either syntax: the conformance syntax (<c>mov %r0, 1</c>) or the LLVM/kernel syntax
    /// (<c>r0 = 1</c>). Both are tried; a text only one of them reads is that one's (a program both read, such
    /// as a lone <c>exit</c>, means the same bytes in both). When both fail, the error of the parser that got
    /// further is reported (on a tie, the conformance one if the text names registers as <c>%rN</c>).
    /// </summary>
    internal static Instruction[] AssembleEitherSyntax(string text, string path)
    {
        AsmException conformanceError;
        try
        {
            return ConformanceAssembler.Assemble(text, path);
        }
        catch (AsmException e)
        {
            conformanceError = e;
        }

        try
        {
            return LlvmAssembler.Assemble(text, path);
        }
        catch (AsmException llvmError)
        {
            var preferConformance = conformanceError.Line > llvmError.Line ||
                (conformanceError.Line == llvmError.Line && text.Contains("%r", StringComparison.Ordinal));
            throw preferConformance ? conformanceError : llvmError;
        }
    }

    private static bool LooksLikeDataFile(string text) =>
        text.Split('\n').Any(l => l.TrimStart().StartsWith("-- asm", StringComparison.Ordinal) || l.TrimStart().StartsWith("-- raw", StringComparison.Ordinal));

    /// <summary>Parses hex bytes, with or without whitespace between them (<c>00 01 a0</c> or <c>0001a0</c>).</summary>
    public static byte[] ParseHex(string hex, string what)
    {
        var digits = string.Concat(hex.Where(c => !char.IsWhiteSpace(c)));
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            digits = digits[2..];
        if (digits.Length % 2 != 0)
            throw new CliUsageException($"{what}: odd number of hex digits");
        var bytes = new byte[digits.Length / 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            if (!byte.TryParse(digits.AsSpan(i * 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                throw new CliUsageException($"{what}: bad hex byte '{digits.Substring(i * 2, 2)}' at byte {i}");
        }

        return bytes;
    }

    /// <summary>Hex bytes separated by whitespace (the plugin protocol's program line).</summary>
    public static byte[] ParseHexWords(string text, string what)
    {
        var words = text.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var bytes = new byte[words.Length];
        for (var i = 0; i < words.Length; i++)
        {
            if (words[i].Length > 2 || !byte.TryParse(words[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                throw new CliUsageException($"{what}: bad hex byte '{words[i]}' at byte {i}");
        }

        return bytes;
    }
}
