using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing.Bpf;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Tracing.Bpf;

/// <summary>bpf_get_attach_cookie (174) on every tracing attachment, on both engines.</summary>
public sealed class TracingHelpersTests
{
    /// <summary>map[0] = map[0] * 100 + bpf_get_attach_cookie(ctx): the cookies of the runs, in order, as base-100 digits.</summary>
    private static Instruction[] AppendCookie(BpfMap map)
    {
        var b = new BpfCodeBuilder();
        b.MovReg(6, 1);
        b.MapLookupOrExit(map.Fd, 0);
        b.MovReg(7, 0);
        b.MovReg(1, 6);
        b.Call(174);
        b.Load(BPF_DW, 1, 7, 0);
        b.Alu(BPF_MUL, 1, 100);
        b.AluReg(BPF_ADD, 1, 0);
        b.Store(BPF_DW, 7, 1, 0);
        b.Mov(0, 0);
        b.Exit();
        return b.Build();
    }

    private static ulong Value(BpfMap map)
    {
        var value = new byte[8];
        Assert.That(map.LookupElem(BitConverter.GetBytes(0), value), Is.EqualTo(0));
        return BitConverter.ToUInt64(value);
    }

    private static (SimulatedKernel Kernel, BpfMap Map) Setup(BpfEngine engine)
    {
        var kernel = TestKernel.Create(workloads: false);
        kernel.DefineAdd("my_add");
        kernel.Tracing.Bpf.Engine = engine;
        return (kernel, kernel.Tracing.Bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 8, 1, "cookies")));
    }

    private static ProgramType TypeFor(SimulatedKernel kernel, BpfAttachKind kind) => kind switch
    {
        BpfAttachKind.Kprobe or BpfAttachKind.Kretprobe => kernel.Tracing.Bpf.Types.Get("kprobe"),
        _ => new TracingProgramType(2, kind == BpfAttachKind.Fexit),
    };

    [Test]
    public void OneProgramAttachedTwiceSeesEachLinksCookie(
        [Values] BpfEngine engine,
        [Values(BpfAttachKind.Kprobe, BpfAttachKind.Kretprobe, BpfAttachKind.Fentry, BpfAttachKind.Fexit)] BpfAttachKind kind)
    {
        var (kernel, map) = Setup(engine);
        using var _ = kernel;
        var program = kernel.Tracing.Bpf.Load(AppendCookie(map), TypeFor(kernel, kind), [map]);
        using var first = kernel.Tracing.BpfLinks.Attach(program, kind, "my_add", cookie: 17);
        using var second = kernel.Tracing.BpfLinks.Attach(program, kind, "my_add", cookie: 42);
        Assert.That((first.Cookie, second.Cookie, first.Program), Is.EqualTo((17UL, 42UL, program)));
        kernel.On(0, () => kernel.Core.Functions.Find("my_add")!.Call(0, 1, 2));
        Assert.That(Value(map), Is.EqualTo(1742));
        second.Detach();
        kernel.On(0, () => kernel.Core.Functions.Find("my_add")!.Call(0, 1, 2));
        Assert.That(Value(map), Is.EqualTo(174217));
    }

    [Test]
    public void AProgramBoundToACookieKeepsItOnAnAttachThatGivesNoneAndRefusesAnother()
    {
        var (kernel, map) = Setup(BpfEngine.Jit);
        using var _ = kernel;
        var program = kernel.Tracing.Bpf.Load(AppendCookie(map), TypeFor(kernel, BpfAttachKind.Kprobe), [map]);
        using var link = kernel.Tracing.BpfLinks.Attach(program.WithCookie(9), BpfAttachKind.Kprobe, "my_add");
        Assert.That(link.Cookie, Is.EqualTo(9));
        kernel.On(0, () => kernel.Core.Functions.Find("my_add")!.Call(0, 1, 2));
        Assert.That(Value(map), Is.EqualTo(9));
        Assert.Throws<ArgumentException>(() => kernel.Tracing.BpfLinks.Attach(program.WithCookie(9), BpfAttachKind.Kprobe, "my_add", cookie: 8));
    }

    [Test]
    public void WithoutACookieTheHelperReturnsZero([Values] BpfEngine engine)
    {
        var (kernel, map) = Setup(engine);
        using var _ = kernel;
        var program = kernel.Tracing.Bpf.Load(AppendCookie(map), TypeFor(kernel, BpfAttachKind.Kprobe), [map]);
        using var withCookie = kernel.Tracing.BpfLinks.Attach(program, BpfAttachKind.Kprobe, "my_add", cookie: 5);
        using var without = kernel.Tracing.BpfLinks.Attach(program, BpfAttachKind.Kprobe, "my_add");
        kernel.On(0, () => kernel.Core.Functions.Find("my_add")!.Call(0, 1, 2));
        Assert.That(Value(map), Is.EqualTo(500), "the second run must not see the first link's cookie");
    }

    [Test]
    public void TracepointAttachmentsTakeTheirCookieFromTheBoundProgram([Values] BpfEngine engine, [Values] bool raw)
    {
        var (kernel, map) = Setup(engine);
        using var _ = kernel;
        var tp = kernel.Tracing.Tracepoints.Define("test", "cookie_event", ["int a"], [new Kernel.Sim.Tracing.Bpf.TracepointField("int", "a", 4, Signed: true)],
            (args, fields) => BitConverter.TryWriteBytes(fields, (int)args[0]));
        var type = raw ? Tracepoints.RawTracepointType(tp) : Tracepoints.TracepointType(tp);
        var program = kernel.Tracing.Bpf.Load(AppendCookie(map), type, [map]);
        using var first = kernel.Tracing.Tracepoints.Attach(program, tp, raw, cookie: 3);
        using var second = kernel.Tracing.Tracepoints.Attach(program, tp, raw);
        kernel.On(0, () => tp.Fire([1UL]));
        Assert.That(Value(map), Is.EqualTo(300));
        Assert.That(program.WithCookie(3).Unbound, Is.SameAs(program));
    }

    [Test]
    public void OnlyTracingProgramsMayCallIt()
    {
        using var kernel = TestKernel.Create(workloads: false);
        var map = kernel.Tracing.Bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 8, 1, "cookies"));
        var error = Assert.Throws<BpfLoadException>(() => kernel.Tracing.Bpf.Load(AppendCookie(map), kernel.Tracing.Bpf.Types.Get("socket_filter"), [map]));
        Assert.That(error!.Message, Does.Contain("bpf_get_attach_cookie"));
    }
}
