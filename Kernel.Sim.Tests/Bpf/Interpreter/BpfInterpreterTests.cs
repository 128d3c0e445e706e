using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Tests.Bpf.Interpreter;

public sealed unsafe class BpfInterpreterTests
{
    private static BpfInterpreter Load(string asm, HelperRegistry? helpers = null, BpfInterpreterOptions? options = null) =>
        new(ConformanceAssembler.Assemble(asm), helpers ?? HelperRegistry.CreateConformance(), options: options);

    [Test]
    public void Budget_stops_an_endless_loop_with_the_looping_instruction()
    {
        var interpreter = Load("mov %r0, 0\nadd %r0, 1\nja -2\nexit", options: new BpfInterpreterOptions { InstructionBudget = 1000 });
        var result = interpreter.Run([]);
        Assert.That(result.Error, Is.EqualTo(BpfRunError.BudgetExceeded));
        Assert.That(result.InstructionsExecuted, Is.EqualTo(1000));
        Assert.That(result.Message, Does.Match(@"^insn [12]: instruction budget of 1000 exceeded$"));
    }

    [Test]
    public void Out_of_bounds_error_names_index_address_and_size()
    {
        var memory = new byte[4];
        var interpreter = Load("ldxw %r0, [%r1+2]\nexit");
        fixed (byte* p = memory)
        {
            var result = interpreter.Run(p, memory.Length);
            Assert.That(result.Error, Is.EqualTo(BpfRunError.OutOfBounds));
            Assert.That(result.InstructionIndex, Is.Zero);
            Assert.That(result.Address, Is.EqualTo((ulong)p + 2));
            Assert.That(result.AccessSize, Is.EqualTo(4));
            Assert.That(result.Message, Is.EqualTo($"insn 0: invalid memory access: read of 4 bytes at 0x{(ulong)p + 2:x} (input memory+2, which is 4 bytes long) is outside the stack, the input memory and every registered region"));
        }
    }

    [Test]
    public void Registered_region_becomes_accessible_and_read_only_regions_refuse_stores()
    {
        var cell = GC.AllocateArray<byte>(8, pinned: true);
        cell[0] = 0x2a;
        var address = (ulong)Unsafe.AsPointer(ref cell[0]);
        var program = ConformanceAssembler.Assemble($"lddw %r1, 0x{address:x}\nldxb %r0, [%r1]\nstb [%r1], 1\nexit");
        var regions = new MemoryRegionTable();
        var interpreter = new BpfInterpreter(program, HelperRegistry.CreateConformance(), new HelperContext(regions));

        Assert.That(interpreter.Run([]).Error, Is.EqualTo(BpfRunError.OutOfBounds), "unregistered memory is refused");
        regions.Add(new MemoryRegion(address, 8, Writable: false, "map value"));
        var readOnly = interpreter.Run([]);
        Assert.That(readOnly.Message, Does.StartWith("insn 3: invalid memory access: write of 1 byte"));
        Assert.That(regions.Remove(address), Is.True);
        regions.Add(new MemoryRegion(address, 8, Writable: true, "map value"));
        var ok = interpreter.Run([]);
        Assert.That(ok.R0, Is.EqualTo(0x2a));
        Assert.That(cell[0], Is.EqualTo(1));
    }

    [Test]
    public void Helpers_are_called_with_r1_to_r5_and_the_context()
    {
        var helpers = new HelperRegistry();
        helpers.Register(7, "sum5", typeof(BpfInterpreterTests), nameof(Sum5));
        var interpreter = Load("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 7\nexit", helpers);
        Assert.That(interpreter.Run([]).R0, Is.EqualTo(12345));
    }

    [Test]
    public void A_helper_with_the_wrong_signature_is_refused()
    {
        var helpers = new HelperRegistry();
        Assert.That(() => helpers.Register(1, "bad", typeof(BpfInterpreterTests), nameof(WrongSignature)),
            Throws.ArgumentException.With.Message.Contains("must be static ulong"));
        Assert.That(() => helpers.Register(5, "again", typeof(ConformanceHelpers), nameof(ConformanceHelpers.Unwind)), Throws.Nothing);
        Assert.That(() => helpers.Register(5, "again", typeof(ConformanceHelpers), nameof(ConformanceHelpers.Unwind)),
            Throws.InvalidOperationException.With.Message.Contains("already registered"));
    }

    [Test]
    public void Malformed_program_is_refused_at_load()
    {
        var program = new[] { new Instruction(0xff, 0, 0, 0, 0) };
        Assert.That(() => new BpfInterpreter(program, new HelperRegistry()),
            Throws.TypeOf<BpfDecodeException>().With.Message.EqualTo("insn 0: unknown opcode 0xff"));
    }

    [Test]
    public void Runs_are_independent_and_count_instructions()
    {
        var interpreter = Load("ldxdw %r0, [%r10-8]\nadd %r0, 1\nstxdw [%r10-8], %r0\nexit");
        var first = interpreter.Run([]);
        var second = interpreter.Run([]);
        Assert.That((first.R0, second.R0), Is.EqualTo((1UL, 1UL)));
        Assert.That(second.InstructionsExecuted, Is.EqualTo(4));
    }

    [Test]
    public void A_run_allocates_nothing()
    {
        var interpreter = Load("mov %r0, 0\nmov %r1, 100\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3\ncall 5\nexit");
        var memory = new byte[16];
        interpreter.Run(memory);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            interpreter.Run(memory);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static ulong Sum5(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        (r1 * 10000) + (r2 * 1000) + (r3 * 100) + (r4 * 10) + r5;

    private static ulong WrongSignature(ulong r1) => r1;
}
