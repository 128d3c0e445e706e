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
    public void A_map_a_loaded_program_uses_outlives_its_fd_until_the_registry_goes()
    {
        using var k = new MapTestKernel();
        var a = (ArrayMap)k.Create(BpfMapType.Array, 4, 8, 1, "counts");
        // lookup(counts, 0); *value += 1; return *value — the JIT inlines the array lookup as value addresses.
        var program = k.Bpf.LoadJit(Kernel.Sim.Bpf.Asm.LlvmAssembler.Assemble($"""
            *(u32 *)(r10 - 4) = 0
            r2 = r10
            r2 += -4
            ld_pseudo r1, 1, {a.Fd}
            call 1
            if r0 == 0 goto +4
            r1 = *(u64 *)(r0 + 0)
            r1 += 1
            *(u64 *)(r0 + 0) = r1
            r0 = r1
            exit
            """), new Kernel.Sim.Bpf.ProgramTypes.RawProgramType());
        Assert.That(a.ProgramReferences, Is.EqualTo(1));
        Assert.That(program.Run(new byte[8]).R0, Is.EqualTo(1));
        Assert.That(k.Maps.Close(a.Fd), Is.True);
        Assert.That(k.Maps.Map(a.Fd), Is.Null, "the fd is gone");
        Assert.That(a.IsDisposed, Is.False, "the program still holds the map");
        Assert.That(program.Run(new byte[8]).R0, Is.EqualTo(2), "and still uses it");
        Assert.That(k.Bpf.Regions.Allows(a.ValuesAddress, 8, write: true), Is.True);
        k.Bpf.Dispose();
        Assert.That(a.IsDisposed, Is.True, "freed with the registry");
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

    [Test]
    public void A_rodata_style_map_is_read_only_for_programs_and_frozen_for_user_space()
    {
        using var k = new MapTestKernel();
        var rodata = (ArrayMap)k.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 8, 1, ".rodata"), BpfMapFlags.RdonlyProg | BpfMapFlags.Mmapable);
        Assert.That(rodata.UpdateElem(U32(0), U64(0x77)), Is.Zero);
        rodata.Freeze();
        Assert.That(rodata.UpdateElem(U32(0), U64(1)), Is.EqualTo(-BpfErrno.EPERM));
        Assert.That(k.Bpf.Regions.Allows(rodata.ValuesAddress, 8, write: false), Is.True);
        Assert.That(k.Bpf.Regions.Allows(rodata.ValuesAddress, 8, write: true), Is.False);
        var reader = k.Load($"ld_pseudo r1, 2, {rodata.Fd}\nr0 = *(u64 *)(r1 + 0)\nexit");
        Assert.That(Run(reader), Is.EqualTo(0x77));
        var writer = k.Load($"ld_pseudo r1, 2, {rodata.Fd}\n*(u64 *)(r1 + 0) = 1\nr0 = 0\nexit");
        Assert.That(writer.Run(new byte[8]).Error, Is.EqualTo(Kernel.Sim.Bpf.Interpreter.BpfRunError.OutOfBounds));
        var updater = k.Load($"""
            r1 = 0
            *(u32 *)(r10 - 4) = r1
            *(u64 *)(r10 - 16) = r1
            r2 = r10
            r2 += -4
            r3 = r10
            r3 += -16
            r4 = 0
            ld_pseudo r1, 1, {rodata.Fd}
            call 2
            exit
            """);
        Assert.That((long)Run(updater), Is.EqualTo(-BpfErrno.EPERM));
    }

    [TestCase(BpfMapType.Hash, BpfMapFlags.Mmapable, "BPF_F_MMAPABLE is for array maps only")]
    [TestCase(BpfMapType.Array, BpfMapFlags.NoPrealloc, "BPF_F_NO_PREALLOC is not allowed for Array maps")]
    [TestCase(BpfMapType.Array, BpfMapFlags.RdonlyProg | BpfMapFlags.WronlyProg, "read-only and write-only together")]
    [TestCase(BpfMapType.Hash, (BpfMapFlags)(1u << 20), "unknown map_flags 0x100000")]
    public void Bad_map_flags_are_einval_with_the_reason(BpfMapType type, BpfMapFlags flags, string reason)
    {
        using var k = new MapTestKernel();
        var e = Assert.Throws<MapCreateException>(() => k.Maps.Create(new MapDefinition(type, 4, 4, 1, "x"), flags));
        Assert.That(e!.Errno, Is.EqualTo(-BpfErrno.EINVAL));
        Assert.That(e.Message, Does.Contain("map 'x': " + reason));
    }

    [Test]
    public void The_fd_api_reaches_the_map_and_answers_ebadf_for_anything_else()
    {
        using var k = new MapTestKernel();
        var h = k.Create(BpfMapType.Hash, 4, 4, 4);
        var programFd = k.Bpf.ProgramFd(k.Load("r0 = 0\nexit"));
        Assert.That(k.Maps.UpdateElem(h.Fd, U32(1), U32(10), BpfUpdateFlags.BPF_NOEXIST), Is.Zero);
        var value = new byte[4];
        Assert.That(k.Maps.LookupElem(h.Fd, U32(1), value), Is.Zero);
        Assert.That(BitConverter.ToUInt32(value), Is.EqualTo(10));
        var next = new byte[4];
        Assert.That(k.Maps.GetNextKey(h.Fd, [], next), Is.Zero);
        Assert.That(next, Is.EqualTo(U32(1)));
        Assert.That(k.Maps.GetNextKey(h.Fd, next, next), Is.EqualTo(-BpfErrno.ENOENT));
        Assert.That(k.Maps.DeleteElem(h.Fd, U32(1)), Is.Zero);
        Assert.That(k.Maps.LookupElem(programFd, U32(1), value), Is.EqualTo(-BpfErrno.EBADF));
        Assert.That(k.Maps.UpdateElem(99, U32(1), value), Is.EqualTo(-BpfErrno.EBADF));
    }
}
