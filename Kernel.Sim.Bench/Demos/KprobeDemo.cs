using Kernel.Sim.Hosting;
using Kernel.Sim.Tracing.ProbeEvents;

namespace Kernel.Sim.Bench.Demos;

/// <summary>
/// kprobe_events: defining probe events with fetch arguments through tracefs, their format, the same fetch arguments
/// compiled to a verified BPF program (the 2018 proposal), trace lines and errors.
/// </summary>
public sealed class KprobeDemo : IDemo
{
    public string Name => "kprobe";

    public string Description => "kprobe_events: fetch arguments through tracefs, compiled to a verified BPF program, trace lines, errors";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 2 });
        kernel.Workloads.InstallAll();
        var shell = new TracefsConsole(session, kernel.Tracing.Tracefs);

        session.Step("Define an event on ip_rcv with fetch arguments");
        session.Say("""
            Documentation/trace/kprobetrace.rst syntax: `p:EVENT SYMBOL ARGS`. Each argument fetches a value when the
            probe hits: %di is ip_rcv's first argument (the sk_buff), +112(%di):u32 is skb->len, +164(%di):x16 is
            skb->protocol, +0(+16(%di)):string follows skb->dev to the device name.
            """);
        shell.Echo("p:myprobe ip_rcv skb=%di len=+112(%di):u32 proto=+164(%di):x16 dev=+0(+16(%di)):string", "kprobe_events");
        shell.Echo("r:myretprobe ip_rcv ret=$retval:s32", "kprobe_events", append: true);
        shell.Cat("kprobe_events");

        session.Step("The event's format file");
        session.Say("Each event gets a directory under events/kprobes/ with an id, enable, filter and the record layout:");
        shell.Cat("events/kprobes/myprobe/format");

        session.Step("The same fetch arguments as one verified BPF program");
        session.Say("""
            The 2018 proposal: instead of a chain of small fetch functions called through indirect calls (retpolines
            on every step), compile an event's fetch arguments to one BPF program of type kprobe (ctx = pt_regs),
            dereferencing with bpf_probe_read_kernel, and run it JIT-compiled. The condition: it must pass the
            verifier. Here is what KernelSim generates for myprobe, and the verifier's log of it:
            """);
        kernel.Tracing.ProbeEvents.FetchEngine = FetchEngine.Bpf;
        var myprobe = kernel.Tracing.ProbeEvents.Find("kprobes", "myprobe");
        if (myprobe?.BpfProgram is { } compiled)
        {
            session.Show(compiled.Program.Disassembly);
            session.Say(session.Quick ? "The verifier's verdict (the full log without --quick):" : "The verifier's log:");
            var log = compiled.Program.Verdict.Log.TrimEnd('\n').Split('\n');
            session.Show(string.Join('\n', session.Quick ? log[^1..] : log));
        }
        else
        {
            session.Say("(this event could not be compiled to BPF; it keeps the classic fetch chain — see dmesg)");
        }

        session.Step("Enable, run a packet, read the trace");
        shell.Echo("1", "events/kprobes/myprobe/enable");
        shell.Echo("1", "events/kprobes/myretprobe/enable");
        kernel.Workloads.Run("net", 2, 0);
        shell.Cat("trace");
        session.Say("""
            The records came from the BPF fetch program; the classic chain gives byte-identical records (a differential
            test holds them equal). The entry probe prints (SYMBOL+OFFSET/SIZE); the return probe prints
            (CALLER <- FUNCTION).
            """);
        shell.Cat("kprobe_profile");

        session.Step("Mistakes are reported as the kernel reports them");
        shell.Echo("p:badprobe ip_rcv len=+112(%xx):u32", "kprobe_events", append: true);
        shell.Echo("p:badprobe no_such_function", "kprobe_events", append: true);
        shell.Cat("error_log");
    }
}
