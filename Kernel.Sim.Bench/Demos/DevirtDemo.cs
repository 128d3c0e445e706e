using System.Text;
using Kernel.Sim.Bench.Report;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;
using static Kernel.Sim.Bench.Demos.DemoSession;

namespace Kernel.Sim.Bench.Demos;

/// <summary>INDIRECT_CALL guards: a compare-and-direct-call before the mitigated indirect call; hit rates; when they lose.</summary>
public sealed class DevirtDemo : IDemo
{
    public string Name => "devirt";

    public string Description => "INDIRECT_CALL guards: hit rates, what a hit saves, when guards lose (traffic mix, candidates)";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var calls = session.Quick ? 4_000 : 40_000;
        var skylake = CpuProfiles.Skylake;
        var ipv6 = ModelTargets.Find("ipv6_rcv");
        var ip = ModelTargets.Find("ip_rcv");

        session.Step("The guard: INDIRECT_CALL_INET(pt_prev->func, ipv6_rcv, ip_rcv, skb, ...)");
        session.Say("""
            include/linux/indirect_call_wrapper.h: `likely(f == f2) ? f2(args) : likely(f == f1) ? f1(args) : f(args)`.
            A match is a direct call (no retpoline); anything else pays the compares and the retpoline. Linux wraps
            the protocol handler call of __netif_receive_skb_core this way, IPv6 first. Typical traffic, 80% IPv4,
            15% IPv6, 5% ARP, through the guard on a Skylake-class CPU with retpolines:
            """);
        var typical = ModelTargets.Traffic("ip_rcv=80,ipv6_rcv=15,arp_rcv=5", calls, 1);
        var outcome = GuardExperiment.Run(skylake, Mitigation.Retpoline, [ipv6, ip], typical);
        session.Show(Describe(outcome));

        session.Step("Hit rate decides: vary the traffic mix");
        session.Say("The same guard (ipv6_rcv, ip_rcv) against the plain retpoline call, as the traffic changes:");
        var mixes = new[]
        {
            "ip_rcv=100", "ip_rcv=80,ipv6_rcv=15,arp_rcv=5", "ip_rcv=50,ipv6_rcv=50", "ip_rcv=50,arp_rcv=50",
            "arp_rcv=90,ip_rcv=10", "arp_rcv=50,packet_rcv=50",
        };
        var table = new StringBuilder();
        table.AppendLine(F($"{"traffic",-34} {"hit rate",8} {"guard",7} {"retpoline",9} {"saved",7}"));
        foreach (var mix in mixes)
        {
            var o = GuardExperiment.Run(skylake, Mitigation.Retpoline, [ipv6, ip], ModelTargets.Traffic(mix, calls, 1));
            table.AppendLine(F($"{mix,-34} {o.HitRate,8:P1} {o.GuardCycles,7:F2} {o.IndirectCycles,9:F2} {o.Saving,7:F2}"));
        }

        session.Show(table.ToString());
        session.Say("""
            When the traffic goes elsewhere (ARP, packet taps) every call pays both compares and the retpoline:
            the guard loses, a little. Its worst case is bounded; its best case removes the retpoline altogether.
            """);

        session.Step("More candidates: more hits, but every compare costs");
        session.Say("Traffic spread evenly over four handlers; INDIRECT_CALL_1..4 with candidates added one at a time:");
        var spread = ModelTargets.Traffic("ip_rcv=25,ipv6_rcv=25,arp_rcv=25,packet_rcv=25", calls, 2);
        var order = new[] { ip, ipv6, ModelTargets.Find("arp_rcv"), ModelTargets.Find("packet_rcv") };
        var ladder = new StringBuilder();
        ladder.AppendLine(F($"{"candidates",-56} {"hit rate",8} {"guard",7} {"retpoline",9}"));
        for (var n = 1; n <= 4; n++)
        {
            var o = GuardExperiment.Run(skylake, Mitigation.Retpoline, order[..n], spread);
            ladder.AppendLine(F($"{"INDIRECT_CALL_" + n + "(" + string.Join(", ", o.Candidates) + ")",-56} {o.HitRate,8:P1} {o.GuardCycles,7:F2} {o.IndirectCycles,9:F2}"));
        }

        session.Show(ladder.ToString());

        session.Step("On eIBRS hardware the guard can lose even on hits");
        session.Say("""
            An Ice Lake-class CPU keeps `call *%rax` under enhanced IBRS, predicted by the BTB. Random traffic over
            two handlers: the guard's compare is a data-dependent branch that mispredicts as often as the BTB would.
            """);
        var random2 = ModelTargets.Traffic("ip_rcv=50,ipv6_rcv=50", calls, 3);
        var mono = ModelTargets.Traffic("ip_rcv=100", calls, 3);
        var eibrs = new StringBuilder();
        eibrs.AppendLine(F($"{"traffic",-24} {"hit rate",8} {"guard",7} {"eibrs call",10} {"saved",7}"));
        foreach (var (label, seq) in new[] { ("ip_rcv=100", mono), ("ip_rcv=50,ipv6_rcv=50", random2) })
        {
            var o = GuardExperiment.Run(CpuProfiles.IceLake, Mitigation.Eibrs, [ipv6, ip], seq);
            eibrs.AppendLine(F($"{label,-24} {o.HitRate,8:P1} {o.GuardCycles,7:F2} {o.IndirectCycles,10:F2} {o.Saving,7:F2}"));
        }

        session.Show(eibrs.ToString());
        session.Say("Guards pay off where indirect calls are expensive (retpolines) and traffic is concentrated.");
    }

    private static string Describe(GuardOutcome o)
    {
        var text = new StringBuilder();
        for (var i = 0; i < o.Candidates.Count; i++)
            text.AppendLine(F($"candidate {i} {o.Candidates[i],-9} hits {o.Hits[i]}"));
        text.AppendLine(F($"misses (retpoline)     {o.Misses}"));
        text.AppendLine(F($"hit rate               {o.HitRate:P1}"));
        text.AppendLine(F($"cycles/call: guard {o.GuardCycles:F2}, plain retpoline {o.IndirectCycles:F2}, saved {o.Saving:F2}"));
        return text.ToString();
    }
}
