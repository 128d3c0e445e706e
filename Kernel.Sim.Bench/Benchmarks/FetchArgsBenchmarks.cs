using BenchmarkDotNet.Attributes;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tracing.Bpf;
using Kernel.Sim.Tracing.ProbeEvents;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// Probe event fetch arguments through the classic fetch-step chain vs the event's verified, JIT-compiled BPF program,
/// on a probe with several nested dereferences and a string (each hit writes the same entry to the ring buffer); and
/// a JIT'd BPF kprobe program (an atomic map counter) per hit. Results are per call of the probed function.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(HooksBenchmarks.MinColumns))]
public unsafe class FetchArgsBenchmarks
{
    private const int Calls = 1000;

    /// <summary>Three dereference levels, two of them nested twice, a bitfield and a string.</summary>
    public const string Definition = "p:bench/fetch bench_fetch a=+0(+16(+8(%di))):u64 b=+24(%di):u32 c=+0(+8(%di)):x64 bits=+24(%di):b4@2/32 s=+0(+32(%di)):string";

    private SimulatedKernel _kernel = null!;
    private KernelFunction _function = null!;
    private SimulatedCpu _cpu = null!;
    private Action _loop = null!;
    private ulong _root;
    private ulong _sink;

    [Params("classic", "bpf")]
    public string Fetch { get; set; } = "classic";

    [GlobalSetup]
    public void Setup()
    {
        _kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        _function = _kernel.Core.Functions.Define("long bench_fetch(void *p)", (ref PtRegs r) => r.di & 1);
        _cpu = _kernel.Core.Cpus[0];
        _root = BuildChain(_kernel.Core.Memory);
        var manager = _kernel.Tracing.ProbeEvents;
        var probeEvent = manager.Add(Definition);
        manager.FetchEngine = Fetch == "bpf" ? FetchEngine.Bpf : FetchEngine.Classic;
        manager.SetEnabled(probeEvent, true);
        _loop = Loop;
    }

    /// <summary>root: +8 → level1 (+16 → level2 (+0 = value)), +24 = u32, +32 → "eth0".</summary>
    internal static ulong BuildChain(KernelMemory memory)
    {
        var root = (ulong*)memory.Allocate("bench_root", 64).Start;
        var level1 = (ulong*)memory.Allocate("bench_l1", 64).Start;
        var level2 = (ulong*)memory.Allocate("bench_l2", 64).Start;
        var name = (byte*)memory.Allocate("bench_name", 16).Start;
        "eth0\0"u8.CopyTo(new Span<byte>(name, 5));
        root[1] = (ulong)level1;
        level1[2] = (ulong)level2;
        level2[0] = 0x1122334455667788;
        root[3] = 1500;
        root[4] = (ulong)name;
        return (ulong)root;
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(OperationsPerInvoke = Calls)]
    public void ProbeEventHit() => _cpu.Run(_loop);

    private void Loop()
    {
        ulong sum = 0;
        for (var i = 0; i < Calls; i++)
            sum += _function.Call(0, _root);
        _sink = sum;
    }

    public ulong Sink => _sink;
}

/// <summary>
/// One call of a traced function with nothing attached (baseline) vs a JIT-compiled BPF kprobe program attached (an
/// atomic add to an array map value), next to an empty C# kprobe pre_handler (the kprobe machinery alone) and the same
/// program on fentry. Goal: ≤ 60 ns per BPF kprobe hit.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(HooksBenchmarks.MinColumns))]
public class FetchArgsBpfKprobeBenchmarks
{
    private const int Calls = 1000;

    private SimulatedKernel _kernel = null!;
    private KernelFunction _function = null!;
    private SimulatedCpu _cpu = null!;
    private Action _loop = null!;
    private ulong _sink;

    [Params("none", "csharp-kprobe", "bpf-kprobe", "bpf-fentry")]
    public string Attached { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        _kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        _function = _kernel.Core.Functions.Define("long bench_hit(long a, long b)", (ref PtRegs r) => r.di + r.si);
        _cpu = _kernel.Core.Cpus[0];
        _loop = Loop;
        var bpf = _kernel.Tracing.Bpf;
        var map = bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 8, 1, "hits"));
        switch (Attached)
        {
            case "csharp-kprobe":
                // An empty C# pre_handler: the kprobe machinery's own cost, to subtract from bpf-kprobe.
                _kernel.Tracing.Kprobes.Register(new Tracing.Kprobe { SymbolName = "bench_hit", PreHandler = (Tracing.Kprobe p, ref PtRegs regs) => 0 });
                break;
            case "bpf-kprobe":
                _kernel.Tracing.BpfLinks.Attach(bpf.Load(Counter(map), bpf.Types.Get("kprobe"), [map]), BpfAttachKind.Kprobe, "bench_hit");
                break;
            case "bpf-fentry":
                _kernel.Tracing.BpfLinks.Attach(bpf.Load(Counter(map), new TracingProgramType(2, isExit: false), [map]), BpfAttachKind.Fentry, "bench_hit");
                break;
        }
    }

    /// <summary>lookup(&amp;hits, 0); lock *(u64 *)value += 1.</summary>
    internal static Instruction[] Counter(BpfMap map)
    {
        var b = new BpfCodeBuilder();
        b.MapLookupOrExit(map.Fd, 0);
        b.Mov(1, 1);
        b.Emit(new Instruction(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD));
        b.Mov(0, 0);
        b.Exit();
        return b.Build();
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(OperationsPerInvoke = Calls)]
    public void Call() => _cpu.Run(_loop);

    private void Loop()
    {
        ulong sum = 0;
        for (ulong i = 0; i < Calls; i++)
            sum += _function.Call(0, i, sum);
        _sink = sum;
    }

    public ulong Sink => _sink;
}
