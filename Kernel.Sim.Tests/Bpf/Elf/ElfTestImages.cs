using System.Buffers.Binary;
using Kernel.Sim.Bpf.Elf;

namespace Kernel.Sim.Tests.Bpf.Elf;

/// <summary>Byte-level edits of fixture objects for tests: REL to RELA, section header fields, appended tables.</summary>
internal static class ElfTestImages
{
    /// <summary>Rewrites every SHT_REL section targeting code as SHT_RELA (entries appended at the end of the file, addend 0).</summary>
    public static byte[] RelToRela(byte[] data)
    {
        var elf = ElfFile.Parse(data);
        var result = new List<byte>(data);
        var patches = new List<(int Header, ulong Offset, ulong Size)>();
        foreach (var s in elf.Sections.Where(s => s.Type == ElfSection.SHT_REL && elf.Sections[(int)s.Info].IsExecutable))
        {
            var offset = (ulong)result.Count;
            foreach (var r in elf.Relocations(s))
            {
                var e = new byte[24];
                BinaryPrimitives.WriteUInt64LittleEndian(e, r.Offset);
                BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(8), ((ulong)r.SymbolIndex << 32) | r.Type);
                result.AddRange(e);
            }

            patches.Add((SectionHeaderOffset(data, s.Index), offset, (ulong)result.Count - offset));
        }

        var bytes = result.ToArray();
        foreach (var (h, off, size) in patches)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(h + 4), ElfSection.SHT_RELA);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(h + 24), off);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(h + 32), size);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(h + 56), 24);
        }

        return bytes;
    }

    public static int SectionHeaderOffset(byte[] data, int index) =>
        (int)BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(40)) + (index * 64);

    /// <summary>Offset in the file of section <paramref name="name"/>'s contents.</summary>
    public static int SectionOffset(byte[] data, string name) => (int)ElfFile.Parse(data).Find(name)!.Offset;

    public static byte[] Patch32(byte[] data, int offset, uint value)
    {
        var copy = (byte[])data.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    public static byte[] Patch64(byte[] data, int offset, ulong value)
    {
        var copy = (byte[])data.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }
}
