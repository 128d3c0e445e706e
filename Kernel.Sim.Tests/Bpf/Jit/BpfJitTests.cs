using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Tests.Bpf.Maps;
using static Kernel.Sim.Tests.Bpf.Maps.MapTestKernel;

namespace Kernel.Sim.Tests.Bpf.Jit;

/// <summary>The JIT's own behaviour: helpers, local calls, unwinding, tail calls, allocation, what it refuses.</summary>
public sealed class BpfJitTests
{
    private static Instruction[] Asm(string text) => ConformanceAssembler.Assemble(text);

    private static JittedProgram Compile(string text, HelperRegistry? helpers = null) =>
        BpfJit.Compile(Asm(text), helpers ?? HelperRegistry.CreateConformance());

    private static ulong s_lastR5;
    private static HelperContext? s_lastContext;

    private static ulong Mix(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        s_lastR5 = r5;
        s_lastContext = context;
        return (r1 * 1000) + (r2 * 100) + (r3 * 10) + r4;
    }

    [Test]
    public void Helper_receives_r1_to_r5_and_the_programs_context_and_sets_r0()
    {
        var helpers = new HelperRegistry();
        helpers.Register(40, "mix", typeof(BpfJitTests), nameof(Mix));
        var context = new HelperContext(new MemoryRegionTable());
        var program = BpfJit.Compile(Asm("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 77\ncall 40\nexit"), helpers, context);
        Assert.That(program.Run([]).R0, Is.EqualTo(1234UL));
        Assert.That((s_lastR5, s_lastContext), Is.EqualTo((77UL, context)));
    }

    [Test]
    public void Unwind_returning_zero_inside_a_subprogram_ends_the_whole_program_with_r0_zero()
    {
        const string Text = "mov %r6, %r1\nmov %r1, 0\ncall local f\nstdw [%r6], 99\nmov %r0, 5\nexit\nf:\ncall 5\nmov %r0, 7\nexit";
        var memory = new byte[8];
        var result = Compile(Text).Run(memory);
        Assert.That((result.Succeeded, result.R0, memory[0]), Is.EqualTo((true, 0UL, (byte)0)));
        Assert.That(JitDifferential.Compare(Asm(Text), new byte[8], HelperRegistry.CreateConformance()).Verdict, Is.EqualTo(DifferentialVerdict.Agree));
    }

    [Test]
    public void Nine_frames_fail_at_the_call_like_the_interpreter()
    {
        const string Text = "mov %r1, 7\ncall local f\nexit\nf:\njeq %r1, 0, done\nsub %r1, 1\ncall local f\nadd %r0, 1\nexit\ndone:\nmov %r0, 0\nexit";
        var result = Compile(Text).Run([]);
        Assert.That((result.Error, result.InstructionIndex), Is.EqualTo((BpfRunError.CallDepthExceeded, 5)));
        Assert.That(JitDifferential.Compare(Asm(Text), [], HelperRegistry.CreateConformance()).Verdict, Is.EqualTo(DifferentialVerdict.Agree));
    }

    [Test]
    public void Each_subprogram_gets_its_own_zeroed_frame_below_r10()
    {
        // The callee writes its frame; the caller's slot at the same r10 offset keeps its value.
        const string Text = "stdw [%r10-8], 11\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\nf:\nldxdw %r0, [%r10-8]\nstdw [%r10-8], 22\nexit";
        Assert.That(Compile(Text).Run([]).R0, Is.EqualTo(11UL));
    }

    [TestCase(false, 0ul, 5ul)]
    [TestCase(true, 0ul, 0ul)]
    public void The_stack_is_zeroed_per_run_only_when_asked(bool zero, ulong first, ulong second)
    {
        // Reads a slot before writing it (the verifier would refuse this): the first run sees the fresh zero stack,
        // the second what the first left unless ZeroStackPerRun (the unverified --repeat case) clears it.
        var program = BpfJit.Compile(Asm("ldxdw %r0, [%r10-8]\nstdw [%r10-8], 5\nexit"), HelperRegistry.CreateConformance(), options: new BpfJitOptions { ZeroStackPerRun = zero });
        Assert.That((program.Run([]).R0, program.Run([]).R0), Is.EqualTo((first, second)));
    }

