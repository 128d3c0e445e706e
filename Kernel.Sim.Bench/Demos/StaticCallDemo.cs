using System.Diagnostics;
using System.Text;
using Kernel.Sim.Bench.Report;
using Kernel.Sim.Calls;
using static Kernel.Sim.Bench.Demos.DemoSession;

namespace Kernel.Sim.Bench.Demos;

/// <summary>static_call: the site's bytes through each text_poke_bp step, then a live update under load.</summary>
public sealed class StaticCallDemo : IDemo
{
    public string Name => "static-call";

    public string Description => "static_call: the text_poke_bp protocol byte by byte, then a live update under load from several threads";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);

        session.Step("DEFINE_STATIC_CALL(pkt_handler, ip_rcv) and an inline call site");
        session.Say("""
            A static_call is a direct call whose target is rewritten in place when it changes: no pointer load, no
            retpoline. The out-of-line trampoline __SCT__pkt_handler is a `jmp` to the target; an inline site in the
            caller is patched into a `call` to the target itself.
            """);
        var call = StaticCall<nint>.Define<IpRcv>("pkt_handler");
        var site = call.Site<DemoCaller>("deliver_skb+0x4a");
        session.Show(Bytes(call.Trampoline) + "\n" + Bytes(site.Site));
        session.Show(F($"static_call(pkt_handler)(1) = {site.Run(1)}   (ip_rcv's result)"));

        session.Step("static_call_update(pkt_handler, ipv6_rcv): text_poke_bp, step by step");
        session.Say("""
            Other CPUs may be executing the site while it changes, so x86 never writes the 5 bytes in one go:
            int3 over the first byte (a CPU hitting it traps and the handler emulates the new call), sync every
            CPU, write the tail, sync, write the first byte, sync. Here is the protocol on a copy of the site:
            """);
        var copy = new PatchSite(site.Site.Name, site.Site.Address, site.Site.Bytes);
        var steps = new StringBuilder();
        TextPoke.Poke(copy, PatchSite.Branch(copy.Address, ModelTargets.Find("ipv6_rcv").Address, call: true), observer: e =>
            steps.AppendLine(F($"{e.Step,-5} {Hex(e.Bytes)}  {Decode(copy, e.Bytes)}")));
        session.Show(steps.ToString());
        session.Say("...and the real update, which runs the same protocol on the trampoline and on every inline site:");
        call.Update<Ipv6Rcv>();
        session.Show(Bytes(call.Trampoline) + "\n" + Bytes(site.Site));
        session.Show(F($"pokes: trampoline {call.Trampoline.Pokes}, site {site.Site.Pokes}; site bytes equal the copy's: {site.Site.Bytes.AsSpan().SequenceEqual(copy.Bytes)}"));
        session.Show(F($"static_call(pkt_handler)(1) = {site.Run(1)}   (ipv6_rcv's result)"));

        session.Step("NULL and RET0 static calls");
        var nullCall = StaticCall<nint>.DefineNull("pkt_hook");
        var nullSite = nullCall.Site<DemoCaller>("netif_rx+0x21");
        var ret0 = StaticCall<nint>.DefineRet0("pkt_filter");
        var ret0Site = ret0.Site<DemoCaller>("sk_filter+0x33");
        session.Say("DEFINE_STATIC_CALL_NULL leaves a 5-byte NOP (static_call_cond does nothing); DEFINE_STATIC_CALL_RET0 a `xor %eax,%eax`:");
        session.Show(Bytes(nullCall.Trampoline) + "\n" + Bytes(nullSite.Site) + "\n" + Bytes(ret0.Trampoline) + "\n" + Bytes(ret0Site.Site));

        session.Step("A live update under load");
        var threads = session.Quick ? 2 : 3;
        var perThread = session.Quick ? 1_000_000 : 10_000_000;
        var minimumUpdates = session.Quick ? 2_000 : 20_000;
        session.Say(F($"{threads} threads call the site {perThread:N0} times each while this thread flips the target between ip_rcv and ipv6_rcv until they finish (at least {minimumUpdates:N0} times). Every call must reach one of the two, and the counts must add up."));
        call.Update<IpRcv>();
        var reached = new long[threads, 3];
        // The callers start once the flipping has begun, so every call runs while the site is being repatched.
        using var flipping = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            flipping.Wait();
            long ipCount = 0, ipv6Count = 0, other = 0;
            for (var i = 0; i < perThread; i++)
            {
                // ip_rcv(1) = 4, ipv6_rcv(1) = 5 (see PacketHandlers): the result says which target ran.
                switch (site.Run(1))
                {
                    case 4: ipCount++; break;
                    case 5: ipv6Count++; break;
                    default: other++; break;
                }
            }

            reached[t, 0] = ipCount;
            reached[t, 1] = ipv6Count;
            reached[t, 2] = other;
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers)
            w.Start();
        var clock = Stopwatch.StartNew();
        var updates = 0;
        while (updates < minimumUpdates || workers.Any(w => w.IsAlive))
        {
            if ((updates++ & 1) == 0)
                call.Update<Ipv6Rcv>();
            else
                call.Update<IpRcv>();
            if (updates == 1)
                flipping.Set();
        }

        foreach (var w in workers)
            w.Join();
        clock.Stop();
        var text = new StringBuilder();
        long ipTotal = 0, ipv6Total = 0, otherTotal = 0;
        for (var t = 0; t < threads; t++)
        {
            text.AppendLine(F($"thread {t}: ip_rcv {reached[t, 0],9}  ipv6_rcv {reached[t, 1],9}  other {reached[t, 2]}  total {reached[t, 0] + reached[t, 1] + reached[t, 2]}"));
            ipTotal += reached[t, 0];
            ipv6Total += reached[t, 1];
            otherTotal += reached[t, 2];
        }

        text.AppendLine(F($"all:      ip_rcv {ipTotal,9}  ipv6_rcv {ipv6Total,9}  other {otherTotal}  total {ipTotal + ipv6Total + otherTotal} of {(long)threads * perThread}"));
        text.AppendLine(F($"updates {updates}, site pokes {site.Site.Pokes}, trampoline pokes {call.Trampoline.Pokes}, final target {ModelTargets.LinuxName(call.Target!)}, {clock.Elapsed.TotalMilliseconds:F0} ms"));
        session.Show(text.ToString());
    }

    private static string Bytes(PatchSite site) => F($"{site.Address:x16} {site.Name,-22} {Hex(site.Bytes)}  {Decode(site, site.Bytes)}");

    private static string Hex(byte[] bytes) => string.Join(' ', bytes.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    private static string Decode(PatchSite site, byte[] bytes)
    {
        var kind = site.Decode(bytes, out var target);
        return kind switch
        {
            PatchedInstruction.Call => "call " + NameOf(target),
            PatchedInstruction.Jump => "jmp " + NameOf(target),
            PatchedInstruction.Nop => "nopl 0x0(%rax,%rax,1)",
            PatchedInstruction.Return0 => "cs cs cs xor %eax,%eax",
            PatchedInstruction.Return => "ret; int3 ...",
            PatchedInstruction.Breakpoint => "int3  (CPUs executing the site trap and emulate the new call)",
            _ => "invalid",
        };
    }

    private static string NameOf(ulong address) =>
        ModelTargets.All.FirstOrDefault(t => t.Address == address) is { } t ? ModelTargets.LinuxName(t)
        : address == CallTarget<nint>.Of<Return0Target<nint>>().Address ? "__static_call_return0"
        : F($"0x{address:x}");

    private readonly struct DemoCaller : IStaticCallCaller<nint>
    {
        public static int Run<TTarget>(nint args)
            where TTarget : struct, ICallTarget<nint> =>
            StaticCalls.IsNull<nint, TTarget>() ? 0 : TTarget.Invoke(args);
    }
}
