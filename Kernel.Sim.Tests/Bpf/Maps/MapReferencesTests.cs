using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Tests.Bpf.Maps;

public sealed class MapReferencesTests
{
    private static ulong Imm64(Instruction[] program, int index) => (uint)program[index].Imm | ((ulong)(uint)program[index + 1].Imm << 32);

    [Test]
    public void Every_map_reference_form_becomes_a_plain_lddw_of_the_address()
    {
        using var k = new MapTestKernel();
        var hash = k.Create(BpfMapType.Hash, 4, 4, 4);
        var array = (ArrayMap)k.Create(BpfMapType.Array, 4, 16, 1);
        var program = LlvmAssembler.Assemble($"""
            ld_pseudo r1, 1, {hash.Fd}
            ld_pseudo r2, 2, {(12L << 32) | (uint)array.Fd}
            ld_pseudo r3, 5, 1
            ld_pseudo r4, 6, {(4L << 32) | 0}
            r5 = 7 ll
            exit
            """);
        var used = MapReferences.Resolve(program, k.Maps, [array.Fd, hash.Fd]);
        Assert.That(used, Is.EqualTo(new BpfMap[] { hash, array }));
        Assert.That(Imm64(program, 0), Is.EqualTo(hash.Pointer));
        Assert.That(Imm64(program, 2), Is.EqualTo(array.ValuesAddress + 12));
        Assert.That(Imm64(program, 4), Is.EqualTo(hash.Pointer));
        Assert.That(Imm64(program, 6), Is.EqualTo(array.ValuesAddress + 4));
        Assert.That(Imm64(program, 8), Is.EqualTo(7));
        Assert.That(program.Where(i => i.IsLdImm64).Select(i => i.Src), Is.All.Zero);
    }

    [TestCase("ld_pseudo r1, 1, 99", "insn 0: fd 99 is not pointing to valid bpf_map")]
    [TestCase("ld_pseudo r1, 5, 3", "insn 0: map index 3 is out of range of fd_array (1 entries)")]
    [TestCase("r0 = 0\nld_pseudo r1, 2, 3", "insn 1: direct value access on Hash map 'm' is not supported (array with max_entries 1 only)")]
    [TestCase("ld_pseudo r1, 2, 0x1000000004", "insn 0: invalid access to map value pointer, value_size=16 off=16")]
    public void Bad_references_name_the_instruction_and_linuxs_reason(string asm, string message)
    {
        using var k = new MapTestKernel();
        var hash = k.Create(BpfMapType.Hash, 4, 4, 4);
        var array = k.Create(BpfMapType.Array, 4, 16, 1);
        Assert.That((hash.Fd, array.Fd), Is.EqualTo((3, 4)));
        var program = LlvmAssembler.Assemble(asm + "\nexit");
        var e = Assert.Throws<MapReferenceException>(() => MapReferences.Resolve(program, k.Maps, [3]));
        Assert.That(e!.Message, Is.EqualTo(message));
    }

    [Test]
    public void The_verifier_view_lets_the_verifier_accept_a_map_lookup()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Hash, 4, 8, 16, "counts");
        var program = LlvmAssembler.Assemble($"""
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            ld_pseudo r1, 1, {map.Fd}
            call 1
            if r0 == 0 goto +2
            r0 = *(u64 *)(r0 + 0)
            exit
            r0 = 0
            exit
            """);
        var (maps, fds) = MapReferences.VerifierView(program, k.Maps);
        var result = Kernel.Sim.Bpf.Verifier.Verifier.Verify(program, new VerifierOptions { Maps = maps, MapFds = fds, MemSize = 8 });
        Assert.That(result.Accepted, Is.True, result.Log + result.Error);
    }
}
