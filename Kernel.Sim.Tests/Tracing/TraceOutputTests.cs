using System.Text;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tests.Tracing;

public sealed class TraceOutputTests
{
    [Test]
    public void FunctionTracerPrintsTheKernelLayout()
    {
        using var kernel = TestKernel.Create(cpus: 2);
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("set_ftrace_filter", "ip_rcv udp_rcv"), Is.EqualTo(0));
        Assert.That(fs.Write("current_tracer", "function"), Is.EqualTo(0));
        kernel.Workloads.Run("net", 1, 1);
        var lines = fs.Read("trace").Text.Split('\n');
        Assert.That(lines[0], Is.EqualTo("# tracer: function"));
        Assert.That(lines[2], Is.EqualTo("# entries-in-buffer/entries-written: 2/2   #P:2"));
        Assert.That(lines[10], Is.EqualTo("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION"));
        Assert.That(lines[11], Is.EqualTo("#              | |         |   |||||     |         |"));
        Assert.That(lines[12], Is.EqualTo("          <idle>-0       [001] ..s..     0.000002: ip_rcv <-__netif_receive_skb_one_core"));
        Assert.That(lines[13], Does.EndWith(": udp_rcv <-ip_protocol_deliver_rcu"));
    }

    [Test]
    public void FunctionGraphFoldsLeavesAndPrintsDurations()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("set_ftrace_filter", "__x64_sys_getpid __task_pid_nr_ns pid_nr_ns");
        fs.Write("current_tracer", "function_graph");
        kernel.Workloads.Run("syscall", 1);
        Assert.That(fs.Read("trace").Text, Is.EqualTo(
            "# tracer: function_graph\n#\n" +
            "# CPU  DURATION                  FUNCTION CALLS\n" +
            "# |     |   |                     |   |   |   |\n" +
            " 0)               |  __x64_sys_getpid() {\n" +
            " 0)               |    __task_pid_nr_ns() {\n" +
            " 0)   0.012 us    |      pid_nr_ns();\n" +
            " 0)   0.032 us    |    }\n" +
            " 0)   0.062 us    |  }\n"));
    }

    [TestCase(123, "  0.123 us    |  ")]
    [TestCase(12_345, "+ 12.345 us   |  ")]
    [TestCase(1_234_567, "# 1234.567 us |  ")]
    [TestCase(123_456_789, "@ 123456.7 us |  ")]
    [TestCase(12_345_678_901, "$ 12345678 us |  ")]
    public void DurationsFollowPrintGraphDuration(long ns, string expected)
    {
        var text = new StringBuilder();
        TraceOutput.AppendDuration(text, ns);
        Assert.That(text.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void PidChangesOnACpuPrintTheSeparator()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("set_ftrace_filter", "udp_rcv pid_nr_ns");
        fs.Write("current_tracer", "function_graph");
        kernel.Workloads.Run("syscall", 1);
        kernel.Workloads.Run("net", 1);
        var text = fs.Read("trace").Text;
        Assert.That(text, Does.Contain(" ------------------------------------------\n 0) kernelsim-1000 =>    <idle>-0   \n ------------------------------------------\n\n"));
    }

    [Test]
    public void TracePipeConsumesAndReportsLostEvents()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("buffer_size_kb", "1");
        fs.Write("current_tracer", "function");
        kernel.Workloads.Run("net", 4);
        var pipe = fs.Read("trace_pipe").Text;
        Assert.That(pipe, Does.StartWith("CPU:0 [LOST "));
        Assert.That(pipe, Does.Not.Contain("# tracer"));
        Assert.That(fs.Read("trace_pipe").Text, Is.Empty);
        Assert.That(kernel.Tracing.Trace.Buffer.Entries, Is.EqualTo(0));
    }

    [Test]
    public void TracingOffWritesNothing()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        fs.Write("current_tracer", "function");
        fs.Write("tracing_on", "0");
        kernel.Workloads.Run("net", 1);
        Assert.That(kernel.Tracing.Trace.Buffer.EntriesWritten, Is.EqualTo(0));
    }

    [Test]
    public void TwoKernelsDoNotSeeEachOthersTraces()
    {
        using var a = TestKernel.Create();
        using var b = TestKernel.Create();
        a.Tracing.Tracefs.Write("current_tracer", "function");
        b.Workloads.Run("net", 1);
        a.Workloads.Run("syscall", 1);
        Assert.That(b.Tracing.Trace.Buffer.EntriesWritten, Is.EqualTo(0));
        Assert.That(a.Tracing.Trace.Output.ReadTrace(), Does.Contain("__x64_sys_getpid").And.Not.Contain("ip_rcv"));
        Assert.That(b.Core.Functions.Find("ip_rcv")!.Fentry, Is.Null);
    }
}
