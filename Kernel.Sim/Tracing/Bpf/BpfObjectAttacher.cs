using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>An ELF object loaded into the kernel and attached: its maps by name, its links, and what was not attached.</summary>
public sealed class AttachedBpfObject : IDisposable
{
    private readonly BpfMapRegistry _registry;

    private readonly IReadOnlyList<IDisposable> _tracepointLinks;

    internal AttachedBpfObject(BpfMapRegistry registry, IReadOnlyList<BpfMap> maps, IReadOnlyList<BpfLink> links, IReadOnlyList<IDisposable> tracepointLinks, IReadOnlyList<(string Program, string Reason)> skipped)
    {
        _registry = registry;
        _tracepointLinks = tracepointLinks;
        Maps = maps;
        Links = links;
        Skipped = skipped;
    }

    /// <summary>The object's maps in object order (global data sections included).</summary>
    public IReadOnlyList<BpfMap> Maps { get; }

    public IReadOnlyList<BpfLink> Links { get; }

    /// <summary>Programs attached to tracepoints (tracepoint/SYS/NAME, raw_tracepoint/NAME sections).</summary>
    public int TracepointLinkCount => _tracepointLinks.Count;

    /// <summary>Programs whose section names no hook KernelSim attaches (tc, xdp, socket...), with the reason.</summary>
    public IReadOnlyList<(string Program, string Reason)> Skipped { get; }

    /// <summary>The map called <paramref name="name"/>.</summary>
    public BpfMap Map(string name) => Maps.First(m => m.Definition.Name == name);

    /// <summary>Detaches every link, then closes the maps.</summary>
    public void Dispose()
    {
        foreach (var link in Links)
            link.Detach();
        foreach (var link in _tracepointLinks)
            link.Dispose();
        foreach (var map in Maps)
            _registry.Close(map.Fd);
    }
}

/// <summary>
/// libbpf's bpf_object__load + bpf_object__attach_skeleton for tracing sections: creates the object's maps (with their
/// initial values), points each program's map references at them, verifies and compiles each program as the type its
/// section gives (<c>kprobe/SYM</c>, <c>kretprobe/SYM</c>, <c>fentry/SYM</c>, <c>fexit/SYM</c>; the tracing types get
/// SYM's prototype) and attaches it.
/// </summary>
public static class BpfObjectAttacher
{
    /// <summary>
    /// Loads and attaches every tracing program of <paramref name="obj"/>; throws <see cref="BpfLoadException"/> or
    /// <see cref="BpfAttachException"/>. <paramref name="cookies"/> gives attach cookies by program name (what
    /// bpf_get_attach_cookie returns in that program; 0 for programs not named).
    /// </summary>
    public static AttachedBpfObject Attach(KernelTracing tracing, BpfObject obj, IReadOnlyDictionary<string, ulong>? cookies = null)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        ArgumentNullException.ThrowIfNull(obj);
        var registry = tracing.Bpf.Subsystem.Maps;
        var maps = new List<BpfMap>();
        var links = new List<BpfLink>();
        var tracepointLinks = new List<IDisposable>();
        var skipped = new List<(string, string)>();
        try
        {
            foreach (var spec in obj.Maps)
            {
                var map = registry.Create(spec.ToDefinition());
                maps.Add(map);
                if (spec.InitialValue is { } initial && map.Definition.IsArray)
                {
                    var value = new byte[map.ValueSize];
                    initial.AsSpan(0, Math.Min(initial.Length, value.Length)).CopyTo(value);
                    map.UpdateElem(BitConverter.GetBytes(0), value);
                }
            }

            foreach (var program in obj.Programs)
            {
                if (program.TypeName is "tracepoint" or "raw_tracepoint" && program.AttachTarget is { } tpName)
                {
                    var raw = program.TypeName == "raw_tracepoint";
                    var tracepoint = FindTracepoint(tracing, tpName, raw)
                        ?? throw new BpfAttachException(Core.Errno.ENOENT, $"{program.Name}: no tracepoint '{tpName}' (section {program.Section})");
                    var tpProgram = tracing.Bpf.Load(WithMapFds(program, maps), TargetType(tracing, program)!, maps, program.Name);
                    tracepointLinks.Add(tracing.Tracepoints.Attach(tpProgram, tracepoint, raw, CookieOf(program)));
                    continue;
                }

                var kind = KindOf(program.Section);
                if (kind is null || program.AttachTarget is null)
                {
                    skipped.Add((program.Name, $"section '{program.Section}' names no kprobe, kretprobe, fentry or fexit target"));
                    continue;
                }

                if (tracing.Core.Functions.Find(program.AttachTarget) is null)
                    throw new BpfAttachException(Core.Errno.ENOENT, $"{program.Name}: no kernel function '{program.AttachTarget}' (section {program.Section})");
                var loaded = tracing.Bpf.Load(WithMapFds(program, maps), TargetType(tracing, program)!, maps, program.Name);
                links.Add(tracing.BpfLinks.Attach(loaded, kind.Value, program.AttachTarget, CookieOf(program)));
            }
        }
        catch
        {
            foreach (var link in links)
                link.Detach();
            foreach (var link in tracepointLinks)
                link.Dispose();
            foreach (var map in maps)
                registry.Close(map.Fd);
            throw;
        }

