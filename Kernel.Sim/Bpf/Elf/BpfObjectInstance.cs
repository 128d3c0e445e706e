using System.Runtime.InteropServices;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>One program of a <see cref="BpfObjectInstance"/>: its verdict and, when loaded, the interpreter (and JIT) forms.</summary>
public sealed class LoadedBpfProgram
{
    internal LoadedBpfProgram(BpfProgramSpec spec, ProgramVerdict verdict)
    {
        Spec = spec;
        Verdict = verdict;
    }

    public BpfProgramSpec Spec { get; }

    public ProgramVerdict Verdict { get; }

    /// <summary>The instructions as loaded: map indices replaced by the kernel's fds, context loads converted.</summary>
    public Instruction[] Instructions { get; internal set; } = [];

    public BpfInterpreter? Interpreter { get; internal set; }

    /// <summary>The JIT'd form when the object was loaded for the JIT.</summary>
    public JittedProgram? Jitted { get; internal set; }

    /// <summary>True when the program was loaded (on the instance's engine).</summary>
    public bool IsLoaded => Interpreter is not null || Jitted is not null;

    /// <summary>Runs once with r1 = <paramref name="ctx"/> on the engine it was loaded for.</summary>
    public BpfRunResult Run(Span<byte> ctx) =>
        Jitted?.Run(ctx) ?? Interpreter?.Run(ctx) ?? throw new InvalidOperationException($"prog '{Spec.Name}' is not loaded: {NotLoadedReason}");

    public int Fd { get; internal set; } = -1;

    /// <summary>Why the program was not loaded (not verified, rejected), or null when it was.</summary>
    public string? NotLoadedReason { get; internal set; }
}

/// <summary>
/// An object opened by <see cref="BpfObject"/> and loaded into one <see cref="BpfSubsystem"/> as libbpf's
/// bpf_object__load does: maps created (global data initialised from the section bytes, perf event arrays sized to
/// the CPUs when max_entries is 0), each program verified with those maps, its lddw map indices replaced by the map
/// fds, loaded on one engine (the checked interpreter, or the JIT for verified programs), and prog arrays
/// initialised from <c>__array(values, ...)</c> with the programs of that engine.
/// </summary>
public sealed unsafe class BpfObjectInstance
{
    private static readonly byte[] ZeroKey = new byte[4];
    private readonly BpfSubsystem bpf;

    private BpfObjectInstance(BpfObject obj, BpfSubsystem bpf, BpfMap[] maps, Dictionary<string, LoadedBpfProgram> programs)
    {
        Object = obj;
        this.bpf = bpf;
        Maps = maps;
        Programs = programs;
    }

    public BpfObject Object { get; }

    /// <summary>The created maps, in the object's map order (index = the object's map index).</summary>
    public IReadOnlyList<BpfMap> Maps { get; }

    public IReadOnlyDictionary<string, LoadedBpfProgram> Programs { get; }

    /// <summary>
    /// Loads <paramref name="obj"/> into <paramref name="bpf"/>; throws <see cref="BpfObjectException"/> when a map cannot be
    /// created. <paramref name="typeOf"/> supplies target-dependent program types (see <see cref="BpfObjectVerifier.Verify"/>).
    /// </summary>
    public static BpfObjectInstance Load(BpfObject obj, BpfSubsystem bpf, ProgramTypeRegistry types, bool jit = false, Func<BpfProgramSpec, ProgramType?>? typeOf = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(types);
        var maps = new BpfMap[obj.Maps.Count];
        for (var i = 0; i < maps.Length; i++)
        {
            var spec = obj.Maps[i];
            CheckLimits(spec);
            var def = spec.ToDefinition();
            if (def.Type == BpfMapType.PerfEventArray && def.MaxEntries == 0)
                def = def with { MaxEntries = bpf.Maps.Cpus };
            try
            {
                maps[i] = bpf.Maps.Create(def);
            }
            catch (MapCreateException e)
            {
                throw new BpfObjectException($"map '{spec.Name}': failed to create: {e.Message}", e);
            }

            if (spec.InitialValue is { } value)
            {
                var err = maps[i].UpdateElem(ZeroKey, value);
                if (err != 0)
                    throw new BpfObjectException($"map '{spec.Name}': failed to set initial contents: error {err}");
            }
        }

        var programs = new Dictionary<string, LoadedBpfProgram>(StringComparer.Ordinal);
        var instance = new BpfObjectInstance(obj, bpf, maps, programs);
        foreach (var p in obj.Programs)
        {
            var verdict = BpfObjectVerifier.Verify(obj, p, types, typeOf: typeOf);
            var loaded = new LoadedBpfProgram(p, verdict);
            programs[p.Name] = loaded;
            if (verdict.Result is null)
            {
                loaded.NotLoadedReason = verdict.NotVerifiedReason;
                continue;
            }

            if (!verdict.Result.Accepted)
            {
                loaded.NotLoadedReason = "the verifier rejected it: " + verdict.Result.Error;
                continue;
            }

            var type = typeOf?.Invoke(p) ?? types.Get(p.TypeName);
            var code = p.Instructions.ToArray();
            foreach (var r in p.MapReferences)
                code[r.InsnIndex] = new Instruction(code[r.InsnIndex].Opcode, code[r.InsnIndex].Dst, code[r.InsnIndex].Src, code[r.InsnIndex].Offset, maps[r.MapIndex].Fd);
            ContextConversion.Apply(code, type, verdict.Result.Accesses);
            loaded.Instructions = code;
            try
            {
                if (jit)
                {
                    loaded.Jitted = bpf.LoadJit(code, type, p.Name);
                    loaded.Fd = bpf.ProgramFd(loaded.Jitted);
                }
                else
                {
                    loaded.Interpreter = bpf.Load(code, type, p.Name);
                    loaded.Fd = bpf.ProgramFd(loaded.Interpreter);
                }
            }
            catch (Exception e) when (e is MapReferenceException or BpfDecodeException or BpfJitException)
            {
                throw new BpfObjectException($"prog '{p.Name}': failed to load: {e.Message}", e);
            }
        }

        for (var i = 0; i < maps.Length; i++)
        {
            foreach (var (slot, name) in obj.Maps[i].InitialPrograms)
            {
                if (programs.TryGetValue(name, out var target) && target.Fd >= 0 && maps[i] is ProgArrayMap array)
                    array.Set(slot, target.Fd);
            }
        }

        return instance;
    }

