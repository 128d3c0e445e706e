using Kernel.Sim.Hosting;

namespace Kernel.Sim.Bench.Demos;

/// <summary>kprobe_events: defining probe events with fetch arguments through tracefs, their format, trace lines and errors.</summary>
public sealed class KprobeDemo : IDemo
{
    public string Name => "kprobe";

    public string Description => "kprobe_events: probe events with fetch arguments defined through tracefs, their format, trace lines, errors";

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

        session.Step("Enable, run a packet, read the trace");
        shell.Echo("1", "events/kprobes/myprobe/enable");
        shell.Echo("1", "events/kprobes/myretprobe/enable");
        kernel.Workloads.Run("net", 2, 0);
        shell.Cat("trace");
        session.Say("The entry probe prints (SYMBOL+OFFSET/SIZE); the return probe prints (CALLER <- FUNCTION).");
        shell.Cat("kprobe_profile");

        session.Step("Mistakes are reported as the kernel reports them");
        shell.Echo("p:badprobe ip_rcv len=+112(%xx):u32", "kprobe_events", append: true);
        shell.Echo("p:badprobe no_such_function", "kprobe_events", append: true);
        shell.Cat("error_log");
    }
}
