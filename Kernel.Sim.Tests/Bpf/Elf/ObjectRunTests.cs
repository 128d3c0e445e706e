using System.Buffers.Binary;
using System.Globalization;
using Kernel.Sim.Bench.Cli.Bpf;
using Kernel.Sim.Bpf;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Tests.Bpf.Elf;

/// <summary>Fixture programs loaded whole (maps, globals, prog arrays) and run on the interpreter, the JIT and the host kernel (Programs/runs.txt).</summary>
public sealed class ObjectRunTests
{
    public sealed record RunCase(string Object, string Program, string? Type, byte[] Ctx, byte[] Packet, ulong R0, (string Map, byte[] Key, byte[] Value)[] Maps, bool Host, string Line)
    {
        public override string ToString() => Line;
    }

    private static IEnumerable<RunCase> Cases()
    {
        foreach (var raw in File.ReadLines(Path.Combine(ElfFixtures.Dir, "runs.txt")))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string? type = null;
            byte[] ctx = [], packet = [];
            ulong r0 = 0;
            var maps = new List<(string, byte[], byte[])>();
            var host = false;
            foreach (var a in f.Skip(2))
            {
                if (a.StartsWith("type=", StringComparison.Ordinal))
                    type = a[5..];
                else if (a.StartsWith("ctx=", StringComparison.Ordinal))
                    ctx = Bytes(a[4..]);
                else if (a.StartsWith("packet=", StringComparison.Ordinal))
                    packet = Bytes(a[7..]);
                else if (a.StartsWith("r0=", StringComparison.Ordinal))
                    r0 = ulong.Parse(a[3..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                else if (a.StartsWith("map:", StringComparison.Ordinal))
                {
                    var p = a.Split(':');
                    var kv = p[2].Split('=');
                    maps.Add((p[1], Convert.FromHexString(kv[0]), Convert.FromHexString(kv[1])));
                }
                else if (a == "host")
                    host = true;

                else
                    throw new InvalidDataException("runs.txt: " + raw);
            }

            yield return new RunCase(f[0], f[1], type, ctx, packet, r0, [.. maps], host, line);
        }
    }

    private static byte[] Bytes(string spec)
    {
        if (spec.StartsWith("zeros:", StringComparison.Ordinal))
            return new byte[int.Parse(spec[6..], CultureInfo.InvariantCulture)];
        if (spec.StartsWith("pt_regs:di=", StringComparison.Ordinal))
        {
            var regs = new byte[KprobeProgramType.PtRegsSize];
            BinaryPrimitives.WriteUInt64LittleEndian(regs.AsSpan(112), ulong.Parse(spec[11..], CultureInfo.InvariantCulture));
            return regs;
        }

        if (spec.StartsWith("udp:", StringComparison.Ordinal) || spec == "tcp")
        {
            // Ethernet (IPv4) + 20-byte IPv4 header + UDP/TCP header.
            var udp = spec != "tcp";
            var p = new byte[14 + 20 + (udp ? 8 : 20)];
            p[12] = 0x08;
            p[14] = 0x45;
            p[14 + 9] = (byte)(udp ? 17 : 6);
            if (udp)
                BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(34 + 2), ushort.Parse(spec[4..], CultureInfo.InvariantCulture));
            return p;
        }

        return Convert.FromHexString(spec);
    }

    private static (BpfSubsystem Bpf, BpfObjectInstance Instance, LoadedBpfProgram Program) Load(RunCase c, bool jit = false)
    {
        var obj = ElfFixtures.Load(c.Object, new BpfObjectOptions { ForcedType = c.Type });
        var bpf = new BpfSubsystem();
        var instance = BpfObjectInstance.Load(obj, bpf, ProgramTypeRegistry.CreateDefault(), jit);
        var program = instance.Programs[c.Program];
        Assert.That(program.IsLoaded, Is.True, program.NotLoadedReason);
        Assert.That(program.Jitted is not null, Is.EqualTo(jit));
        return (bpf, instance, program);
    }

