using System.Text;
using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;
using Kernel.Sim.Net;
using static Kernel.Sim.Bench.Demos.DemoSession;

namespace Kernel.Sim.Bench.Demos;

/// <summary>One packet walked up the simulated receive path through every hook: XDP, the tap, the tracepoint, a kprobe event, ftrace.</summary>
public sealed class PacketPathDemo : IDemo
{
    public string Name => "packet-path";

    public string Description => "one packet walked up the receive path through every hook: XDP, packet tap, tracepoint, kprobe event, ftrace";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        using var model = new CostModel(CpuProfiles.Skylake, 1, enabled: true);
        var stack = new NetStack(kernel.Core, new NetStackOptions { Strategy = DispatchStrategy.Guards, Model = model }, kernel.Tracing);
        using var traffic = TrafficPool.Generate(TrafficMix.Parse("ipv4=100,udp=100"), 7, 1, 1);
        var shell = new TracefsConsole(session, kernel.Tracing.Tracefs);

        session.Step("The packet and the hooks");
        var frame = traffic.Frame(0);
        session.Say(F($"One {frame.Length}-byte IPv4/UDP frame from the traffic generator (Ethernet and IP headers):"));
        session.Show(Hex(frame[..Math.Min(42, frame.Length)]));
        session.Say("""
            Hooks, from the wire up: BPF programs from bpf/probes/path_probes.o (compiled with clang, loaded by the
            ELF loader, verified and JIT-compiled: an XDP counter per family in the driver and a kprobe on ip_rcv
            counting per protocol), a packet tap on ptype_all (packet_rcv, as tcpdump installs), the
            net:netif_receive_skb tracepoint, a kprobe event on ip_rcv fetching skb->len, and the function_graph
            tracer over every function of the path. The path's indirect calls run under INDIRECT_CALL guards with
            retpoline fallbacks, modelled on a Skylake-class CPU.
            """);
        var probes = BpfPathProbes.Attach(kernel, stack, [("path_probes.o", DefaultProbes())]);
        session.Show(string.Join('\n', probes.Attached));
        stack.AddPacketTap();
        if (stack.NetifReceiveSkb is { } tracepoint)
            tracepoint.Enabled = true;
        shell.Echo("p:rcv ip_rcv len=+112(%di):u32", "kprobe_events");
        shell.Echo("1", "events/kprobes/rcv/enable");
        shell.Echo("function_graph", "current_tracer");

        session.Step("The walk: the trace of one packet");
        stack.Receive(frame);
        kernel.Core.Cpus[0].Run(() => stack.NetRxAction());
        kernel.Tracing.Trace.TracingOn = false;
        shell.Cat("trace");

        session.Step("What the call sites did");
        var sites = new StringBuilder();
        foreach (var site in stack.CallSites.Where(s => s.Hits + s.Misses > 0))
            sites.AppendLine(F($"{site.Name,-40} [{string.Join(", ", site.Candidates)}] hits {site.Hits} misses {site.Misses}"));
        session.Show(sites.ToString());
        var total = model.TotalCycles;
        session.Show(F($"modelled: {total:F0} cycles for this packet, {total - stack.WorkCycles:F0} of them in dispatch ({(total - stack.WorkCycles) / total:P1}), {model.Cpus[0].Account.Mispredicts} mispredicts (cold predictors: a first packet)"));

        session.Step("The BPF probes' maps (bpftool map dump -j)");
        session.Say("Each map's non-zero entries (family 0 = IPv4 in xdp_families; protocol 0x11 = UDP in ip_rcv_protocols):");
        foreach (var (name, json) in probes.Dump())
        {
            // Array maps list every slot; keep the entries the packet touched.
            var touched = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsArray()
                .Where(e => e!["value"]!.AsArray().Any(b => b!.GetValue<string>() != "0x00"))
                .Select(e => e!.ToJsonString());
            session.Show(name + ": [" + string.Join(',', touched) + "]");
        }

        session.Step("The kernel's counters (/proc/net/snmp)");
        session.Show(ProcNetSnmp.Snmp(stack.Counters));

        session.Step("The same traffic under every dispatch strategy (modelled, warm)");
        session.Say("200 packets of the same mix through a fresh kernel per strategy, after 200 warm-up packets; modelled cycles per packet:");
        using var warm = TrafficPool.Generate(TrafficMix.Parse("ipv4=100,udp=100"), 7, 64, 1);
        var table = new StringBuilder();
        table.AppendLine(F($"{"strategy",-18} {"cycles/packet",13} {"dispatch share",14} {"delivered",9}"));
        foreach (var strategy in DispatchStrategies.All)
        {
            using var k = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
            using var m = new CostModel(CpuProfiles.Skylake, 1, enabled: false);
            var s = new NetStack(k.Core, new NetStackOptions { Strategy = strategy, Model = m });
            PacketPathRunner.Replay(s, warm, 200, 1);
            m.Enabled = true;
            s.ResetCounters();
            PacketPathRunner.Replay(s, warm, 200, 1);
            var cycles = m.TotalCycles;
            table.AppendLine(F($"{strategy.Name(),-18} {cycles / 200,13:F1} {(cycles - s.WorkCycles) / cycles,14:P1} {s.Counters.Delivered(NetFamily.Ipv4),9}"));
        }

        session.Show(table.ToString());
        session.Say("""
            The work is the same in every row (same counters); only the cost of reaching the handlers differs.
            (adaptive still runs its retpolines here: it samples 1 call in 16 and decides after 256 samples, more
            calls than 400 packets make at each site.)
            """);
    }

    // The default probes of `kernelsim run`, embedded in the kernelsim assembly.
    private static byte[] DefaultProbes()
    {
        using var resource = typeof(PacketPathDemo).Assembly.GetManifestResourceStream("path_probes.o")
            ?? throw new InvalidOperationException("path_probes.o is missing from the kernelsim assembly");
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Hex(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        for (var i = 0; i < bytes.Length; i += 16)
        {
            text.Append(F($"{i:x4}: "));
            for (var j = i; j < Math.Min(i + 16, bytes.Length); j++)
                text.Append(F($"{bytes[j]:x2} "));
            text.AppendLine();
        }

        return text.ToString();
    }
}
