using System.Diagnostics;
using System.Text;
using Kernel.Sim.Bench.Report;
using Kernel.Sim.Calls;
using Kernel.Sim.Core;
using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;
using Kernel.Sim.Native;
using Kernel.Sim.Net;
using Kernel.Sim.Tracing;
using Kernel.Sim.Tracing.ProbeEvents;
using static Kernel.Sim.Bench.Demos.DemoSession;

namespace Kernel.Sim.Bench.Demos;

/// <summary>
/// The 2018 argument replayed with this machine's numbers: retpolines made every indirect call expensive, so call
/// dispatch should be devirtualized or patched — and probe fetch chains, a chain of indirect calls per argument, pay
/// that price per hit.
/// </summary>
public sealed class SeedDemo : IDemo
{
    private const ulong ParentIp = 0xffffffff81000042;

    public string Name => "seed";

    public string Description => "the 2018 argument replayed: retpoline vs devirtualization vs patching, and fetch chains, with this machine's numbers";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);

        session.Step("2018: retpolines make every indirect call pay a mispredict");
        session.Say("""
            After Spectre v2, Linux compiled every indirect call into a retpoline. The fixes that followed took two
            roads: devirtualize the hot calls (INDIRECT_CALL_n guards, 2018–2019) or patch them into direct calls
            (static_call, 2020); adaptive devirtualization (relpolines/optpolines) was proposed and not merged. The
            model per call on a Skylake-class CPU, one target and four random targets:
            """);
        var mechanisms = new[] { "indirect", "retpoline", "guard-hit", "guard-miss", "static-call", "adaptive" };
        var model = new StringBuilder();
        model.AppendLine(F($"{"pattern",-8}") + string.Concat(mechanisms.Select(m => F($" {m,12}"))));
        foreach (var (pattern, targets) in new[] { (CallPattern.Mono, 1), (CallPattern.Random, 4) })
        {
            var results = DispatchModel.Run(CpuProfiles.Skylake, targets, pattern, session.Quick ? 2_000 : 20_000, 1);
            model.AppendLine(F($"{pattern.ToString().ToLowerInvariant(),-8}") + string.Concat(mechanisms.Select(m => F($" {results.First(r => r.Mechanism == m).CyclesPerCall,12:F2}"))));
        }

        session.Show(model.ToString());

        session.Step("This machine: the same call shapes as machine code");
        if (NativeLab.IsSupported)
        {
            var report = NativeLab.Run(new NativeLabOptions
            {
                Calls = session.Quick ? 5_000 : 50_000,
                Repetitions = session.Quick ? 3 : 7,
                Warmups = 1,
                Mechanisms = [NativeMechanism.Direct, NativeMechanism.Indirect, NativeMechanism.Retpoline, NativeMechanism.GuardHit, NativeMechanism.GuardMiss, NativeMechanism.StaticCall],
            });
            var lab = new StringBuilder();
            lab.AppendLine(F($"{"mechanism",-12} {"pattern",-10} {"cycles/call (min)",18}"));
            foreach (var r in report.Results)
                lab.AppendLine(F($"{r.MechanismName,-12} {r.PatternName,-10} {r.Cycles.Min,18:F1}"));
            if (report.Retarget is { } retarget)
                lab.AppendLine(F($"one live retarget of the patched call (store + membarrier sync): {retarget.Ns.Min / 1000:F1} us"));
            session.Show(lab.ToString());
            session.Say("Patching costs microseconds once per update; a retpoline costs its mispredict on every call.");
        }
        else
        {
            session.Say($"The native lab cannot run here: {NativeLab.UnsupportedReason}");
        }

        session.Step("Per packet: the receive path under each strategy (modelled)");
        var packets = session.Quick ? 300 : 3_000;
        using var traffic = TrafficPool.Generate(TrafficMix.Default, 1, 256, 1);
        var path = new StringBuilder();
        path.AppendLine(F($"{"strategy",-18} {"cycles/packet",13} {"dispatch cycles",15}"));
        foreach (var strategy in DispatchStrategies.All)
        {
            var cost = PacketPathModel.Run(CpuProfiles.Skylake, strategy, traffic, packets);
            path.AppendLine(F($"{strategy.Name(),-18} {cost.CyclesPerPacket,13:F1} {cost.DispatchPerPacket,15:F1}"));
        }

        session.Say(F($"The default traffic mix (80% IPv4, 15% IPv6, 5% ARP), {packets} packets after {PacketPathModel.WarmupPackets} warm-up packets, skylake:"));
        session.Show(path.ToString());

        session.Step("Probe fetch chains: one indirect call per fetch step, per hit");
        session.Say("""
            A kprobe event's arguments are fetched by a chain of small fetch steps called through function pointers,
            as in the kernel's trace_probe code: each hit pays one indirect call per step (a retpoline each, in 2018).
            The seed's proposal compiles the chain into one verified BPF program instead (KernelSim does: type kprobe,
            bpf_probe_read_kernel for dereferences, JIT-compiled; it passed the verifier before it ran). Measured here,
            per hit, beside a C# kprobe reading the same fields; both engines write byte-identical records.
            """);
        session.Show(FetchChains(session.Quick ? 10_000 : 50_000));
    }

    private static string FetchChains(int calls)
    {
        var text = new StringBuilder();
        text.AppendLine(F($"{"probe on seed_fn",-52} {"classic chain",14} {"BPF program",12}   (ns per hit, min of 5)"));
        var rungs = new (string Label, string? Event, bool CSharp)[]
        {
            ("nothing attached", null, false),
            ("C# kprobe reading 4 fields", null, true),
            ("p:e1 seed_fn a=%di", "p:e1 seed_fn a=%di", false),
            ("p:e2 ... b=+8(%di):u32", "p:e2 seed_fn a=%di b=+8(%di):u32", false),
            ("p:e4 ... c=+16(%di):u64 d=+0(+24(%di)):u32", "p:e4 seed_fn a=%di b=+8(%di):u32 c=+16(%di):u64 d=+0(+24(%di)):u32", false),
        };
        foreach (var (label, definition, csharp) in rungs)
        {
            var classic = HitCost(definition, csharp, FetchEngine.Classic, calls);
            var bpf = definition is null ? "-" : F($"{HitCost(definition, csharp, FetchEngine.Bpf, calls):F1}");
            text.AppendLine(F($"{label,-52} {classic,14:F1} {bpf,12}"));
        }

        return text.ToString();
    }

    private static unsafe double HitCost(string? definition, bool csharp, FetchEngine engine, int calls)
    {
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        var function = kernel.Core.Functions.Define("long seed_fn(void *obj)", (ref PtRegs r) => r.di & 1);
        var obj = kernel.Core.Memory.Allocate("seed/obj", 64).Start;
        ((ulong*)obj)[1] = 60;
        ((ulong*)obj)[2] = 0x0800;
        ((ulong*)obj)[3] = obj;
        ulong sink = 0;
        if (csharp)
        {
            kernel.Tracing.Kprobes.Register(new Kprobe
            {
                SymbolName = "seed_fn",
                PreHandler = (Kprobe p, ref PtRegs regs) =>
                {
                    var o = (ulong*)regs.di;
                    sink += regs.di + (uint)o[1] + o[2] + *(uint*)o[3];
                    return 0;
                },
            });
        }
        else if (definition is not null)
        {
            kernel.Tracing.ProbeEvents.FetchEngine = engine;
            var e = kernel.Tracing.ProbeEvents.Add(definition);
            kernel.Tracing.ProbeEvents.SetEnabled(e, true);
        }

        var cpu = kernel.Core.Cpus[0];
        var best = double.MaxValue;
        for (var rep = 0; rep < 6; rep++)
        {
            var start = Stopwatch.GetTimestamp();
            cpu.Run(() =>
            {
                for (var i = 0; i < calls; i++)
                    sink += function.Call(ParentIp, obj);
            });
            if (rep > 0)
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls);
        }

        GC.KeepAlive(sink);
        return best;
    }
}