    [Test]
    public void Runtime_errors_match_the_interpreter_kind_and_index()
    {
        foreach (var text in new[] { "mov %r0, 1\ncall 9\nexit", "mov %r0, 3\ncall %r0\nexit", "ja +1\nlddw %r0, 0x100000001\nexit", "mov %r0, 1\nja +5\nexit", "mov %r0, 1" })
        {
            var program = Asm(text);
            var expected = new BpfInterpreter(program, HelperRegistry.CreateConformance()).Run([]);
            var actual = BpfJit.Compile(program, HelperRegistry.CreateConformance()).Run([]);
            Assert.That((actual.Error, actual.InstructionIndex, actual.Detail), Is.EqualTo((expected.Error, expected.InstructionIndex, expected.Detail)), text);
            Assert.That(actual.Succeeded, Is.False);
        }
    }

    [Test]
    public void A_jump_from_one_subprogram_into_another_is_refused_at_compile_time()
    {
        var e = Assert.Throws<BpfJitException>(() => Compile("call local f\nja g\nexit\nf:\nmov %r0, 1\ng:\nexit"));
        Assert.That(e!.Message, Does.StartWith("insn 1: jump to insn 4 leaves the subprogram"));
    }

    [Test]
    public void Malformed_programs_are_rejected_before_compilation()
    {
        Assert.Throws<BpfDecodeException>(() => BpfJit.Compile([new Instruction(0xff, 0, 0, 0, 0)], HelperRegistry.CreateConformance()));
    }

    [Test]
    public void A_run_allocates_nothing_with_calls_helpers_and_atomics()
    {
        var program = Compile("mov %r0, 0\nmov %r6, 100\nloop:\nmov %r1, %r6\ncall local f\nadd %r0, %r1\nsub %r6, 1\njne %r6, 0, loop\nstdw [%r10-8], 1\nlock add [%r10-8], %r0\nmov %r1, 1\ncall 5\nexit\nf:\nmov %r0, %r1\nexit");
        var memory = new byte[16];
        program.Run(memory);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            program.Run(memory);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [TestCase(0, 42ul)]
    [TestCase(1, 1ul)]
    [TestCase(4, 1ul)]
    public void Tail_call_hit_runs_the_jitted_target_and_a_miss_falls_through(int index, ulong expected)
    {
        using var k = new MapTestKernel();
        var progs = (ProgArrayMap)k.Create(BpfMapType.ProgArray, 4, 4, 4, "jmp_table");
        var target = k.Bpf.LoadJit(LlvmAssembler.Assemble("r0 = *(u8 *)(r1 + 0)\nr0 += 41\nexit"), new RawProgramType(), "target");
        Assert.That(progs.UpdateElem(U32(0), U32((uint)k.Bpf.ProgramFd(target))), Is.Zero);
        var caller = k.Bpf.LoadJit(LlvmAssembler.Assemble(TailCaller(progs.Fd, index)), new RawProgramType());
        Assert.That(caller.Run(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0 }).ThrowIfFailed(), Is.EqualTo(expected));
    }

