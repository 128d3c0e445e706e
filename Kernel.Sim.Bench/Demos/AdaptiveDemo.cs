using System.Text;
using Kernel.Sim.Bench.Report;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;
using static Kernel.Sim.Bench.Demos.DemoSession;

namespace Kernel.Sim.Bench.Demos;

/// <summary>An adaptive call site learning its hot targets and repatching its guard when the traffic shifts.</summary>
public sealed class AdaptiveDemo : IDemo
{
    public string Name => "adaptive";

    public string Description => "adaptive devirtualization: a call site learns its targets and repatches itself when traffic shifts";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var perPhase = session.Quick ? 20_000 : 200_000;
        var options = new AdaptiveOptions { SampleEvery = 16, Window = 256 };

        session.Step("A site that learns (the relpoline/optpoline idea Linux never merged)");
        session.Say(F($"""
            The site samples about one call in {options.SampleEvery}; after {options.Window} samples it takes its hottest targets (up
            to {options.MaxCandidates}, each at least {options.MinShare:P0} of the samples) as guard candidates, hottest first, and
            repatches its candidate slots with text_poke_bp. Until then every call is the retpoline. Decisions are
            printed as the site takes them, with the slots' new bytes.
            """));
        using var model = new CostModel(CpuProfiles.Skylake);
        var site = new AdaptiveCallSite<nint>("__netif_receive_skb_core+0x3f5", Mitigation.Retpoline, model, options);
        var log = new StringBuilder();
        site.Decided += decision =>
        {
            string Names(IEnumerable<string> names) => string.Join(", ", names.Select(ModelTargets.LinuxName));
            log.AppendLine(F($"{decision.Site}: window {decision.Window}: candidates [{Names(decision.Candidates)}] promoted [{Names(decision.Promoted)}] demoted [{Names(decision.Demoted)}] coverage {decision.Coverage:P1}"));
            foreach (var slot in site.Slots)
                log.AppendLine(F($"    {slot.Name,-40} {string.Join(' ', slot.Bytes.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)))}  {Decode(slot, site.Name)}"));
        };

        var phases = new[]
        {
            ("IPv4 heavy", "ip_rcv=85,ipv6_rcv=15"),
            ("the traffic shifts to ARP and packet taps", "arp_rcv=60,packet_rcv=30,ip_rcv=10"),
            ("four handlers, evenly", "ip_rcv=25,ipv6_rcv=25,arp_rcv=25,packet_rcv=25"),
            ("one handler only", "ipv6_rcv=100"),
        };
        var summary = new StringBuilder();
        summary.AppendLine(F($"{"phase",-44} {"calls",7} {"hits",7} {"misses",7} {"hit rate",8} {"cycles/call",11} {"pokes",5}"));
        var seed = 10;
        foreach (var (title, mix) in phases)
        {
            session.Step(F($"Traffic: {title} ({mix})"));
            var traffic = ModelTargets.Traffic(mix, perPhase, seed++);
            long hits0 = site.Hits, misses0 = site.Misses;
            var cycles0 = model.Current.Account.Cycles;
            var pokes0 = model.Current.Account.TextPokes;
            log.Clear();
            foreach (var target in traffic)
                site.Call(target, 1);
            session.Show(log.Length == 0 ? "(no decision: the hot set did not change)" : log.ToString());
            long hits = site.Hits - hits0, misses = site.Misses - misses0;
            var line = F($"{mix,-44} {perPhase,7} {hits,7} {misses,7} {hits / (double)perPhase,8:P1} {(model.Current.Account.Cycles - cycles0) / perPhase,11:F2} {model.Current.Account.TextPokes - pokes0,5}");
            session.Show(F($"{"traffic",-44} {"calls",7} {"hits",7} {"misses",7} {"hit rate",8} {"cycles/call",11} {"pokes",5}") + "\n" + line);
            summary.AppendLine(line);
        }

        session.Step("Summary");
        session.Say("Per phase (the cycles include the learning window and the text pokes, charged as the model's TextPoke cost):");
        session.Show(summary.ToString());
        session.Show(F($"decisions taken: {site.Decisions.Count}; current candidates: [{string.Join(", ", site.Candidates.Select(ModelTargets.LinuxName))}]"));
    }

    private static string Decode(PatchSite slot, string siteName)
    {
        var kind = slot.Decode(slot.Bytes, out var target);
        var name = ModelTargets.All.FirstOrDefault(t => t.Address == target) is { } t ? ModelTargets.LinuxName(t)
            : target == KernelText.AddressOf(siteName) + 0x100 ? "fallback (retpoline)" : F($"0x{target:x}");
        return kind switch
        {
            PatchedInstruction.Call => "call " + name,
            PatchedInstruction.Jump => "jmp " + name,
            _ => kind.ToString(),
        };
    }
}
