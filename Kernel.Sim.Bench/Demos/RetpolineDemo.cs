using System.Text;
using Kernel.Sim.Bench.Report;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;
using Kernel.Sim.Native;
using static Kernel.Sim.Bench.Demos.DemoSession;

namespace Kernel.Sim.Bench.Demos;

/// <summary>Why an indirect call costs what it costs: the BTB, the RSB and the retpoline thunk, modelled and measured.</summary>
public sealed class RetpolineDemo : IDemo
{
    public string Name => "retpoline";

    public string Description => "why an indirect call costs what it costs: BTB, RSB, the retpoline thunk (modelled and measured)";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var profile = CpuProfiles.Skylake;

        session.Step("An indirect call is predicted by the BTB");
        session.Say("""
            `call *%rax` jumps wherever %rax points. The CPU does not wait for %rax: the branch target buffer (BTB),
            indexed by the call's address, guesses the target and execution runs ahead speculatively. Spectre v2
            poisons that guess. Below, a modelled Skylake-class CPU runs one call site four times, first to ip_rcv
            and then to ipv6_rcv: a cold BTB mispredicts, a trained one predicts.
            """);
        session.Show(TraceCalls(profile, Mitigation.None, ["ip_rcv", "ip_rcv", "ipv6_rcv", "ipv6_rcv"]));

        session.Step("The retpoline never lets the BTB guess");
        session.Say("""
            With retpolines the compiler turns `call *%rax` into `call __x86_indirect_thunk_rax`:
                call 1f; 2: pause; lfence; jmp 2b; 1: mov %rax,(%rsp); ret
            The inner call pushes the trap (2:) onto the return stack buffer (RSB); the `ret` is predicted from the
            RSB, so speculation spins harmlessly in the trap while the real target, written over the return address,
            is fetched. Every call pays a mispredicted return, however regular the target. The same four calls:
            """);
        session.Show(TraceCalls(profile, Mitigation.Retpoline, ["ip_rcv", "ip_rcv", "ipv6_rcv", "ipv6_rcv"]));
        session.Say(F($"""
            Where the cycles come from ({profile.Name} profile, docs/cost-model.md):
              call to the thunk     {profile.DirectCall,6:F1}   (DirectCall)
              thunk body            {profile.RetpolineThunk,6:F1}   (RetpolineThunk)
              mispredicted ret      {profile.MispredictPenalty,6:F1}   (MispredictPenalty)
              total                 {profile.DirectCall + profile.RetpolineThunk + profile.MispredictPenalty,6:F1}   against {profile.PredictedIndirectCall:F1} for a predicted `call *%rax`
            """));

        session.Step("Every mechanism, every pattern, every profile (kernelsim model)");
        session.Say("Cycles per call from the model, steady state: one target, two alternating, four at random.");
        var calls = session.Quick ? 2_000 : 20_000;
        var mechanisms = new[] { "direct", "indirect", "retpoline", "retpoline-lfence", "eibrs", "ibrs" };
        var table = new StringBuilder();
        table.AppendLine(F($"{"profile",-9} {"pattern",-10}") + string.Concat(mechanisms.Select(m => F($" {m,17}"))));
        foreach (var p in new[] { CpuProfiles.Skylake, CpuProfiles.Zen2, CpuProfiles.IceLake })
        {
            foreach (var (pattern, targets) in new[] { (CallPattern.Mono, 1), (CallPattern.Alternate, 2), (CallPattern.Random, 4) })
            {
                var results = DispatchModel.Run(p, targets, pattern, calls, 1);
                table.Append(F($"{p.Name,-9} {pattern.ToString().ToLowerInvariant(),-10}"));
                foreach (var m in mechanisms)
                    table.Append(F($" {results.First(r => r.Mechanism == m).CyclesPerCall,17:F2}"));
                table.AppendLine();
            }
        }

        session.Show(table.ToString());
        session.Say("""
            Read across: a predicted indirect call costs about a direct call; a random one pays the mispredict; the
            retpoline pays it always. Read down: on eIBRS parts (icelake) the indirect call stays cheap, which is
            why newer kernels drop retpolines there.
            """);

        session.Step("Measured on this machine (native lab)");
        if (!NativeLab.IsSupported)
        {
            session.Say($"The native lab cannot run here: {NativeLab.UnsupportedReason}");
            return;
        }

        session.Say("Real x86-64 loops generated with Iced, each call shape timed with small counts (figures are noisy on a busy machine):");
        var report = NativeLab.Run(new NativeLabOptions
        {
            Calls = session.Quick ? 5_000 : 50_000,
            Repetitions = session.Quick ? 3 : 7,
            Warmups = 1,
            Mechanisms = [NativeMechanism.Direct, NativeMechanism.Indirect, NativeMechanism.Retpoline, NativeMechanism.RetpolineLfence],
        });
        var basis = NativeCalibration.BasisForThisHost();
        var measured = new StringBuilder();
        measured.AppendLine(F($"core clock {report.CoreGhz:F2} GHz, TSC {report.TscGhz:F2} GHz, {report.Calls} calls x {report.Repetitions} runs; model: {basis.Name}"));
        measured.AppendLine(F($"{"mechanism",-18} {"pattern",-10} {"ns/call",8} {"cycles/call",12} {"model cycles",13}"));
        foreach (var r in report.Results)
        {
            var (targets, pattern) = r.Pattern switch
            {
                TargetPattern.Mono => (1, CallPattern.Mono),
                TargetPattern.Alternate => (2, CallPattern.Alternate),
                _ => (4, CallPattern.Random),
            };
            var modelled = DispatchModel.Run(basis, targets, pattern, 4_000, 1).First(m => m.Mechanism == r.MechanismName).CyclesPerCall;
            measured.AppendLine(F($"{r.MechanismName,-18} {r.PatternName,-10} {r.Ns.Median,8:F2} {r.Cycles.Median,12:F1} {modelled,13:F1}"));
        }

        session.Show(measured.ToString());
        session.Say("The retpoline row hardly moves with the pattern: it mispredicts on purpose, whatever the traffic.");
    }

    /// <summary>Runs calls through one modelled CPU and prints what each cost and whether it was predicted.</summary>
    private static string TraceCalls(CpuProfile profile, Mitigation mitigation, string[] targets)
    {
        var cpu = new ModelledCpu(0, profile);
        var site = KernelText.AddressOf("__netif_receive_skb_core+0x3f5");
        var text = new StringBuilder();
        text.AppendLine(F($"{"call",4}  {"target",-9} {"BTB/RSB",-12} {"cycles",7}  {"RSB depth",9}"));
        for (var i = 0; i < targets.Length; i++)
        {
            var before = cpu.Account.Cycles;
            var predicted = cpu.CallIndirect(site, ModelTargets.Find(targets[i]).Address, mitigation);
            var depth = cpu.Rsb.Count;
            cpu.Return(site);
            var verdict = predicted ? "predicted" : "mispredicted";
            text.AppendLine(F($"{i + 1,4}  {targets[i],-9} {verdict,-12} {cpu.Account.Cycles - before,7:F1}  {depth,9}"));
        }

        return text.ToString();
    }
}
