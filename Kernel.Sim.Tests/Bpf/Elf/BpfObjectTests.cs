using System.Buffers.Binary;
using System.Text;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.ProgramTypes;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Bpf.Elf;

public sealed class BpfObjectTests
{
    private static IEnumerable<ElfFixtures.Expected> Fixtures() => ElfFixtures.All();

    [Test]
    public void EveryCommittedObjectIsListedInExpected()
    {
        var listed = ElfFixtures.All().Select(e => e.File).Order(StringComparer.Ordinal);
        var present = Directory.GetFiles(ElfFixtures.Dir, "*.o").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.That(listed, Is.EqualTo(present));
        Assert.That(present.Count(), Is.GreaterThanOrEqualTo(15));
    }

    [TestCaseSource(nameof(Fixtures))]
    public void LoadsWithTheExpectedProgramsAndMaps(ElfFixtures.Expected expected)
    {
        var obj = ElfFixtures.Load(expected.File);

        Assert.That(obj.Programs.Select(p => (p.Name, p.Section, p.TypeName)),
            Is.EquivalentTo(expected.Programs.Select(p => (p.Name, p.Section, p.Type))));
        Assert.That(obj.Maps.Select(m => (m.Name, m.TypeName, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)),
            Is.EquivalentTo(expected.Maps.Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags))));
        foreach (var e in expected.Programs.Where(p => p.Subprograms.Length > 0))
            Assert.That(obj.Programs.Single(p => p.Name == e.Name).Subprograms.Select(s => s.Name), Is.EquivalentTo(e.Subprograms), e.Name);
        Assert.That(obj.License, Does.Contain("GPL"));
    }

    [TestCaseSource(nameof(Fixtures))]
    public void MapReferencesAreKernelFormLddwWithTheMapIndex(ElfFixtures.Expected expected)
    {
        var obj = ElfFixtures.Load(expected.File);
        foreach (var p in obj.Programs)
        {
            var refs = p.MapReferences.ToDictionary(r => r.InsnIndex);
            for (var i = 0; i < p.Instructions.Count; i++)
            {
                var insn = p.Instructions[i];
                if (!insn.IsLdImm64)
                    continue;
                if (insn.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE)
                {
                    Assert.That(refs.ContainsKey(i), $"{p.Name} insn {i}");
                    Assert.That(insn.Imm, Is.EqualTo(refs[i].MapIndex));
                    Assert.That(insn.Src == BPF_PSEUDO_MAP_VALUE, Is.EqualTo(refs[i].Kind == MapReferenceKind.Value));
                    if (insn.Src == BPF_PSEUDO_MAP_VALUE)
                        Assert.That(p.Instructions[i + 1].Imm, Is.EqualTo(refs[i].Offset).And.LessThan(obj.Maps[insn.Imm].ValueSize));
                }

                i++;
            }

            Assert.That(p.MapReferences.All(r => p.Instructions[r.InsnIndex].IsLdImm64), p.Name);
        }
    }

    [TestCaseSource(nameof(Fixtures))]
    public void EveryPseudoCallLandsOnAFunctionStart(ElfFixtures.Expected expected)
    {
        var obj = ElfFixtures.Load(expected.File);
        foreach (var p in obj.Programs)
        {
            var starts = p.Subprograms.Select(s => s.Start).Append(0).ToHashSet();
            for (var i = 0; i < p.Instructions.Count; i++)
            {
                var insn = p.Instructions[i];
                if (insn.Opcode == (BPF_JMP | BPF_CALL) && insn.Src == BPF_PSEUDO_CALL)
                    Assert.That(starts, Does.Contain(i + insn.Imm + 1), $"{p.Name}: call at {i}");
            }
        }
    }

    [TestCaseSource(nameof(Fixtures))]
    public void ProgramsOfSimulatedTypesPassTheVerifier(ElfFixtures.Expected expected)
    {
        var obj = ElfFixtures.Load(expected.File);
        var types = ProgramTypeRegistry.CreateDefault();
        foreach (var p in obj.Programs)
        {
            var v = BpfObjectVerifier.Verify(obj, p, types);
            if (v.Result is null)
                Assert.That(v.NotVerifiedReason, Does.Contain(p.TypeName == "unspec" ? "missing BPF prog type" : "not simulated"));
            else
                Assert.That(v.Result.Accepted, Is.True, $"{p.Name}: {v.Result.Error}");
        }
    }

    [Test]
    public void SubprogramsAreAppendedOncePerProgramAndCallsRelocated()
    {
        var obj = ElfFixtures.Load("subprog.o");
        var socket = obj.Programs.Single(p => p.Name == "sub_socket");
        var tp = obj.Programs.Single(p => p.Name == "sub_tp");
        Assert.That(socket.Subprograms.Select(s => s.Name), Is.EqualTo(new[] { "sum_squares", "square" }));
        Assert.That(tp.Subprograms.Select(s => s.Name), Is.EqualTo(new[] { "square", "global_add" }));

        // The appended copy of square is .text's square unchanged (it makes no calls).
        var elf = ElfFile.Parse(ElfFixtures.Bytes("subprog.o"));
        var text = Instruction.ReadAll(elf.Contents(elf.Find(".text")!));
        var sym = elf.Symbols.Single(x => x.Name == "square");
        var body = text.AsSpan((int)(sym.Value / 8), (int)(sym.Size / 8)).ToArray();
        var start = socket.Subprograms.Single(x => x.Name == "square").Start;
        Assert.That(socket.Instructions.Skip(start).Take(body.Length), Is.EqualTo(body));
        Assert.That(socket.Instructions, Has.Count.EqualTo(start + body.Length));
    }

    [Test]
    public void StaticProgArrayInitialisationFollowsRelMaps()
    {
        var jt = ElfFixtures.Load("tail_call.o").Maps.Single(m => m.Name == "jump_table");
        Assert.That(jt.InitialPrograms, Is.EquivalentTo(new Dictionary<int, string> { [0] = "callee_a", [2] = "callee_b" }));
    }

    [Test]
    public void GlobalDataMapsHoldTheSectionBytesAndVariables()
    {
        var obj = ElfFixtures.Load("global_data.o");
        var ro = obj.Maps.Single(m => m.Section == ".rodata");
        var mult = ro.Variables.Single(v => v.Name == "multiplier");
        var off = ro.Variables.Single(v => v.Name == "offset_rodata");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(ro.InitialValue.AsSpan((int)mult.Offset)), Is.EqualTo(3));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(ro.InitialValue.AsSpan((int)off.Offset)), Is.EqualTo(1000));
        var data = obj.Maps.Single(m => m.Section == ".data");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(data.InitialValue), Is.EqualTo(5));
        var bss = obj.Maps.Single(m => m.Section == ".bss");
        Assert.That(bss.InitialValue, Is.All.EqualTo(0));
        Assert.That(bss.Variables.Select(v => v.Name), Is.EquivalentTo(new[] { "bss_calls", "bss_last" }));
        Assert.That(obj.Programs[0].MapReferences.Where(r => r.Kind == MapReferenceKind.Value).Select(r => r.MapIndex).Distinct().Count(), Is.EqualTo(3));
    }

    [Test]
    public void LegacyRecordsKeepTheirExtraFields()
    {
        var m28 = ElfFixtures.Load("legacy_maps28.o");
        Assert.That(m28.Maps[0].Extra.Keys, Is.EquivalentTo(new[] { "inner_map_idx", "numa_node" }));
        Assert.That(m28.KernelVersion, Is.EqualTo(0x060c00));
        var m36 = ElfFixtures.Load("legacy_maps36.o");
        Assert.That(m36.Maps[0].Extra["pinning"], Is.EqualTo(2));
        Assert.That(m36.Maps[0].Origin, Is.EqualTo(MapOrigin.Legacy));
    }

    [Test]
    public void WithoutFunctionSymbolsAProgramIsItsWholeSection()
    {
        var obj = ElfFixtures.Load("old_style.o");
        Assert.That(obj.Programs.Select(p => (p.Name, p.Instructions.Count)), Is.EquivalentTo(new[] { ("xdp", 2), ("socket", 2) }));
    }

    [Test]
    public void SectionNamesCarryAttachTargetsAndTypeCanBeForced()
    {
        var obj = ElfFixtures.Load("multi_prog.o");
        Assert.That(obj.Programs.Single(p => p.Name == "open_ret").AttachTarget, Is.EqualTo("do_sys_open"));
        Assert.That(obj.Programs.Single(p => p.Name == "fexit_ip_rcv").AttachType, Is.EqualTo("trace_fexit"));
        Assert.That(obj.Programs.Single(p => p.Name == "untyped").TypeUnknown, Is.True);
        var forced = ElfFixtures.Load("multi_prog.o", new BpfObjectOptions { ForcedType = "xdp" });
        Assert.That(forced.Programs.Select(p => p.TypeName).Distinct(), Is.EqualTo(new[] { "xdp" }));
        Assert.That(() => ElfFixtures.Load("multi_prog.o", new BpfObjectOptions { ForcedType = "nonsense" }),
            Throws.TypeOf<BpfObjectException>().With.Message.Contains("unknown program type 'nonsense'"));
    }

    [Test]
    public void LineInfoMapsInstructionsToSourceLines()
    {
        var p = ElfFixtures.Load("array_counter.o").Programs.Single();
        Assert.That(p.LineInfo, Is.Not.Empty);
        Assert.That(p.LineInfo.Select(l => l.FileName).Distinct(), Is.EqualTo(new[] { "./array_counter.c" }));
        Assert.That(p.LineFor(0)!.Value.Line, Does.Contain("BPF_KPROBE(count_ip_rcv"));
        Assert.That(p.LineInfo.Any(l => l.Line.Contains("__sync_fetch_and_add(v, 1)", StringComparison.Ordinal)));
        Assert.That(p.FuncInfo.Single().InsnIndex, Is.Zero);
    }

    [Test]
    public void LineInfoOfAppendedSubprogramsMovesWithThem()
    {
        var p = ElfFixtures.Load("subprog.o").Programs.Single(x => x.Name == "sub_socket");
        var square = p.Subprograms.Single(s => s.Name == "square").Start;
        Assert.That(p.LineFor(square)!.Value.Line, Does.Contain("square"));
        Assert.That(p.FuncInfo.Select(f => f.InsnIndex), Is.EquivalentTo(p.Subprograms.Select(s => s.Start).Append(0)));
    }

    [Test]
    public void RelaRelocationsLoadLikeRel()
    {
        var rel = ElfFixtures.Bytes("global_data.o");
        var rela = ElfTestImages.RelToRela(rel);
        var a = BpfObject.Load(rel, "global_data");
        var b = BpfObject.Load(rela, "global_data");
        Assert.That(b.Programs[0].Instructions, Is.EqualTo(a.Programs[0].Instructions));
        Assert.That(b.Programs[0].MapReferences, Is.EqualTo(a.Programs[0].MapReferences));
        Assert.That(Encoding.ASCII.GetString(rela).Contains(".rel", StringComparison.Ordinal), Is.True);
    }

    [Test]
    public void EachLddwNamesTheMapItsSymbolDefines()
    {
        var obj = ElfFixtures.Load("maps_mix.o");
        var refs = obj.Programs[0].MapReferences.Select(r => obj.Maps[r.MapIndex].Name);
        Assert.That(refs, Is.EqualTo(new[] { "third", "second" }));
        Assert.That(obj.Maps.Single(m => m.Name == "second").BtfValueTypeId, Is.EqualTo(obj.Btf!.Find("ethhdr", Kernel.Sim.Bpf.Elf.Btf.BtfKind.Struct)!.Id));
    }
}
