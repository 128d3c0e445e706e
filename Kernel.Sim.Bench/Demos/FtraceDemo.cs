using Kernel.Sim.Hosting;
using Kernel.Sim.Net;
using static Kernel.Sim.Bench.Demos.DemoSession;

namespace Kernel.Sim.Bench.Demos;

/// <summary>The function and function_graph tracers on the simulated kernel's receive path, through tracefs.</summary>
public sealed class FtraceDemo : IDemo
{
    public string Name => "ftrace";

    public string Description => "the function and function_graph tracers on the simulated receive path, driven through tracefs";

    public void Run(DemoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 2 });
        kernel.Workloads.InstallAll();
        var shell = new TracefsConsole(session, kernel.Tracing.Tracefs);

        session.Step("What can be traced");
        session.Say("""
            Every simulated kernel function starts with an fentry site (`call __fentry__`, a 5-byte NOP until a tracer
            needs it). The traceable functions are listed in available_filter_functions:
            """);
        shell.Cat("available_tracers");
        var functions = kernel.Tracing.Tracefs.Read("available_filter_functions").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        shell.Cat("available_filter_functions", head: 6);
        session.Say(F($"({functions.Length} functions in all)"));

        session.Step("The function tracer, filtered with a glob");
        session.Say("""
            set_ftrace_filter takes the kernel's globs; only matching sites are patched to call the tracer. One packet
            goes up the receive path (the `net` workload, in softirq context: note the `s` in the flags):
            """);
        shell.Echo("ip_*", "set_ftrace_filter");
        shell.Echo("*_rcv", "set_ftrace_filter", append: true);
        shell.Echo("function", "current_tracer");
        kernel.Workloads.Run("net", 1, 0);
        shell.Cat("trace");

        session.Step("The function_graph tracer: entry, exit and duration");
        session.Say("function_graph hooks the return too (a return trampoline), so it prints the call tree with each function's time:");
        shell.Echo("nop", "current_tracer");
        shell.Echo(string.Empty, "set_ftrace_filter");
        shell.Echo(string.Empty, "trace");
        shell.Echo("function_graph", "current_tracer");
        kernel.Workloads.Run("net", 1, 1);
        shell.Cat("trace");

        session.Step("notrace wins over the filter, and the syscall path too");
        shell.Echo("nop", "current_tracer");
        shell.Echo(string.Empty, "trace");
        shell.Echo("*", "set_ftrace_filter");
        shell.Echo("ip_rcv_core", "set_ftrace_notrace");
        shell.Echo("function", "current_tracer");
        kernel.Workloads.Run("net", 1, 0);
        kernel.Workloads.Run("syscall", 1, 1);
        shell.Cat("trace");
        session.Say("ip_rcv_core is gone; the syscall workload ran in task context on CPU 1, under its own pid and comm.");

        session.Step("The full receive path (Kernel.Sim/Net), read through trace_pipe");
        session.Say("""
            The same tracers work on the simulated kernel's real receive path: driver poll, XDP,
            netif_receive_skb, ptype handlers, IPv4 and UDP. One UDP packet, the function tracer limited to the IP
            and UDP layers; trace_pipe is the consuming reader (a second read finds nothing):
            """);
        using var netKernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        var stack = new NetStack(netKernel.Core, new NetStackOptions { Strategy = DispatchStrategy.Guards }, netKernel.Tracing);
        using var traffic = TrafficPool.Generate(TrafficMix.Parse("ipv4=100,udp=100"), 7, 1, 1);
        var netShell = new TracefsConsole(session, netKernel.Tracing.Tracefs);
        netShell.Echo("ip_*", "set_ftrace_filter");
        netShell.Echo("*udp*", "set_ftrace_filter", append: true);
        netShell.Echo("function", "current_tracer");
        stack.Receive(traffic.Frame(0));
        netKernel.Core.Cpus[0].Run(() => stack.NetRxAction());
        netShell.Cat("trace_pipe");
        var again = netKernel.Tracing.Tracefs.Read("trace_pipe").Text;
        session.Say(F($"(a second read of trace_pipe returns {again.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length} lines)"));
    }
}