    [Test]
    public void Tail_calls_stop_after_33_as_MAX_TAIL_CALL_CNT_and_from_a_subprogram_return_to_its_caller()
    {
        using var k = new MapTestKernel();
        var progs = (ProgArrayMap)k.Create(BpfMapType.ProgArray, 4, 4, 2);
        var counter = k.Create(BpfMapType.Array, 4, 8, 1);
        var self = k.Bpf.LoadJit(LlvmAssembler.Assemble($"""
            r6 = r1
            ld_pseudo r1, 2, {counter.Fd}
            r2 = 1
            lock *(u64 *)(r1 + 0) += r2
            r1 = r6
            ld_pseudo r2, 1, {progs.Fd}
            r3 = 0
            call 12
            r0 = 7
            exit
            """), new RawProgramType());
        progs.UpdateElem(U32(0), U32((uint)k.Bpf.ProgramFd(self)));
        Assert.That(self.Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(7UL));
        var count = new byte[8];
        counter.LookupElem(U32(0), count);
        Assert.That(BitConverter.ToUInt64(count), Is.EqualTo(1 + TailCalls.MaxTailCallCount));

        var target = k.Bpf.LoadJit(LlvmAssembler.Assemble("r0 = 42\nexit"), new RawProgramType());
        progs.UpdateElem(U32(1), U32((uint)k.Bpf.ProgramFd(target)));
        var main = k.Bpf.LoadJit(LlvmAssembler.Assemble($"""
            r6 = r1
            call sub
            r0 += 100
            exit
            sub:
            r1 = r6
            ld_pseudo r2, 1, {progs.Fd}
            r3 = 1
            call 12
            r0 = 1
            exit
            """), new RawProgramType());
        Assert.That(main.Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(142UL));
    }

    [Test]
    public void A_tail_call_from_cpu_n_runs_the_target_as_cpu_n_though_the_prog_array_holds_the_cpu_0_copy()
    {
        // As the object loader and the per-CPU copies of the tracing and packet paths: the prog array holds the target
        // loaded with CPU 0's helper context; each CPU's copy of the caller tail-calls it. The target must run as the
        // calling CPU: its helpers see that CPU (bpf_get_smp_processor_id, the per-CPU map slot) and it uses that CPU's stack.
        using var k = new MapTestKernel(cpus: 2);
        var progs = (ProgArrayMap)k.Create(BpfMapType.ProgArray, 4, 4, 1);
        var hits = k.Create(BpfMapType.PercpuArray, 4, 8, 1);
        var target = k.Bpf.LoadJit(LlvmAssembler.Assemble($"""
            call 8
            r7 = r0
            *(u32 *)(r10 - 4) = 0
            ld_pseudo r1, 1, {hits.Fd}
            r2 = r10
            r2 += -4
            call 1
            if r0 == 0 goto out
            r1 = 1
            lock *(u64 *)(r0 + 0) += r1
            out:
            r0 = r7
            r0 += 100
            exit
            """), new RawProgramType(), "target");
        Assert.That(progs.UpdateElem(U32(0), U32((uint)k.Bpf.ProgramFd(target))), Is.Zero);
        var caller = LlvmAssembler.Assemble(TailCaller(progs.Fd, 0));
        var copies = Enumerable.Range(0, 2).Select(cpu => k.Bpf.LoadJit(caller, new RawProgramType(), "caller", new HelperContext(k.Bpf.Regions)
        {
            Maps = k.Maps,
            Environment = new HelperEnvironment { Cpu = cpu },
        })).ToArray();

        Assert.That(copies[1].Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(101UL));
        Assert.That(copies[1].Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(101UL));
        Assert.That(copies[0].Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(100UL));
        var perCpu = new byte[16];
        Assert.That(hits.LookupElem(U32(0), perCpu), Is.Zero);
        Assert.That((BitConverter.ToUInt64(perCpu, 0), BitConverter.ToUInt64(perCpu, 8)), Is.EqualTo((1UL, 2UL)));
    }

    [TestCase(BpfMapType.Array, 2u, 1002ul)]
    [TestCase(BpfMapType.Array, 3u, 1ul)]
    [TestCase(BpfMapType.Array, 0xffffffffu, 1ul)]
    [TestCase(BpfMapType.Hash, 2u, 1ul)]
    public void Array_lookups_inlined_as_in_linux_give_the_helpers_result(BpfMapType type, uint index, ulong expected)
    {
        // An lddw of an array's pointer right before bpf_map_lookup_elem: the JIT computes the element address inline
        // (Linux's array_map_gen_lookup); an index past max_entries is NULL. Other maps keep the helper call.
        using var k = new MapTestKernel();
        var map = k.Create(type, 4, 8, 3);
        if (type == BpfMapType.Array)
            Assert.That(map.UpdateElem(U32(2), U64(1000)), Is.Zero);
        var text = $"""
            *(u32 *)(r10 - 4) = {(int)index}
            r2 = r10
            r2 += -4
            ld_pseudo r1, 1, {map.Fd}
            call 1
            if r0 == 0 goto miss
            r1 = 2
            lock *(u64 *)(r0 + 0) += r1
            r0 = *(u64 *)(r0 + 0)
            exit
            miss:
            r0 = 1
            exit
            """;
        var jit = k.Bpf.LoadJit(LlvmAssembler.Assemble(text), new RawProgramType());
        Assert.That(jit.Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(expected));
        var interpreter = k.Bpf.Load(LlvmAssembler.Assemble(text), new RawProgramType());
        Assert.That(interpreter.Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(expected == 1 ? 1 : expected + 2));
    }

