using System.Globalization;
using System.Text.RegularExpressions;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// An LLVM-syntax program with the verifier inputs in its header comments, as the corpora and
/// <c>kernelsim bpf verify</c> read them:
/// <code>
/// # type: xdp              (raw, socket_filter, kprobe, xdp; default raw)
/// # mem: 16                (raw: size of the memory R1 points to)
/// # map: hash key=4 value=8 entries=16 [name=counts]   (map index 0, 1, ... in order)
/// # unpriv                 (verify as an unprivileged load)
/// # expect: reject R0 invalid mem access 'map_value_or_null'   (or: # expect: accept)
/// r1 = map[0] ll           (lddw of map index 0: BPF_PSEUDO_MAP_IDX)
/// </code>
/// </summary>
public sealed partial record VerifierSource(
    Instruction[] Program,
    string ProgramTypeName,
    int MemSize,
    IReadOnlyList<MapDefinition> Maps,
    bool Unprivileged,
    bool? ExpectAccept,
    string? ExpectMessage)
{
    // map[N] becomes this 64-bit marker for the assembler, then an lddw with src=BPF_PSEUDO_MAP_IDX and imm=N.
    private const uint MapMarkerHigh = 0x7e57ab1e;

    [GeneratedRegex(@"map\[(\d+)\]")]
    private static partial Regex MapReference();

    [GeneratedRegex(@"^\s*#\s*(type|mem|map|unpriv|expect)\b\s*:?\s*(.*?)\s*$")]
    private static partial Regex Directive();

    /// <summary>Parses the text; errors name the file and line.</summary>
    public static VerifierSource Parse(string text, string file = "<input>")
    {
        var type = "raw";
        var mem = 0;
        var maps = new List<MapDefinition>();
        var unpriv = false;
        bool? expectAccept = null;
        string? expectMessage = null;
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var m = Directive().Match(lines[n]);
            if (!m.Success)
            {
                lines[n] = MapReference().Replace(lines[n], mm =>
                    $"0x{((ulong)MapMarkerHigh << 32) | uint.Parse(mm.Groups[1].Value, CultureInfo.InvariantCulture):x}");
                continue;
            }

            var value = m.Groups[2].Value;
            switch (m.Groups[1].Value)
            {
                case "type":
                    type = value;
                    break;
                case "mem":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out mem) || mem < 0)
                        throw new AsmException(file, n + 1, 1, $"mem size '{value}' is not a non-negative integer");
                    break;
                case "map":
                    maps.Add(ParseMap(value, file, n + 1));
                    break;
                case "unpriv":
                    unpriv = true;
                    break;
                case "expect":
                    if (value.StartsWith("accept", StringComparison.Ordinal))
                    {
                        expectAccept = true;
                    }
                    else if (value.StartsWith("reject", StringComparison.Ordinal))
                    {
                        expectAccept = false;
                        expectMessage = value["reject".Length..].Trim();
                    }
                    else
                    {
                        throw new AsmException(file, n + 1, 1, $"expect must be 'accept' or 'reject MESSAGE'");
                    }

                    break;
            }
        }

        var program = LlvmAssembler.Assemble(string.Join('\n', lines), file);
        PatchMapReferences(program);
        return new VerifierSource(program, type, mem, maps, unpriv, expectAccept, expectMessage);
    }

    /// <summary>Turns the map markers back into map-index lddw instructions.</summary>
    public static void PatchMapReferences(Instruction[] program)
    {
        for (var i = 0; i + 1 < program.Length; i++)
        {
            var insn = program[i];
            if (insn.Opcode == Opcodes.LdImm64 && insn.Src == 0 && (uint)program[i + 1].Imm == MapMarkerHigh)
            {
                program[i] = new Instruction(insn.Opcode, insn.Dst, Opcodes.BPF_PSEUDO_MAP_IDX, 0, insn.Imm);
                program[i + 1] = new Instruction(0, 0, 0, 0, 0);
                i++;
            }
        }
    }

    private static MapDefinition ParseMap(string value, string file, int line)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new AsmException(file, line, 1, $"map needs a type (hash, array, ringbuf, prog_array, perf_event_array, ...)");
        var typeName = parts[0].Replace("_", string.Empty, StringComparison.Ordinal);
        if (!Enum.TryParse<BpfMapType>(typeName, ignoreCase: true, out var mapType) || int.TryParse(typeName, out _))
            throw new AsmException(file, line, 1, $"unknown map type '{parts[0]}'");
        int key = 4, val = 8, entries = 1;
        var name = string.Empty;
        foreach (var p in parts.Skip(1))
        {
            var kv = p.Split('=', 2);
            if (kv.Length != 2)
                throw new AsmException(file, line, 1, $"expected key=value, found '{p}'");
            if (kv[0] == "name")
            {
                name = kv[1];
                continue;
            }

            if (!int.TryParse(kv[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var num) || num < 0)
                throw new AsmException(file, line, 1, $"'{kv[1]}' is not a non-negative integer");
            switch (kv[0])
            {
                case "key": key = num; break;
                case "value": val = num; break;
                case "entries": entries = num; break;
                default: throw new AsmException(file, line, 1, $"unknown map attribute '{kv[0]}'");
            }
        }

        return new MapDefinition(mapType, key, val, entries, name);
    }

    /// <summary>Verifier options for this source with the given registry.</summary>
    public VerifierOptions ToOptions(ProgramTypeRegistry registry, int logLevel) => new()
    {
        ProgramType = registry.Get(ProgramTypeName),
        MemSize = MemSize,
        Maps = Maps,
        Privileged = !Unprivileged,
        LogLevel = logLevel,
    };
}
