using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Tests.Bpf.Maps;

namespace Kernel.Sim.Tests.Bpf.Helpers;

public sealed class KernelHelpersTests
{
    [Test]
    public void Helper_5_is_ktime_get_ns_except_for_raw_programs_where_it_unwinds()
    {
        using var k = new MapTestKernel();
        var context = k.Bpf.CreateHelperContext(0);
        context.Environment = new HelperEnvironment { FixedNs = 123_456_789 };
        var kprobe = k.Load("r1 = 0\ncall 5\nexit", new KprobeProgramType(), context);
        Assert.That(MapTestKernel.Run(kprobe), Is.EqualTo(123_456_789));
        // raw: the conformance suite's unwind returns r1, and a zero return stops the program with r0 = 0.
        var raw = k.Load("r1 = 9\ncall 5\nexit", context: context);
        Assert.That(MapTestKernel.Run(raw), Is.EqualTo(9));
    }

    [Test]
    public void Boot_time_and_cpu_pid_and_comm_come_from_the_environment()
    {
        using var k = new MapTestKernel(cpus: 4);
        var context = k.Bpf.CreateHelperContext(3);
        context.Environment = new HelperEnvironment { Cpu = 3, Pid = 1234, Tgid = 1200, Comm = "a-very-long-command-name", FixedNs = 5 };
        Assert.That(MapTestKernel.Run(k.Load("call 8\nexit", new KprobeProgramType(), context)), Is.EqualTo(3));
        Assert.That(MapTestKernel.Run(k.Load("call 14\nexit", new KprobeProgramType(), context)), Is.EqualTo((1200UL << 32) | 1234));
        Assert.That(MapTestKernel.Run(k.Load("call 125\nexit", new KprobeProgramType(), context)), Is.EqualTo(5));
        // get_current_comm(buf = input, 20): 15 bytes, a NUL, the rest zeroed.
        var program = k.Load("r2 = 20\ncall 16\nexit", new KprobeProgramType(), context);
        var buffer = Enumerable.Repeat((byte)0xff, 24).ToArray();
        Assert.That(MapTestKernel.Run(program, buffer), Is.Zero);
        Assert.That(buffer[..20], Is.EqualTo("a-very-long-com"u8.ToArray().Concat(new byte[5])));
        Assert.That(buffer[20], Is.EqualTo(0xff));
    }

    [Test]
    public void Prandom_is_deterministic_per_seed()
    {
        using var k = new MapTestKernel();
        var a = k.Bpf.CreateHelperContext(0);
        var b = k.Bpf.CreateHelperContext(0);
        var c = k.Bpf.CreateHelperContext(0);
        c.PrandomSeed = 99;
        var pa = k.Load("call 7\nexit", context: a);
        var pb = k.Load("call 7\nexit", context: b);
        var pc = k.Load("call 7\nexit", context: c);
        var sa = Enumerable.Range(0, 8).Select(_ => MapTestKernel.Run(pa)).ToArray();
        var sb = Enumerable.Range(0, 8).Select(_ => MapTestKernel.Run(pb)).ToArray();
        var sc = Enumerable.Range(0, 8).Select(_ => MapTestKernel.Run(pc)).ToArray();
        Assert.That(sa, Is.EqualTo(sb));
        Assert.That(sa, Is.Not.EqualTo(sc));
        Assert.That(sa.Distinct().Count(), Is.EqualTo(8));
        Assert.That(sa, Is.All.LessThanOrEqualTo((ulong)uint.MaxValue));
    }

    [Test]
    public void Each_program_type_gets_the_helpers_its_get_func_proto_allows()
    {
        var socket = LinuxHelpers.CreateRegistry(new SocketFilterProgramType());
        var kprobe = LinuxHelpers.CreateRegistry(new KprobeProgramType());
        var raw = LinuxHelpers.CreateRegistry(new RawProgramType());
        Assert.That(socket.Find(1)!.Name, Is.EqualTo("bpf_map_lookup_elem"));
        Assert.That(socket.Find(4), Is.Null, "bpf_probe_read is tracing-only");
        Assert.That(kprobe.Find(4)!.Name, Is.EqualTo("bpf_probe_read"));
        Assert.That(kprobe.Find(5)!.Name, Is.EqualTo("bpf_ktime_get_ns"));
        Assert.That(raw.Find(5)!.Name, Is.EqualTo("unwind"));
        Assert.That(kprobe.Find(12)!.Flags, Is.EqualTo(HelperFlags.TailCall));
        Assert.That(LinuxHelpers.Ids, Is.SubsetOf(Kernel.Sim.Bpf.Verifier.HelperPrototypes.All.Keys));
    }
}