    [Test]
    public void Helpers_see_the_jit_stack_as_program_memory()
    {
        // bpf_map_update_elem/lookup with key and value on the JIT's stack: the helpers' access checks accept it.
        using var k = new MapTestKernel();
        var map = k.Create(BpfMapType.Hash, 4, 8, 4);
        var program = k.Bpf.LoadJit(LlvmAssembler.Assemble($"""
            *(u32 *)(r10 - 4) = 7
            *(u64 *)(r10 - 16) = 1234
            ld_pseudo r1, 1, {map.Fd}
            r2 = r10
            r2 += -4
            r3 = r10
            r3 += -16
            r4 = 0
            call 2
            ld_pseudo r1, 1, {map.Fd}
            r2 = r10
            r2 += -4
            call 1
            if r0 == 0 goto miss
            r0 = *(u64 *)(r0 + 0)
            exit
            miss:
            r0 = 99
            exit
            """), new RawProgramType());
        Assert.That(program.Run(new byte[8]).ThrowIfFailed(), Is.EqualTo(1234UL));
    }

    [TestCase(true, 1)]
    [TestCase(false, 2)]
    public void Compile_reports_size_methods_and_time(bool inline, int methods)
    {
        var program = BpfJit.Compile(Asm("call local f\nexit\nf:\nmov %r0, 1\nexit"), HelperRegistry.CreateConformance(), options: new BpfJitOptions { InlineSubprograms = inline });
        Assert.That((program.InstructionCount, program.FunctionCount), Is.EqualTo((4, methods)));
        Assert.That(program.CompileTime, Is.GreaterThan(TimeSpan.Zero));
    }

    [Test]
    public void Inlined_subprograms_keep_their_own_r6_to_r10_and_the_frame_limit()
    {
        // Eight distinct nested subprograms (nine frames, one too many), each saving r6 and a stack slot around its call:
        // inlined, each level must keep its own r6 and frame, and the ninth frame fails at the same call as the interpreter.
        var text = new System.Text.StringBuilder("mov %r1, 1\ncall local f1\nexit\n");
        for (var level = 1; level <= 8; level++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"f{level}:\nmov %r6, {level}\nstdw [%r10-8], {level * 10}\n");
            text.Append(level < 8 ? $"call local f{level + 1}\n" : "mov %r0, 0\n");
            text.Append("add %r0, %r6\nldxdw %r2, [%r10-8]\nadd %r0, %r2\nexit\n");
        }

        var nine = Asm(text.ToString());
        Assert.That(Compile(text.ToString()).Run([]).Error, Is.EqualTo(BpfRunError.CallDepthExceeded));
        Assert.That(JitDifferential.Compare(nine, [], HelperRegistry.CreateConformance()).Verdict, Is.EqualTo(DifferentialVerdict.Agree));
        // Seven levels fit: r0 = sum of (level + 10 level) = 11 * 28.
        var seven = text.ToString().Replace("call local f8", "mov %r0, 0", StringComparison.Ordinal);
        Assert.That(Compile(seven).Run([]).ThrowIfFailed(), Is.EqualTo(11UL * 28));
        Assert.That(JitDifferential.Compare(Asm(seven), [], HelperRegistry.CreateConformance()).Verdict, Is.EqualTo(DifferentialVerdict.Agree));
    }
}