    // The simulation's cap on one map's storage; Linux would fail such a BPF_MAP_CREATE with -ENOMEM.
    private const ulong MaxMapBytes = 1UL << 30;

    /// <summary>Sizes the kernel refuses before allocating anything (they also would not fit MapDefinition's ints).</summary>
    private static void CheckLimits(BpfMapSpec spec)
    {
        if (spec.KeySize > int.MaxValue || spec.ValueSize > int.MaxValue || spec.MaxEntries > int.MaxValue)
            throw new BpfObjectException($"map '{spec.Name}': failed to create: -E2BIG (key_size {spec.KeySize}, value_size {spec.ValueSize}, max_entries {spec.MaxEntries})");
        var bytes = ((ulong)spec.KeySize + spec.ValueSize) * spec.MaxEntries;
        if (bytes > MaxMapBytes)
            throw new BpfObjectException($"map '{spec.Name}': failed to create: -ENOMEM ({bytes} bytes of keys and values; the simulation caps a map at {MaxMapBytes})");
    }

    /// <summary>
    /// Builds the context a run of a program of <paramref name="typeName"/> gets: for <c>xdp</c> the simulated xdp_buff
    /// (<see cref="ContextConversion"/>) over <paramref name="packet"/>, for socket filters a <c>__sk_buff</c> with
    /// len set, otherwise <paramref name="ctx"/> itself (pt_regs for kprobes). The packet lives in a registered region.
    /// </summary>
    public RunContext CreateContext(string typeName, ReadOnlySpan<byte> ctx, ReadOnlySpan<byte> packet) => new(bpf, typeName, ctx, packet);
}

/// <summary>Native memory for one run's context and packet, registered with the subsystem while alive.</summary>
public sealed unsafe class RunContext : IDisposable
{
    private const int EthHeaderLength = 14;
    private readonly BpfSubsystem bpf;
    private readonly byte* packet;
    private readonly int packetLength;

    internal RunContext(BpfSubsystem bpf, string typeName, ReadOnlySpan<byte> ctx, ReadOnlySpan<byte> packetBytes)
    {
        this.bpf = bpf;
        packetLength = packetBytes.Length;
        packet = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(packetLength, 1), 64);
        packetBytes.CopyTo(new Span<byte>(packet, packetLength));
        if (packetLength > 0)
            bpf.Regions.Add(new MemoryRegion((ulong)packet, (ulong)packetLength, true, "packet"));
        byte[] initialCtx;
        switch (typeName)
        {
            case "xdp":
                initialCtx = new byte[ContextConversion.XdpBuffSize];
                BitConverter.TryWriteBytes(initialCtx.AsSpan(0), (ulong)packet);
                BitConverter.TryWriteBytes(initialCtx.AsSpan(8), (ulong)packet + (ulong)packetLength);
                BitConverter.TryWriteBytes(initialCtx.AsSpan(16), (ulong)packet);
                BitConverter.TryWriteBytes(initialCtx.AsSpan(24), 1u);
                break;
            case "socket_filter":
                initialCtx = new byte[Math.Max(SocketFilterProgramType.Size, ctx.Length)];
                ctx.CopyTo(initialCtx);
                // As bpf_prog_test_run_skb: the packet is an Ethernet frame and eth_type_trans pulls the
                // 14-byte header before a socket filter sees it, so skb->len excludes it.
                if (ctx.Length == 0)
                    BitConverter.TryWriteBytes(initialCtx.AsSpan(0), (uint)Math.Max(packetLength - EthHeaderLength, 0));
                break;
            default:
                initialCtx = ctx.ToArray();
                break;
        }

        Memory = initialCtx;
    }

    /// <summary>
    /// The context bytes a run receives (r1 points at them). Repeated runs share them, as BPF_PROG_TEST_RUN's repeat
    /// loop shares its ctx; the packet likewise stays as the last run left it.
    /// </summary>
    public byte[] Memory { get; }

    /// <summary>The packet as the program left it.</summary>
    public ReadOnlySpan<byte> Packet => new(packet, packetLength);

    public void Dispose()
    {
        if (packetLength > 0)
            bpf.Regions.Remove((ulong)packet);
        NativeMemory.AlignedFree(packet);
    }
}
