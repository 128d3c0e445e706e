using Kernel.Sim.Bpf.Maps;
using static Kernel.Sim.Bpf.Maps.BpfUpdateFlags;
using static Kernel.Sim.Tests.Bpf.Maps.MapTestKernel;

namespace Kernel.Sim.Tests.Bpf.Maps;

public sealed class HashMapTests
{
    [Test]
    public void Insert_lookup_replace_delete()
    {
        using var k = new MapTestKernel();
        var map = (HashMap)k.Create(BpfMapType.Hash, 8, 8, 16);
        var value = new byte[8];
        Assert.That(map.LookupElem(U64(5), value), Is.EqualTo(-BpfErrno.ENOENT));
        Assert.That(map.UpdateElem(U64(5), U64(50)), Is.Zero);
        Assert.That(map.UpdateElem(U64(5), U64(51), BPF_EXIST), Is.Zero);
        Assert.That(map.LookupElem(U64(5), value), Is.Zero);
        Assert.That(BitConverter.ToUInt64(value), Is.EqualTo(51));
        Assert.That(map.Count, Is.EqualTo(1));
        Assert.That(map.DeleteElem(U64(5)), Is.Zero);
        Assert.That(map.DeleteElem(U64(5)), Is.EqualTo(-BpfErrno.ENOENT));
        Assert.That(map.Count, Is.Zero);
    }

