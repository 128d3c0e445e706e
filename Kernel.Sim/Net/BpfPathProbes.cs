using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tracing;
using Kernel.Sim.Tracing.Bpf;
using PerCpuProgram = Kernel.Sim.Tracing.Bpf.LoadedBpfProgram;

namespace Kernel.Sim.Net;

/// <summary>
/// BPF objects attached to the receive path by section name, as libbpf's auto-attach does: <c>xdp</c> at the
/// driver's XDP hook; <c>kprobe/SYM</c>, <c>kretprobe/SYM</c> (ctx = pt_regs), <c>fentry/SYM</c>, <c>fexit/SYM</c>
/// (ctx = u64 args[]) through tracing's BPF links; <c>tracepoint/SYS/NAME</c> and <c>raw_tracepoint/NAME</c> on the
/// kernel's tracepoints. The attach target fixes the program type before verification
/// (<see cref="BpfObjectAttacher.TargetType"/>). Programs are verified by the loader and run JIT-compiled, one copy per
/// CPU (<see cref="Tracing.Bpf.TracingBpf.LoadVerified"/>): a hit runs the executing CPU's copy with that CPU's helper
/// context, so bpf_get_smp_processor_id and per-CPU maps see the right CPU and CPUs run concurrently without sharing
/// a JIT stack. Their maps can be dumped as <c>bpftool map dump -j</c> does. The path's skb caches and rings are
/// registered with the BPF subsystem as readable kernel memory, so <c>bpf_probe_read_kernel</c> on an skb works.
/// </summary>
public sealed unsafe class BpfPathProbes
{
    private readonly List<(string Name, BpfMap Map)> _maps = [];
    private readonly List<string> _attached = [];

    private BpfPathProbes()
    {
    }

    /// <summary>Every map of every object, by its name in the object.</summary>
    public IReadOnlyList<(string Name, BpfMap Map)> Maps => _maps;

    /// <summary>What was attached where (<c>xdp: xdp_count</c>, <c>kprobe/ip_rcv: ip_rcv_count</c>).</summary>
    public IReadOnlyList<string> Attached => _attached;

    /// <summary>Loads and attaches every program of each object; throws <see cref="BpfObjectException"/> naming the object and program.</summary>
    public static BpfPathProbes Attach(SimulatedKernel kernel, NetStack stack, IEnumerable<(string Name, byte[] Image)> objects)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(objects);
        // Per-CPU maps need one slot per simulated CPU: the kernel's BPF subsystem must be the one tracing shares.
        if (kernel.Tracing.Bpf.Subsystem != kernel.Bpf)
            throw new BpfObjectException($"BPF probes need the kernel's BPF subsystem sized for its {kernel.Core.Cpus.Count} CPU(s) (its per-CPU maps have {kernel.Bpf.Maps.Cpus})");
        var probes = new BpfPathProbes();
        // The packet memory first: bpf_probe_read_kernel checks its source against the region table in order, and
        // probes on the path read the skb (its cache) and the frame (the rx buffers) on every packet.
        foreach (var region in kernel.Core.Memory.Regions.OrderBy(r => stack.IsPacketMemory(r.Start) ? 0 : 1))
            kernel.Bpf.Regions.Add(new Bpf.Interpreter.MemoryRegion(region.Start, region.Size, false, region.Name));
        var types = ProgramTypeRegistry.CreateDefault();
        foreach (var (name, image) in objects)
        {
            BpfObjectInstance instance;
            try
            {
                instance = BpfObjectInstance.Load(BpfObject.Load(image, name), kernel.Bpf, types, jit: true, typeOf: spec => BpfObjectAttacher.TargetType(kernel.Tracing, spec));
            }
            catch (BpfObjectException e) when (!e.Message.StartsWith(name, StringComparison.Ordinal))
            {
                throw new BpfObjectException($"{name}: {e.Message}", e);
            }

            for (var i = 0; i < instance.Maps.Count; i++)
                probes._maps.Add((instance.Object.Maps[i].Name, instance.Maps[i]));
            foreach (var program in instance.Programs.Values)
            {
                if (program.NotLoadedReason is { } reason)
                    throw new BpfObjectException($"{name}: prog '{program.Spec.Name}': {reason}");
                var type = BpfObjectAttacher.TargetType(kernel.Tracing, program.Spec) ?? types.Get(program.Spec.TypeName);
                var perCpu = kernel.Tracing.Bpf.LoadVerified(program.Instructions, type, program.Verdict.Result!, HelpersFor(kernel, type), program.Spec.Name);
                probes.AttachOne(kernel, stack, name, program.Spec, perCpu);
            }
        }

