using Kernel.Sim.Bench.Cli.Bpf;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Bench.Demos;

/// <summary>Programs the verifier rejects and why, its log, and the host kernel's verdict beside ours where the host allows.</summary>
public sealed class VerifierDemo : IDemo
{
    // Teaching inputs (LLVM syntax with the corpus headers); the verdicts and logs below come from running them.
    private static readonly (string Title, string Lesson, string Source)[] Programs =
    [
        ("R0 is never set", "A program must return a value: exit reads R0, which nothing wrote.", """
            # type: socket_filter
            r1 = 1
            exit
            """),
        ("A map lookup can return NULL", "bpf_map_lookup_elem returns map_value_or_null: dereferencing it before a NULL check is refused.", """
            # map: hash key=4 value=8 entries=16
            # type: socket_filter
            r1 = 0
            *(u64 *)(r10 - 8) = r1
            r2 = r10
            r2 += -8
            r1 = map[0] ll
            call 1
            r1 = *(u32 *)(r0 + 0)
            r0 = 0
            exit
            """),
        ("...and the fix", "After `if r0 == 0`, R0 is a map_value on the fall-through path: the same load is accepted.", """
            # map: hash key=4 value=8 entries=16
            # type: socket_filter
            r1 = 0
            *(u64 *)(r10 - 8) = r1
            r2 = r10
            r2 += -8
            r1 = map[0] ll
            call 1
            if r0 == 0 goto +1
            r1 = *(u32 *)(r0 + 0)
            r0 = 0
            exit
            """),
        ("A kprobe may not write its context", "A kprobe's ctx is the probed function's pt_regs: read-only to the program.", """
            # type: kprobe
            r2 = 0
            *(u64 *)(r1 + 112) = r2
            r0 = 0
            exit
            """),
        ("A loop that never ends", "The verifier walks every path; a state that repeats exactly is an infinite loop.", """
            # type: socket_filter
            r0 = 0
            if r0 == 0 goto -1
            exit
            """),
    ];

    public string Name => "verifier";

    public string Description => "the eBPF verifier: programs rejected and why, its log, the host kernel's verdict beside ours";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var registry = ProgramTypeRegistry.CreateDefault();
        session.Say("""
            Before an eBPF program runs in the kernel the verifier proves it safe: every path ends, every register is
            read only after it is written, every memory access stays in bounds, pointers are checked before use. Its
            log (log_level 1: the failing path) says where a proof fails. Each program below is verified by
            KernelSim and, where this process may call bpf(2), loaded into the running kernel too.
            """);
        foreach (var (title, lesson, text) in Programs)
        {
            session.Step(title);
            session.Say(lesson);
            var source = VerifierSource.Parse(text, title);
            session.Show(text.TrimEnd());
            var options = source.ToOptions(registry, 1);
            var result = Verifier.Verify(source.Program, options);
            session.Say(result.Accepted ? "kernelsim: accepted; the log:" : "kernelsim: rejected; the log:");
            session.Show(result.Log);
            var host = HostBpf.Load(source.Program, options, 1);
            if (!host.Available)
            {
                session.Say($"host kernel: not asked ({host.Note})");
                continue;
            }

            // The host's message: our error where the host printed it too, else the line before its statistics.
            var hostLines = host.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var hostLast = hostLines.FirstOrDefault(l => result.Error is { Length: > 0 } e && l.Contains(e, StringComparison.Ordinal))
                ?? hostLines.Reverse().Skip(1).FirstOrDefault() ?? string.Empty;
            session.Say($"host kernel ({Environment.OSVersion.VersionString}): {(host.Accepted ? "accepted" : $"rejected (errno {host.Errno})")}{(host.Accepted ? string.Empty : $": {hostLast}")}");
            session.Say($"verdicts: kernelsim {(result.Accepted ? "accepted" : "rejected")}, host {(host.Accepted ? "accepted" : "rejected")}: {(result.Accepted == host.Accepted ? "agree" : "DISAGREE")}");
        }
    }
}