    [Test]
    public void Flags_give_eexist_enoent_and_einval()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Hash, 4, 4, 4);
        Assert.That(map.UpdateElem(U32(1), U32(1), BPF_EXIST), Is.EqualTo(-BpfErrno.ENOENT));
        Assert.That(map.UpdateElem(U32(1), U32(1), BPF_NOEXIST), Is.Zero);
        Assert.That(map.UpdateElem(U32(1), U32(2), BPF_NOEXIST), Is.EqualTo(-BpfErrno.EEXIST));
        Assert.That(map.UpdateElem(U32(1), U32(2), 3), Is.EqualTo(-BpfErrno.EINVAL));
        Assert.That(map.UpdateElem(U32(1), U32(2), BPF_F_LOCK), Is.EqualTo(-BpfErrno.EINVAL));
    }

    [Test]
    public void A_full_hash_refuses_new_keys_with_e2big_but_replaces_existing_ones()
    {
        using var k = new MapTestKernel(cpus: 2);
        var map = k.Create(BpfMapType.Hash, 4, 4, 3);
        for (uint i = 0; i < 3; i++)
            Assert.That(map.UpdateElem(U32(i), U32(i)), Is.Zero);
        Assert.That(map.UpdateElem(U32(9), U32(9)), Is.EqualTo(-BpfErrno.E2BIG));
        // Replacing takes a spare element first and frees the old one: never E2BIG, however often.
        for (var round = 0; round < 20; round++)
            Assert.That(map.UpdateElem(U32(1), U32((uint)round)), Is.Zero);
        Assert.That(map.DeleteElem(U32(0)), Is.Zero);
        Assert.That(map.UpdateElem(U32(9), U32(9)), Is.Zero);
    }

    [Test]
    public void Get_next_key_visits_every_key_once_and_an_unknown_key_restarts()
    {
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Hash, 13, 4, 64);
        var keys = Enumerable.Range(0, 40).Select(i => Enumerable.Range(0, 13).Select(j => (byte)(i * 7 + j)).ToArray()).ToList();
        foreach (var key in keys)
            Assert.That(map.UpdateElem(key, U32(1)), Is.Zero);
        var seen = map.Keys().Select(Convert.ToHexString).ToList();
        Assert.That(seen, Is.EquivalentTo(keys.Select(Convert.ToHexString)));
        var first = new byte[13];
        var again = new byte[13];
        Assert.That(map.GetNextKey([], first), Is.Zero);
        Assert.That(map.GetNextKey(new byte[13] { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee }, again), Is.Zero);
        Assert.That(again, Is.EqualTo(first));
    }

    [Test]
    public unsafe void Percpu_hash_sets_the_current_cpus_copy_and_zeroes_the_others_of_a_new_key()
    {
        using var k = new MapTestKernel(cpus: 3);
        var map = k.Create(BpfMapType.PercpuHash, 4, 4, 8);
        uint key = 42, v7 = 7, v9 = 9;
        Assert.That(map.Update((byte*)&key, (byte*)&v7, BPF_ANY, cpu: 1), Is.Zero);
        var before = map.Lookup((byte*)&key, 1);
        Assert.That(map.Update((byte*)&key, (byte*)&v9, BPF_EXIST, cpu: 2), Is.Zero);
        Assert.That(map.Lookup((byte*)&key, 1) == before, Is.True, "an existing per-CPU element is updated in place");
        var all = new byte[24];
        Assert.That(map.LookupElem(U32(42), all), Is.Zero);
        Assert.That(new[] { BitConverter.ToUInt32(all, 0), BitConverter.ToUInt32(all, 8), BitConverter.ToUInt32(all, 16) }, Is.EqualTo(new uint[] { 0, 7, 9 }));
    }

    [Test]
    public unsafe void Lru_evicts_the_least_recently_used_unreferenced_key()
    {
        using var k = new MapTestKernel();
        var map = (HashMap)k.Create(BpfMapType.LruHash, 4, 4, 4);
        for (uint i = 1; i <= 4; i++)
            Assert.That(map.UpdateElem(U32(i), U32(i)), Is.Zero);
        uint one = 1;
        Assert.That(map.Lookup((byte*)&one, 0) != null, Is.True); // sets key 1's reference bit
        Assert.That(map.UpdateElem(U32(5), U32(5)), Is.Zero);
        var keys = map.Keys().Select(key => BitConverter.ToUInt32(key)).Order();
        Assert.That(keys, Is.EqualTo(new uint[] { 1, 3, 4, 5 }));
        Assert.That(map.Evictions, Is.EqualTo(1));
    }

    [Test]
    public void Lru_never_reports_full_and_keeps_max_entries()
    {
        using var k = new MapTestKernel();
        var map = (HashMap)k.Create(BpfMapType.LruHash, 4, 4, 8);
        for (uint i = 0; i < 100; i++)
            Assert.That(map.UpdateElem(U32(i), U32(i)), Is.Zero);
        Assert.That(map.Count, Is.EqualTo(8));
        Assert.That(map.Keys().Count(), Is.EqualTo(8));
        Assert.That(map.Keys().Select(key => BitConverter.ToUInt32(key)), Is.All.GreaterThanOrEqualTo(92u), "the newest keys survive");
        // As htab_lru_map_update_elem: the new element is taken (evicting one) before the flags are checked, so a
        // refused BPF_NOEXIST update of a full LRU map still costs an entry.
        Assert.That(map.UpdateElem(U32(99), U32(0), BPF_NOEXIST), Is.EqualTo(-BpfErrno.EEXIST));
        Assert.That(map.Count, Is.EqualTo(7));
        Assert.That(map.LookupElem(U32(99), new byte[4]), Is.Zero);
    }

    [Test]
    public void Concurrent_writers_and_readers_never_see_a_torn_or_foreign_value()
    {
        using var k = new MapTestKernel(cpus: 4);
        var map = (HashMap)k.Create(BpfMapType.Hash, 8, 16, 1024);
        const int Threads = 4, Keys = 200, Rounds = 30;
        var failures = 0;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            var value = new byte[16];
            for (var round = 0; round < Rounds; round++)
            {
                for (ulong i = 0; i < Keys; i++)
                {
                    var key = ((ulong)t << 32) | i;
                    // Both halves hold key + round: a reader seeing different halves saw a torn update.
                    var v = key + (ulong)round;
                    BitConverter.TryWriteBytes(value.AsSpan(0, 8), v);
                    BitConverter.TryWriteBytes(value.AsSpan(8, 8), v);
                    if (map.UpdateElem(U64(key), value) != 0)
                        Interlocked.Increment(ref failures);
                    // Everybody reads a shared hot set too.
                    var other = ((ulong)((t + 1) % Threads) << 32) | (i % 16);
                    if (map.LookupElem(U64(other), value) == 0 &&
                        (BitConverter.ToUInt64(value, 0) != BitConverter.ToUInt64(value, 8) || BitConverter.ToUInt64(value, 0) - other >= Rounds))
                        Interlocked.Increment(ref failures);
                    if (round % 2 == 1 && i % 3 == 0)
                        map.DeleteElem(U64(key));
                }
            }
        });
        Assert.That(failures, Is.Zero);
        var expected = Enumerable.Range(0, Threads).SelectMany(t => Enumerable.Range(0, Keys).Where(i => i % 3 != 0).Select(i => ((ulong)t << 32) | (uint)i));
        Assert.That(map.Keys().Select(key => BitConverter.ToUInt64(key)), Is.EquivalentTo(expected));
        Assert.That(map.Count, Is.EqualTo(Threads * (Keys - ((Keys + 2) / 3))));
        var last = new byte[16];
        map.LookupElem(U64(1), last);
        Assert.That(BitConverter.ToUInt64(last, 0), Is.EqualTo(1UL + Rounds - 1));
    }
}
