using Kernel.Sim.Bpf.Elf.Btf;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>Options for <see cref="BpfObject.Load(byte[], string, BpfObjectOptions?)"/>.</summary>
public sealed record BpfObjectOptions
{
    /// <summary>Forces this program type (bpftool name, e.g. <c>kprobe</c>, <c>xdp</c>, <c>raw</c>) on every program, as <c>--type</c> does.</summary>
    public string? ForcedType { get; init; }
}

/// <summary>
/// A clang <c>-target bpf</c> object loaded as libbpf's bpf_object__open does: programs by section name, subprograms
/// linked, maps from <c>.maps</c> (BTF), the legacy <c>maps</c> section and global data, license and version,
/// BTF and BTF.ext. Nothing is created here; the maps and programs are specifications a kernel (simulated or the
/// host) creates and loads.
/// </summary>
public sealed class BpfObject
{
    internal BpfObject(string name, string license, uint kernelVersion, IReadOnlyList<BpfProgramSpec> programs, IReadOnlyList<BpfMapSpec> maps, BtfTypes? btf, BtfExt? btfExt, IReadOnlyList<string> warnings)
    {
        Name = name;
        License = license;
        KernelVersion = kernelVersion;
        Programs = programs;
        Maps = maps;
        Btf = btf;
        BtfExt = btfExt;
        Warnings = warnings;
    }

    /// <summary>The object name (file name without <c>.o</c>), used as libbpf does to name global data maps.</summary>
    public string Name { get; }

    /// <summary>The <c>license</c> section's string ("" when absent).</summary>
    public string License { get; }

    /// <summary>The <c>version</c> section's value (0 when absent).</summary>
    public uint KernelVersion { get; }

    public IReadOnlyList<BpfProgramSpec> Programs { get; }

    public IReadOnlyList<BpfMapSpec> Maps { get; }

    public BtfTypes? Btf { get; }

    public BtfExt? BtfExt { get; }

    /// <summary>Things libbpf would warn about (unknown map attributes, ignored sections).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The program named <paramref name="name"/> (optionally in <paramref name="section"/>), or null.</summary>
    public BpfProgramSpec? FindProgram(string name, string? section = null) =>
        Programs.FirstOrDefault(p => p.Name == name && (section is null || p.Section == section))
        ?? (section is null ? null : Programs.FirstOrDefault(p => p.Section == section && name.Length == 0));

    /// <summary>Loads an object from bytes; <paramref name="name"/> is the object's name (file name without <c>.o</c>).</summary>
    public static BpfObject Load(byte[] data, string name, BpfObjectOptions? options = null) =>
        new BpfObjectLoader(ElfFile.Parse(data), name, options ?? new BpfObjectOptions()).Load();

    /// <summary>Loads the object file at <paramref name="path"/>.</summary>
    public static BpfObject LoadFile(string path, BpfObjectOptions? options = null)
    {
        var name = Path.GetFileName(path);
        if (name.EndsWith(".o", StringComparison.Ordinal))
            name = name[..^2];
        return Load(File.ReadAllBytes(path), name, options);
    }
}
