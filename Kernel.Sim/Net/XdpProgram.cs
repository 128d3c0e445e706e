namespace Kernel.Sim.Net;

/// <summary><c>enum xdp_action</c>.</summary>
public enum XdpAction : uint
{
    XDP_ABORTED = 0,
    XDP_DROP = 1,
    XDP_PASS = 2,
    XDP_TX = 3,
    XDP_REDIRECT = 4,
}

/// <summary>
/// A program attached at the driver's XDP hook (<c>dev_xdp_attach</c>): runs on every received frame before an skb
/// exists, with ctx = <c>struct xdp_buff *</c>; it may move <c>data</c>/<c>data_end</c> and returns an
/// <see cref="XdpAction"/> as a u32 (values beyond XDP_REDIRECT count as aborted, as bpf_warn_invalid_xdp_action does).
/// A verified BPF program is attached through an implementation that runs it; C# programs serve tests and demos.
/// </summary>
public abstract unsafe class XdpProgram
{
    /// <summary>The program's name (bpftool's <c>name</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Runs the program on one frame.</summary>
    public abstract uint Run(XdpBuff* ctx);

    /// <summary>Runs the program on one frame on simulated CPU <paramref name="cpu"/> (the driver knows it; a per-CPU program copy need not look it up).</summary>
    internal virtual uint Run(XdpBuff* ctx, int cpu) => Run(ctx);
}

/// <summary>An XDP program that returns a fixed action (xdp_pass, xdp_drop, ...): for tests and the default hook.</summary>
public sealed unsafe class FixedXdpProgram(XdpAction action) : XdpProgram
{
    public override string Name => "xdp_" + action.ToString()[4..].ToLowerInvariant();

    public override uint Run(XdpBuff* ctx) => (uint)action;
}
