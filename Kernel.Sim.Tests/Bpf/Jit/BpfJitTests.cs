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

    [Test]
    public void Compile_reports_size_and_time()
    {
        var program = Compile("call local f\nexit\nf:\nmov %r0, 1\nexit");
        Assert.That((program.InstructionCount, program.FunctionCount), Is.EqualTo((4, 2)));
        Assert.That(program.CompileTime, Is.GreaterThan(TimeSpan.Zero));
    }
}
