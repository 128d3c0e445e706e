using Iced.Intel;
using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

/// <summary>Decodes the generated code back with Iced and checks it has the shapes Linux uses.</summary>
public sealed unsafe class GeneratedCodeShapeTests
{
    private static List<Instruction> Decode(ulong address, int maxInstructions)
    {
        // 256 bytes: a loop slot; every piece lies well inside the image page.
        var bytes = new ReadOnlySpan<byte>((byte*)address, 256).ToArray();
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes));
        decoder.IP = address;
        var instructions = new List<Instruction>();
        while (instructions.Count < maxInstructions)
        {
            decoder.Decode(out var instruction);
            instructions.Add(instruction);
            if (instruction.Mnemonic == Mnemonic.Ret)
                break;
        }

        return instructions;
    }

    private static string Text(IEnumerable<Instruction> instructions)
    {
        var formatter = new NasmFormatter();
        var output = new StringOutput();
        return string.Join("; ", instructions.Select(i =>
        {
            formatter.Format(i, output);
            return output.ToStringAndReset();
        }));
    }

    [Test]
    public void RetpolineThunkIsLinuxsIndirectThunkRax()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable: false);
        var code = Decode(image.RetpolineThunkAddress, 8);

        Assert.That(code.Select(i => i.Mnemonic), Is.EqualTo(new[] { Mnemonic.Call, Mnemonic.Pause, Mnemonic.Lfence, Mnemonic.Jmp, Mnemonic.Mov, Mnemonic.Ret }), Text(code));
        Assert.That(code[0].NearBranchTarget, Is.EqualTo(code[4].IP), "call 1f lands on the mov");
        Assert.That(code[3].NearBranchTarget, Is.EqualTo(code[1].IP), "jmp 2b loops back to the pause");
        Assert.That(Text(code[4..5]), Is.EqualTo("mov [rsp],rax"));
    }

    [Test]
    public void LfenceThunkAndTrampolineHaveTheirShapes()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable: false);
        var thunk = Decode(image.LfenceThunkAddress, 2);
        var trampoline = Decode(image.TrampolineAddress, 1);

        Assert.That(Text(thunk), Is.EqualTo("lfence; jmp rax"));
        Assert.That(trampoline[0].Code, Is.EqualTo(Code.Jmp_rel32_64), "a patchable jmp rel32, never the short form");
        Assert.That(trampoline[0].NearBranchTarget, Is.EqualTo(image.TargetAddress(0)));
    }

    [TestCase(NativeMechanism.Direct, "call")]
    [TestCase(NativeMechanism.Indirect, "call rax")]
    [TestCase(NativeMechanism.GuardHit, "cmp rax,r15")]
    [TestCase(NativeMechanism.StaticCall, "call")]
    public void LoopBodyStartsWithTheCallSite(NativeMechanism mechanism, string site)
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable: false);
        var loop = Decode(image.LoopAddress(mechanism), 40);
        var back = loop.Single(i => i.Mnemonic == Mnemonic.Jne && i.NearBranchTarget < i.IP);
        var top = loop.Single(i => i.IP == back.NearBranchTarget);

        Assert.That(top.IP % 16, Is.Zero, "loop top is 16-byte aligned");
        Assert.That(Text([top]), Does.StartWith(site));
    }
}
