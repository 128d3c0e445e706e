using Kernel.Sim.Bpf;
using Kernel.Sim.Bpf.Maps;
using static Kernel.Sim.Tests.Bpf.Maps.MapTestKernel;

namespace Kernel.Sim.Tests.Bpf.Maps;

public sealed class BpfMapRegistryTests
{
    [Test]
    public void Fds_start_at_3_and_pointers_map_back_to_their_map()
    {
        using var k = new MapTestKernel();
        var a = k.Create(BpfMapType.Array, 4, 4, 1, "a");
        var h = k.Create(BpfMapType.Hash, 4, 4, 1, "h");
        Assert.That((a.Fd, h.Fd), Is.EqualTo((3, 4)));
        Assert.That(k.Maps.Map(4), Is.SameAs(h));
        Assert.That(k.Maps.FromPointer(a.Pointer), Is.SameAs(a));
        Assert.That(k.Maps.FromPointer(h.Pointer), Is.SameAs(h));
        Assert.That(k.Maps.FromPointer(a.Pointer + 8), Is.Null);
        Assert.That(k.Maps.FromPointer(0), Is.Null);
        Assert.That(k.Maps.FromPointer(h.Pointer + BpfMapRegistry.SlotSize), Is.Null, "an unused slot");
    }

    [Test]
    public void Closing_a_map_unregisters_its_regions_and_its_pointer()
    {
        using var k = new MapTestKernel();
        var a = (ArrayMap)k.Create(BpfMapType.Array, 4, 4, 4);
        Assert.That(k.Bpf.Regions.Allows(a.ValuesAddress, 16, write: true), Is.True);
        Assert.That(k.Maps.Close(a.Fd), Is.True);
        Assert.That(k.Bpf.Regions.Allows(a.ValuesAddress, 4, write: false), Is.False);
        Assert.That(k.Maps.FromPointer(a.Pointer), Is.Null);
        Assert.That(a.IsDisposed, Is.True);
        Assert.That(k.Maps.Close(a.Fd), Is.False);
    }

    [Test]
    public void Two_subsystems_never_share_a_map()
    {
        using var one = new BpfSubsystem();
        using var two = new BpfSubsystem();
        var m1 = one.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 4, 1));
        var m2 = two.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 4, 1));
        Assert.That(m1.Fd, Is.EqualTo(m2.Fd));
        m1.UpdateElem(U32(0), U32(5));
        var value = new byte[4];
        m2.LookupElem(U32(0), value);
        Assert.That(BitConverter.ToUInt32(value), Is.Zero);
        Assert.That(two.Maps.FromPointer(m1.Pointer), Is.Null);
    }

    [Test]
    public void Unsupported_map_types_are_refused_by_name()
    {
        using var k = new MapTestKernel();
        var e = Assert.Throws<MapCreateException>(() => k.Create(BpfMapType.LpmTrie, 8, 4, 4, "trie"));
        Assert.That(e!.Message, Does.Contain("map 'trie': map type LpmTrie is not supported"));
    }

    [Test]
    public void Dump_has_bpftools_json_shape()
    {
        using var k = new MapTestKernel();
        var a = k.Create(BpfMapType.Array, 4, 2, 2);
        a.UpdateElem(U32(1), [0xab, 0x01]);
        Assert.That(MapDump.ToJson(a), Is.EqualTo(
            """[{"key":["0x00","0x00","0x00","0x00"],"value":["0x00","0x00"]},{"key":["0x01","0x00","0x00","0x00"],"value":["0xab","0x01"]}]"""));
    }

    [Test]
    public void Dump_of_a_percpu_map_lists_values_per_cpu()
    {
        using var k = new MapTestKernel(cpus: 2);
        var a = k.Create(BpfMapType.PercpuArray, 4, 1, 1);
        a.UpdateElem(U32(0), [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
        Assert.That(MapDump.ToJson(a), Is.EqualTo(
            """[{"key":["0x00","0x00","0x00","0x00"],"values":[{"cpu":0,"value":["0x01"]},{"cpu":1,"value":["0x02"]}]}]"""));
    }

    [Test]
    public void Dump_of_an_empty_hash_is_an_empty_array()
    {
        using var k = new MapTestKernel();
        Assert.That(MapDump.ToJson(k.Create(BpfMapType.Hash, 4, 4, 4)), Is.EqualTo("[]"));
    }
}
