using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>
/// The loader's form of the kernel's convert_ctx_accesses for XDP: a program reads <c>struct xdp_md</c> (u32
/// fields, the UAPI), the kernel hands it an <c>xdp_buff</c> with 64-bit pointers and rewrites each context load
/// the verifier saw (AccessKind.Context) to load the real field. The simulated xdp_buff is
/// { u64 data; u64 data_end; u64 data_meta; u32 ingress_ifindex; u32 rx_queue_index; u32 egress_ifindex; }.
/// Other program types see their UAPI context as is.
/// </summary>
public static class ContextConversion
{
    public const int XdpBuffSize = 40;

    /// <summary>Rewrites context loads of <paramref name="code"/> in place for <paramref name="type"/>.</summary>
    public static void Apply(Instruction[] code, ProgramType type, AccessKind[] accesses)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(accesses);
        if (type.Name != "xdp")
            return;
        for (var i = 0; i < code.Length && i < accesses.Length; i++)
        {
            var insn = code[i];
            if ((accesses[i] & AccessKind.Context) == 0 || insn.Class != BPF_LDX)
                continue;
            (int Off, byte Size)? to = insn.Offset switch
            {
                XdpProgramType.Data => (0, BPF_DW),
                XdpProgramType.DataEnd => (8, BPF_DW),
                XdpProgramType.DataMeta => (16, BPF_DW),
                XdpProgramType.IngressIfindex => (24, BPF_W),
                XdpProgramType.RxQueueIndex => (28, BPF_W),
                XdpProgramType.EgressIfindex => (32, BPF_W),
                _ => null,
            };
            if (to is { } t)
                code[i] = new Instruction((byte)(BPF_LDX | BPF_MEM | t.Size), insn.Dst, insn.Src, (short)t.Off, 0);
        }
    }
}
