using System.Text;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Tests.Bpf.Maps;

namespace Kernel.Sim.Tests.Bpf.Helpers;

public sealed class TracePrintkTests
{
    // The input holds the format at 0 (NUL-terminated within 32 bytes) and a string at 32.
    private const string Program = """
        r6 = r1
        r2 = 32
        r3 = -5
        r4 = r6
        r4 += 32
        r5 = 0xbeef
        call 6
        exit
        """;

    private static (long R0, InMemoryTraceSink Sink) Printk(string format)
    {
        using var k = new MapTestKernel();
        var context = k.Bpf.CreateHelperContext(2);
        var sink = new InMemoryTraceSink();
        context.TraceSink = sink;
        context.Environment = new HelperEnvironment { Cpu = 2, Pid = 77, Comm = "bash", FixedNs = 3_123_456_789 };
        var input = new byte[48];
        Encoding.ASCII.GetBytes(format).CopyTo(input, 0);
        "abc\0"u8.CopyTo(input.AsSpan(32));
        var r0 = (long)MapTestKernel.Run(k.Load(Program, context: context), input);
        return (r0, sink);
    }

    [Test]
    public void The_line_has_the_kernels_trace_layout()
    {
        var (r0, sink) = Printk("v=%d %s %x\n\0");
        Assert.That(r0, Is.EqualTo("v=-5 abc beef\n".Length));
        Assert.That(sink.Lines, Is.EqualTo(new[] { "            bash-77      [002] .....     3.123456: bpf_trace_printk: v=-5 abc beef" }));
    }

    [TestCase("%5d|%-4s|%08x\0", "   -5|abc |0000beef")]
    [TestCase("%u %s %c\0", "4294967291 abc \u00ef")]
    [TestCase("100%% %lld\0", "100% -5")]
    public void Conversions_follow_bprintf(string format, string expected)
    {
        var (_, sink) = Printk(format);
        Assert.That(sink.Lines.Single(), Does.EndWith("bpf_trace_printk: " + expected));
    }

    [TestCase("%d %d %d %d\0")]
    [TestCase("%q\0")]
    [TestCase("no terminator in the first 32 bytes")]
    public void Bad_formats_are_einval_and_print_nothing(string format)
    {
        var (r0, sink) = Printk(format);
        Assert.That(r0, Is.EqualTo(-BpfErrno.EINVAL));
        Assert.That(sink.Lines, Is.Empty);
    }
}