        return probes;
    }

    private void AttachOne(SimulatedKernel kernel, NetStack stack, string objectName, BpfProgramSpec spec, PerCpuProgram program)
    {
        var section = spec.Section;
        if (section == "xdp" || section.StartsWith("xdp/", StringComparison.Ordinal))
        {
            stack.AttachXdp(new BpfXdpProgram(spec.Name, program, kernel.Core.Cpus));
            _attached.Add($"xdp: {spec.Name}");
            return;
        }

        var slash = section.IndexOf('/', StringComparison.Ordinal);
        var kind = slash < 0 ? section : section[..slash];
        var symbol = slash < 0 ? "" : section[(slash + 1)..];
        switch (kind)
        {
            // Through tracing's BPF links, as trace --bpf attaches them: bpf_get_func_ip, bpf_override_return and
            // attach cookies work the same way on every hook.
            case "kprobe" or "kretprobe" or "fentry" or "fexit" when symbol.Length > 0:
                try
                {
                    kernel.Tracing.BpfLinks.Attach(program, kind switch
                    {
                        "kprobe" => BpfAttachKind.Kprobe,
                        "kretprobe" => BpfAttachKind.Kretprobe,
                        "fentry" => BpfAttachKind.Fentry,
                        _ => BpfAttachKind.Fexit,
                    }, symbol);
                }
                catch (BpfAttachException e)
                {
                    throw new BpfObjectException($"{objectName}: prog '{spec.Name}': attaching to '{symbol}' failed: {e.Message}", e);
                }

                break;

            case "tracepoint" or "tp" or "raw_tracepoint" or "raw_tp" when symbol.Length > 0:
            {
                var raw = kind.StartsWith("raw", StringComparison.Ordinal);
                var tracepoint = BpfObjectAttacher.FindTracepoint(kernel.Tracing, symbol, raw)
                    ?? throw new BpfObjectException($"{objectName}: prog '{spec.Name}': no tracepoint '{symbol}' (section {section})");
                kernel.Tracing.Tracepoints.Attach(program, tracepoint, raw);
                break;
            }

            default:
                throw new BpfObjectException($"{objectName}: prog '{spec.Name}': section '{section}' cannot be attached to the receive path (xdp, kprobe/SYM, kretprobe/SYM, fentry/SYM, fexit/SYM, tracepoint/CAT/NAME, raw_tracepoint/NAME)");
        }

        _attached.Add($"{section}: {spec.Name}");
    }

    /// <summary>
    /// The helpers a program runs with: tracing types get the tracing set (kernel-memory probe reads, current task,
    /// func ip, attach cookie), as tracing's own loads do; others the standard set of their type.
    /// </summary>
    private static Bpf.Helpers.HelperRegistry HelpersFor(SimulatedKernel kernel, ProgramType type) =>
        type.IsTracing ? kernel.Tracing.Bpf.HelpersFor(type) : kernel.Bpf.HelpersFor(type);

    /// <summary>Zeroes every array entry and deletes every hash entry (between warm-up and the measured pass).</summary>
    public void Clear()
    {
        foreach (var (_, map) in _maps)
        {
            var keys = map.Keys().ToList();
            var zero = new byte[map.UserValueSize];
            foreach (var key in keys)
            {
                if (map.Type is BpfMapType.Array or BpfMapType.PercpuArray)
                    map.UpdateElem(key, zero);
                else
                    map.DeleteElem(key);
            }
        }
    }

    /// <summary>The JSON of <c>bpftool map dump -j</c> for every map, by name.</summary>
    public IReadOnlyList<(string Name, string Json)> Dump() =>
        [.. _maps.Where(m => m.Map.Type is not (BpfMapType.Ringbuf or BpfMapType.PerfEventArray)).Select(m => (m.Name, MapDump.ToJson(m.Map)))];

    private sealed class BpfXdpProgram(string name, PerCpuProgram program, CpuSet cpus) : XdpProgram
    {
        public override string Name => name;

        public override uint Run(XdpBuff* ctx) => (uint)program.Run(cpus.RequireCurrent().Id, ctx, sizeof(XdpBuff));

        internal override uint Run(XdpBuff* ctx, int cpu) => (uint)program.Run(cpu, ctx, sizeof(XdpBuff));
    }
}
