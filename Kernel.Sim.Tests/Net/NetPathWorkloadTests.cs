using Kernel.Sim.Net;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Net;

public sealed class NetPathWorkloadTests
{
    [Test]
    public void TheNetWorkloadIsThePacketPath()
    {
        using var kernel = TestKernel.Create();
        var workload = (NetPathWorkload)kernel.Workloads.Get("net")!;
        var stack = workload.Stack!;
        Assert.That(kernel.Core.Functions.AvailableFilterFunctions(), Does.Contain("__netif_receive_skb_one_core\n").And.Contain("simnic_poll\n"));
        kernel.Workloads.Run("net", NetPathWorkload.Frames);
        Assert.That(stack.Counters.Delivered(NetFamily.Ipv4), Is.EqualTo(NetPathWorkload.Frames));
        Assert.That(stack.Counters.Dropped(NetFamily.Ipv4), Is.Zero);
        Assert.That(stack.FreeSkbs(0), Is.EqualTo(stack.Options.SkbCacheSize), "every sk_buff went back to the cache");
    }

    [Test]
    public void FunctionGraphShowsLinuxsCallOrder()
    {
        using var kernel = TestKernel.Create();
        var fs = kernel.Tracing.Tracefs;
        Assert.That(fs.Write("current_tracer", "function_graph"), Is.EqualTo(0));
        kernel.Workloads.Run("net", 1);
        var calls = fs.Read("trace").Text.Split('\n')
            .Where(l => !l.StartsWith('#') && l.Contains('|', StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf('|', StringComparison.Ordinal) + 1)..].Trim())
            .Where(l => l != "}")
            .Select(l => l.TrimEnd('{', ' ', ';').TrimEnd(')').TrimEnd('('))
            .ToArray();
        Assert.That(calls, Is.EqualTo(new[]
        {
            "net_rx_action", "__napi_poll", "simnic_poll", "napi_build_skb", "eth_type_trans", "netif_receive_skb",
            "netif_receive_skb_internal", "__netif_receive_skb", "__netif_receive_skb_one_core", "__netif_receive_skb_core",
            "ip_rcv", "ip_rcv_core", "ip_rcv_finish", "ip_route_input_noref", "ip_local_deliver", "ip_local_deliver_finish",
            "ip_protocol_deliver_rcu", "udp_rcv", "__udp4_lib_rcv", "__udp4_lib_lookup", "udp_queue_rcv_skb", "udp_recvmsg", "consume_skb",
        }));
    }
}
