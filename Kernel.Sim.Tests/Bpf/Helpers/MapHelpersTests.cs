using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Tests.Bpf.Maps;
using static Kernel.Sim.Tests.Bpf.Maps.MapTestKernel;

namespace Kernel.Sim.Tests.Bpf.Helpers;

public sealed class MapHelpersTests
{
    // Counts runs per key (the input's first u32) in a hash: lookup, insert 1 when missing, else atomic add.
    private static string Counter(int fd) => $"""
        r6 = r1
        r1 = *(u32 *)(r6 + 0)
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        ld_pseudo r1, 1, {fd}
        call 1
        if r0 == 0 goto insert
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        r0 = *(u64 *)(r0 + 0)
        exit
        insert:
        r1 = 1
        *(u64 *)(r10 - 16) = r1
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 1
        ld_pseudo r1, 1, {fd}
        call 2
        exit
        """;

    [Test]
    public void A_program_counts_into_a_hash_through_lookup_and_update()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Hash, 4, 8, 16, "counts");
        var program = k.Load(Counter(map.Fd));
        Assert.That(Run(program, U64(7)), Is.Zero, "the first run inserts (update returns 0)");
        Assert.That(Run(program, U64(7)), Is.EqualTo(2));
        Assert.That(Run(program, U64(7)), Is.EqualTo(3));
        Assert.That(Run(program, U64(9)), Is.Zero);
        var value = new byte[8];
        map.LookupElem(U32(7), value);
        Assert.That(BitConverter.ToUInt64(value), Is.EqualTo(3));
        Assert.That(map.Keys().Count(), Is.EqualTo(2));
    }

    [Test]
    public void Update_and_delete_return_linuxs_errors_to_the_program()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Hash, 4, 4, 1);
        map.UpdateElem(U32(1), U32(1));
        // update(key 2, BPF_ANY) on a full map, then delete(key 3): r0 = update << 32 | (u32)delete.
        var program = k.Load($"""
            r1 = 2
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            r3 = r10
            r3 += -4
            r4 = 0
            ld_pseudo r1, 1, {map.Fd}
            call 2
            r6 = r0
            r1 = 3
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            ld_pseudo r1, 1, {map.Fd}
            call 3
            r6 <<= 32
            r0 <<= 32
            r0 >>= 32
            r0 |= r6
            exit
            """);
        var r0 = Run(program);
        Assert.That((int)(r0 >> 32), Is.EqualTo(-BpfErrno.E2BIG));
        Assert.That((int)(uint)r0, Is.EqualTo(-BpfErrno.ENOENT));
    }

    [Test]
    public void A_program_writes_through_a_direct_value_pointer()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Array, 4, 16, 1, ".bss");
        var program = k.Load($"""
            ld_pseudo r1, 2, {(8L << 32) | (uint)map.Fd}
            r2 = 0x5a
            *(u64 *)(r1 + 0) = r2
            r0 = *(u64 *)(r1 + 0)
            exit
            """);
        Assert.That(Run(program), Is.EqualTo(0x5a));
        var value = new byte[16];
        map.LookupElem(U32(0), value);
        Assert.That(BitConverter.ToUInt64(value, 8), Is.EqualTo(0x5a));
    }

    [Test]
    public void Percpu_lookups_follow_the_contexts_cpu()
    {
        using var k = new MapTestKernel(cpus: 2);
        var map = k.Create(BpfMapType.PercpuArray, 4, 8, 1);
        var asm = $"""
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            ld_pseudo r1, 1, {map.Fd}
            call 1
            if r0 == 0 goto +3
            r1 = 1
            lock *(u64 *)(r0 + 0) += r1
            r0 = 0
            exit
            """;
        var cpu0 = k.Load(asm, context: k.Bpf.CreateHelperContext(0));
        var cpu1 = k.Load(asm, context: k.Bpf.CreateHelperContext(1));
        Run(cpu0);
        Run(cpu1);
        Run(cpu1);
        var all = new byte[16];
        map.LookupElem(U32(0), all);
        Assert.That((BitConverter.ToUInt64(all, 0), BitConverter.ToUInt64(all, 8)), Is.EqualTo((1UL, 2UL)));
    }

    [Test]
    public void A_value_pointer_past_the_value_is_an_out_of_bounds_access_not_a_host_fault()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Array, 4, 8, 1);
        var program = k.Load($"""
            ld_pseudo r1, 2, {map.Fd}
            r0 = *(u64 *)(r1 + 8)
            exit
            """);
        var result = program.Run(new byte[8]);
        Assert.That(result.Error, Is.EqualTo(BpfRunError.OutOfBounds));
    }

    [Test]
    public void Map_helpers_refuse_a_made_up_map_pointer_or_key()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Hash, 4, 4, 4);
        // lookup with a non-map pointer gives NULL; update with an unreadable key gives -EFAULT.
        var program = k.Load($"""
            r1 = r10
            r2 = r10
            r2 += -4
            call 1
            r6 = r0
            ld_pseudo r1, 1, {map.Fd}
            r2 = 0x1000
            r3 = r10
            r3 += -8
            r4 = 0
            call 2
            r0 += r6
            exit
            """);
        Assert.That((long)Run(program), Is.EqualTo(-BpfErrno.EFAULT));
    }
}
