using Kernel.Sim.Hosting;

namespace Kernel.Sim.Tests.Tracing;

public sealed class SmokeTests
{
    [Test, Explicit]
    public void Print()
    {
        using var k = new SimulatedKernel(new KernelSimOptions { Cpus = 2 });
        k.Workloads.InstallAll();
        var fs = k.Tracing.Tracefs;
        TestContext.Out.WriteLine(fs.Write("current_tracer", "function"));
        k.Workloads.Run("syscall", 1);
        k.Workloads.Run("net", 1, 1);
        TestContext.Out.WriteLine(fs.Read("trace").Text);
        fs.Write("current_tracer", "function_graph");
        fs.Write("trace", "");
        k.Workloads.Run("syscall", 1);
        k.Workloads.Run("net", 1, 1);
        TestContext.Out.WriteLine(fs.Read("trace").Text);
        fs.Write("current_tracer", "nop");
        fs.Write("trace", "");
        TestContext.Out.WriteLine(fs.Write("kprobe_events", "p:myprobe ip_rcv skb=%di len=+112(%di):u32 comm=$comm st=$stack0:symbol"));
        TestContext.Out.WriteLine(fs.Write("kprobe_events", "r:myret ip_rcv_core ret=$retval", true));
        TestContext.Out.WriteLine(fs.Write("kprobe_events", "p:bad ip_rcv +0(%di):x", true));
        TestContext.Out.WriteLine(fs.Write("events/kprobes/enable", "1"));
        k.Workloads.Run("net", 2, 1);
        TestContext.Out.WriteLine(fs.Read("trace").Text);
        TestContext.Out.WriteLine(fs.Read("kprobe_events").Text);
        TestContext.Out.WriteLine(fs.Read("error_log").Text);
        TestContext.Out.WriteLine(fs.Read("events/kprobes/myprobe/format").Text);
        TestContext.Out.WriteLine(fs.Read("/sys/kernel/debug/kprobes/list").Text);
        TestContext.Out.WriteLine(fs.Read("kprobe_profile").Text);
        TestContext.Out.WriteLine(fs.Read("per_cpu/cpu1/stats").Text);
    }
}
