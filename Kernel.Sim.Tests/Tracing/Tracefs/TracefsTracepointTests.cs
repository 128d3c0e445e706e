using Kernel.Sim.Core;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Tracing.Tracefs;

public sealed class TracefsTracepointTests
{
    private const string Event = "events/net/netif_receive_skb";

    [Test]
    public void TheKernelsTracepointHasItsEventDirectory()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.List("events"), Does.Contain("net/"));
        Assert.That(fs.List("events/net"), Is.EqualTo(new[] { "enable", "netif_receive_skb/" }));
        Assert.That(fs.List(Event), Is.EqualTo(new[] { "enable", "filter", "format", "id" }));
        Assert.That(fs.Read("available_events").Text, Is.EqualTo("net:netif_receive_skb\n"));
        var id = fs.Read($"{Event}/id").Text;
        Assert.That(fs.Read($"{Event}/format").Text, Does.StartWith($"name: netif_receive_skb\nID: {id}").And.Contain("field:__data_loc char[] name;\toffset:20;\tsize:4;"));
        Assert.That(fs.Read($"{Event}/enable").Text, Is.EqualTo("0\n"));
        Assert.That(fs.Read($"{Event}/filter").Text, Is.EqualTo("none\n"));
        Assert.That(fs.Write($"{Event}/id", "3"), Is.EqualTo(-Errno.EACCES));
        Assert.That(fs.Write("available_events", "x"), Is.EqualTo(-Errno.EACCES));
    }

    [Test]
    public void EnablingItPrintsLinuxsLinesWhileTheWorkloadRuns()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        kernel.Workloads.Run("net", 1);
        Assert.That(kernel.Tracing.Trace.Buffer.EntriesWritten, Is.Zero, "disabled: nothing written");
        Assert.That(fs.Write($"{Event}/enable", "1"), Is.EqualTo(0));
        Assert.That(fs.Read("events/net/enable").Text, Is.EqualTo("1\n"));
        kernel.Workloads.Run("net", 3);
        var body = fs.Read("trace").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
        Assert.That(body, Has.Length.EqualTo(3));
        // Frames 2-4 of the workload's pool (the first went by while disabled): skb->len 124, 307, 160.
        Assert.That(body[0], Does.Match(@"^ +<idle>-0 +\[000\] \.\.s\.\. +\d+\.\d{6}: netif_receive_skb: dev=eth0 skbaddr=0x[0-9a-f]+ len=124$"));
        Assert.That(body.Select(l => l[(l.LastIndexOf('=') + 1)..]), Is.EqualTo(new[] { "124", "307", "160" }));
        Assert.That(fs.Write("events/net/enable", "0"), Is.EqualTo(0));
        Assert.That(fs.Read($"{Event}/enable").Text, Is.EqualTo("0\n"));
    }

    [Test]
    public void EventsEnableCoversTracepointsToo()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("events/enable", "1"), Is.EqualTo(0));
        Assert.That(fs.Read($"{Event}/enable").Text, Is.EqualTo("1\n"));
        Assert.That(fs.Read("events/enable").Text, Is.EqualTo("1\n"));
        Assert.That(fs.Write("events/enable", "0"), Is.EqualTo(0));
        Assert.That(fs.Read($"{Event}/enable").Text, Is.EqualTo("0\n"));
    }

    [TestCase("len > 150", 3)]
    [TestCase("len == 124", 1)]
    [TestCase("name == \"eth0\" && len < 200", 3)]
    [TestCase("name ~ \"wlan*\"", 0)]
    public void FiltersUseTheFormatsFields(string filter, int expected)
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write($"{Event}/filter", filter), Is.EqualTo(0), fs.Read($"{Event}/filter").Text);
        Assert.That(fs.Read($"{Event}/filter").Text, Is.EqualTo(filter + "\n"));
        fs.Write($"{Event}/enable", "1");
        kernel.Workloads.Run("net", 4); // skb->len 161, 124, 307, 160
        Assert.That(kernel.Tracing.Trace.Buffer.Entries, Is.EqualTo(expected));
    }

    [Test]
    public void ABadFilterIsRejectedWithTheKernelsParseError()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write($"{Event}/filter", "nope == 1"), Is.EqualTo(-Errno.EINVAL));
        Assert.That(fs.Read($"{Event}/filter").Text, Is.EqualTo("nope == 1\n^\nparse_error: Field not found\n"));
        Assert.That(fs.Write($"{Event}/filter", "0"), Is.EqualTo(0));
        Assert.That(fs.Read($"{Event}/filter").Text, Is.EqualTo("none\n"));
    }
}
