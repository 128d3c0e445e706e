using Kernel.Sim.Bpf.Maps;
using static Kernel.Sim.Bpf.Maps.BpfUpdateFlags;
using static Kernel.Sim.Tests.Bpf.Maps.MapTestKernel;

namespace Kernel.Sim.Tests.Bpf.Maps;

public sealed class ArrayMapTests
{
    [Test]
    public void Values_start_zeroed_and_round_trip()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Array, 4, 8, 4);
        var value = new byte[8];
        Assert.That(map.LookupElem(U32(3), value), Is.Zero);
        Assert.That(value, Is.All.Zero);
        Assert.That(map.UpdateElem(U32(3), U64(0x1122334455667788)), Is.Zero);
        Assert.That(map.UpdateElem(U32(3), U64(0x99), BPF_EXIST), Is.Zero);
        map.LookupElem(U32(3), value);
        Assert.That(BitConverter.ToUInt64(value), Is.EqualTo(0x99));
    }

    [TestCase(BPF_NOEXIST, 0u, -BpfErrno.EEXIST)]
    [TestCase(BPF_ANY, 4u, -BpfErrno.E2BIG)]
    [TestCase(BPF_NOEXIST, 4u, -BpfErrno.E2BIG)]
    [TestCase(3ul, 0u, -BpfErrno.EINVAL)]
    [TestCase(8ul, 0u, -BpfErrno.EINVAL)]
    [TestCase(BPF_F_LOCK, 0u, -BpfErrno.EINVAL)]
    public void Update_errors_are_linuxs(ulong flags, uint index, int expected)
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Array, 4, 4, 4);
        Assert.That(map.UpdateElem(U32(index), U32(1), flags), Is.EqualTo(expected));
    }

    [Test]
    public void Elements_cannot_be_deleted_and_lookups_past_the_end_fail()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Array, 4, 4, 4);
        Assert.That(map.DeleteElem(U32(0)), Is.EqualTo(-BpfErrno.EINVAL));
        Assert.That(map.LookupElem(U32(4), new byte[4]), Is.EqualTo(-BpfErrno.ENOENT));
    }

    [Test]
    public void Get_next_key_walks_every_index_then_enoent_and_restarts_past_the_end()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Array, 4, 4, 3);
        Assert.That(map.Keys().Select(key => BitConverter.ToUInt32(key)), Is.EqualTo(new uint[] { 0, 1, 2 }));
        var next = new byte[4];
        Assert.That(map.GetNextKey(U32(2), next), Is.EqualTo(-BpfErrno.ENOENT));
        Assert.That(map.GetNextKey(U32(77), next), Is.Zero);
        Assert.That(BitConverter.ToUInt32(next), Is.Zero);
    }

    [Test]
    public unsafe void Values_are_8_byte_strided_native_memory()
    {
        using var k = new MapTestKernel();
        var map = (ArrayMap)k.Create(BpfMapType.Array, 4, 5, 3);
        Assert.That(map.ElementSize, Is.EqualTo(8));
        uint i0 = 0, i2 = 2;
        var p0 = (ulong)map.Lookup((byte*)&i0, 0);
        var p2 = (ulong)map.Lookup((byte*)&i2, 0);
        Assert.That(p0, Is.EqualTo(map.ValuesAddress));
        Assert.That(p2 - p0, Is.EqualTo(16));
        Assert.That(k.Bpf.Regions.Allows(p2, 5, write: true), Is.True);
    }

    [TestCase(8, 4, 1)]
    [TestCase(4, 0, 1)]
    [TestCase(4, 4, 0)]
    public void Bad_definitions_are_refused_with_einval(int keySize, int valueSize, int maxEntries)
    {
        using var k = new MapTestKernel();
        var e = Assert.Throws<MapCreateException>(() => k.Create(BpfMapType.Array, keySize, valueSize, maxEntries));
        Assert.That(e!.Errno, Is.EqualTo(-BpfErrno.EINVAL));
    }

    [Test]
    public unsafe void Percpu_array_keeps_one_value_per_cpu()
    {
        using var k = new MapTestKernel(cpus: 3);
        var map = k.Create(BpfMapType.PercpuArray, 4, 4, 2);
        Assert.That(map.UserValueSize, Is.EqualTo(24));
        uint key = 1, value = 7;
        Assert.That(map.Update((byte*)&key, (byte*)&value, BPF_ANY, cpu: 2), Is.Zero);
        var all = new byte[24];
        map.LookupElem(U32(1), all);
        Assert.That(new[] { BitConverter.ToUInt32(all, 0), BitConverter.ToUInt32(all, 8), BitConverter.ToUInt32(all, 16) }, Is.EqualTo(new uint[] { 0, 0, 7 }));
        var fromUser = new byte[24];
        fromUser[0] = 1;
        fromUser[8] = 2;
        fromUser[16] = 3;
        Assert.That(map.UpdateElem(U32(0), fromUser), Is.Zero);
        uint zero = 0;
        Assert.That(*(uint*)map.Lookup((byte*)&zero, 1), Is.EqualTo(2));
        Assert.That(map.Lookup((byte*)&zero, 3) == null, Is.True, "a CPU the map was not created for has no value");
    }

    [Test]
    public void Concurrent_atomic_adds_into_one_value_are_exact()
    {
        using var k = new MapTestKernel(cpus: 4);
        var map = k.Create(BpfMapType.Array, 4, 8, 1, "counter");
        const int Iterations = 20_000;
        var programs = Enumerable.Range(0, 4).Select(cpu => k.Load($"""
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
            """, context: k.Bpf.CreateHelperContext(cpu))).ToArray();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, cpu =>
        {
            for (var i = 0; i < Iterations; i++)
                Run(programs[cpu]);
        });
        var value = new byte[8];
        map.LookupElem(U32(0), value);
        Assert.That(BitConverter.ToUInt64(value), Is.EqualTo(4UL * Iterations));
    }
}