        return new AttachedBpfObject(registry, maps, links, tracepointLinks, skipped);

        ulong CookieOf(BpfProgramSpec program) => cookies?.GetValueOrDefault(program.Name) ?? 0;
    }

    /// <summary>The program with its map references (object map indexes) replaced by the created maps' fds.</summary>
    private static Instruction[] WithMapFds(BpfProgramSpec program, List<BpfMap> maps)
    {
        var code = program.Instructions.ToArray();
        foreach (var reference in program.MapReferences)
        {
            var insn = code[reference.InsnIndex];
            code[reference.InsnIndex] = new Instruction(insn.Opcode, insn.Dst, insn.Src, insn.Offset, maps[reference.MapIndex].Fd);
        }

        return code;
    }

    /// <summary>
    /// The program type a program's attach target fixes, as the kernel's attach_btf_id does: a tracepoint's record
    /// (<c>tracepoint/SYS/NAME</c>) or arguments (<c>raw_tracepoint/NAME</c>), a function's argument count
    /// (<c>fentry/SYM</c>, <c>fexit/SYM</c>), pt_regs (<c>kprobe/SYM</c>, <c>kretprobe/SYM</c>); null when the section
    /// names no such target or the target does not exist.
    /// </summary>
    public static ProgramType? TargetType(KernelTracing tracing, BpfProgramSpec program)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        ArgumentNullException.ThrowIfNull(program);
        if (program.AttachTarget is not { } target)
            return null;
        if (program.TypeName is "tracepoint" or "raw_tracepoint")
        {
            var raw = program.TypeName == "raw_tracepoint";
            return FindTracepoint(tracing, target, raw) is { } tracepoint
                ? raw ? Tracepoints.RawTracepointType(tracepoint) : Tracepoints.TracepointType(tracepoint)
                : null;
        }

        return KindOf(program.Section) switch
        {
            BpfAttachKind.Kprobe or BpfAttachKind.Kretprobe => tracing.Bpf.Types.Get("kprobe"),
            BpfAttachKind.Fentry or BpfAttachKind.Fexit when tracing.Core.Functions.Find(target) is { } function =>
                new TracingProgramType(function.Prototype.Parameters.Count, KindOf(program.Section) == BpfAttachKind.Fexit),
            _ => null,
        };
    }

    /// <summary>The tracepoint <c>SYS/NAME</c>, or for raw_tracepoint/NAME (which names the event alone) NAME in any system.</summary>
    public static Tracepoint? FindTracepoint(KernelTracing tracing, string name, bool raw)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        return raw ? tracing.Tracepoints.FindByEvent(name) : tracing.Tracepoints.Find(name);
    }

    private static BpfAttachKind? KindOf(string section) => section.Split('/')[0] switch
    {
        "kprobe" => BpfAttachKind.Kprobe,
        "kretprobe" => BpfAttachKind.Kretprobe,
        "fentry" => BpfAttachKind.Fentry,
        "fexit" => BpfAttachKind.Fexit,
        _ => null,
    };
}
