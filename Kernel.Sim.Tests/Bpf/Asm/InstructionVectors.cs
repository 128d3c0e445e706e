using System.Globalization;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Asm;

/// <summary>Reads Vectors/instruction-forms.txt: one instruction (an lddw: two slots) per line as 64-bit hex words.</summary>
public static class InstructionVectors
{
    public static IEnumerable<TestCaseData> Forms() =>
        Load().Select(f => new TestCaseData(f.Words).SetArgDisplayNames($"{f.Line}: {f.Comment}"));

    public static IReadOnlyList<(int Line, string Comment, ulong[] Words)> Load()
    {
        var result = new List<(int, string, ulong[])>();
        var lines = File.ReadAllLines(TestPaths.Data("Bpf", "Asm", "Vectors", "instruction-forms.txt"));
        for (var i = 0; i < lines.Length; i++)
        {
            var hash = lines[i].IndexOf('#', StringComparison.Ordinal);
            var body = hash < 0 ? lines[i] : lines[i][..hash];
            var comment = hash < 0 ? "" : lines[i][(hash + 1)..].Trim();
            var words = body.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(w => ulong.Parse(w.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
            if (words.Length > 0)
                result.Add((i + 1, comment, words));
        }

        return result;
    }

    public static Instruction[] ToProgram(ulong[] words) => [.. words.Select(Instruction.FromUInt64)];
}