    private static void CheckMaps(RunCase c, BpfObjectInstance instance)
    {
        foreach (var (name, key, value) in c.Maps)
        {
            var map = instance.Maps.Single(m => m.Definition.Name == name);
            var got = new byte[map.UserValueSize];
            Assert.That(map.LookupElem(key, got), Is.Zero, $"{name}[{Convert.ToHexString(key)}]");
            Assert.That(Convert.ToHexString(got), Is.EqualTo(Convert.ToHexString(value)), $"{name}[{Convert.ToHexString(key)}]");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void RunsOnTheInterpreter(RunCase c)
    {
        var (bpf, instance, program) = Load(c);
        using (bpf)
        {
            using var ctx = instance.CreateContext(program.Spec.TypeName, c.Ctx, c.Packet);
            var result = program.Run(ctx.Memory);
            Assert.That(result.Succeeded, Is.True, result.Message);
            Assert.That(result.R0, Is.EqualTo(c.R0));
            CheckMaps(c, instance);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void RunsOnTheJit(RunCase c)
    {
        var (bpf, instance, program) = Load(c, jit: true);
        using (bpf)
        {
            using var ctx = instance.CreateContext(program.Spec.TypeName, c.Ctx, c.Packet);
            var result = program.Run(ctx.Memory);
            Assert.That(result.Succeeded, Is.True, result.Message);
            Assert.That(result.R0, Is.EqualTo(c.R0));
            CheckMaps(c, instance);
        }
    }

    private static IEnumerable<RunCase> HostCases() => Cases().Where(c => c.Host);

    [TestCaseSource(nameof(HostCases))]
    public void GivesTheSameR0OnTheHostKernel(RunCase c)
    {
        var obj = ElfFixtures.Load(c.Object, new BpfObjectOptions { ForcedType = c.Type });
        var run = HostBpf.RunObject(obj, obj.Programs.Single(p => p.Name == c.Program), c.Ctx, c.Packet, 1);
        if (!run.Ran)
            Assert.Inconclusive("the host kernel did not run the program: " + run.Note);
        Assert.That(run.R0, Is.EqualTo((uint)c.R0));
    }

    [Test]
    public void PrintkWritesTheTraceBufferAndRingbufKeepsTwoRecords()
    {
        var (bpf, instance, program) = Load(Cases().Single(c => c.Object == "printk.o"));
        using (bpf)
        {
            using var ctx = instance.CreateContext("kprobe", new byte[KprobeProgramType.PtRegsSize], []);
            program.Interpreter!.Run(ctx.Memory);
            Assert.That(((InMemoryTraceSink)bpf.HelperContext.TraceSink).Lines.Single(), Does.Contain("hello from pid").And.Contain("call 1"));
        }

        var (bpf2, rb, rbProgram) = Load(Cases().Single(c => c.Object == "ringbuf.o"));
        using (bpf2)
        {
            using var ctx = rb.CreateContext("kprobe", new byte[KprobeProgramType.PtRegsSize], []);
            Assert.That(rbProgram.Interpreter!.Run(ctx.Memory).R0, Is.Zero);
            var ring = (Kernel.Sim.Bpf.Maps.RingBufMap)rb.Maps.Single(m => m.Definition.Name == "events");
            var sizes = new List<int>();
            ring.Consume(r => sizes.Add(r.Length));
            Assert.That(sizes, Is.EqualTo(new[] { 24, 24 }));
        }
    }

    [TestCase("socket_filter.o", "trim_socket")]
    [TestCase("hash_update.o", "hash_steps")]
    [TestCase("xdp_filter.o", "xdp_drop_discard")]
    [TestCase("tail_call.o", "tail_hit")]
    [TestCase("subprog.o", "sub_socket")]
    public void TagIsTheOneTheHostKernelComputes(string file, string program)
    {
        var obj = ElfFixtures.Load(file);
        var spec = obj.Programs.Single(p => p.Name == program);
        var hostTag = HostBpf.ProgramTag(obj, spec, out var note);
        if (hostTag is null)
            Assert.Inconclusive("the host kernel did not load the program: " + note);
        Assert.That(BpfObjectVerifier.Tag(spec.Instructions), Is.EqualTo(hostTag));
    }
}
