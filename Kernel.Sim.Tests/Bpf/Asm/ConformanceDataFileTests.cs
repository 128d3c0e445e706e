using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Tests.Bpf.Asm;

public sealed class ConformanceDataFileTests
{
    [Test]
    public void Sections_are_parsed_and_ignored_sections_skipped()
    {
        const string text = "# header\r\n-- c\nint x; -- not a marker? it is: the next line is c too\n-- asm\nmov %r0, %r2 # comment\nexit\n-- mem\n00 01\nff\n-- no register offset\nanything\n-- result\n0x1\n7\n";
        var test = ConformanceDataFile.Parse(text, "t.data");
        Assert.That(test.Name, Is.EqualTo("t"));
        Assert.That(test.Program, Is.EqualTo(new[] { Instruction.Mov64Reg(0, 2), Instruction.Exit() }));
        Assert.That(test.Memory, Is.EqualTo(new byte[] { 0, 1, 0xff }));
        Assert.That(test.ExpectedResult, Is.EqualTo(7UL), "the last line of -- result counts");
        Assert.That(test.ExpectedError, Is.Null);
    }

    [Test]
    public void Raw_replaces_asm_and_error_keeps_its_last_line()
    {
        var test = ConformanceDataFile.Parse("-- asm\nexit\n-- raw\n0x00000005000000b7 149\n-- error\nfirst\nlast line\n");
        Assert.That(test.Program, Is.EqualTo(new[] { Instruction.Mov64Imm(0, 5), Instruction.Exit() }));
        Assert.That(test.ExpectedError, Is.EqualTo("last line"));
        Assert.That(test.ExpectedResult, Is.Null);
    }

    [TestCase("-- asm\nexit\nmov %r0, %r99\n", "x.data:3:10: error: bad register '%r99'")]
    [TestCase("-- asm\nexit\n-- mem\n00 1x0\n", "x.data:4:4: error: bad memory byte '1x0'")]
    [TestCase("-- asm\nexit\n-- result\nmaybe\n", "x.data:4:1: error: bad result 'maybe'")]
    [TestCase("-- raw\n0xzz\n", "x.data:2:1: error: bad raw instruction word '0xzz'")]
    [TestCase("-- result\n0x1\n", "x.data:3:1: error: no '-- asm' or '-- raw' section")]
    public void Errors_name_file_and_line(string text, string expected)
    {
        Assert.That(() => ConformanceDataFile.Parse(text, "x.data"), Throws.TypeOf<AsmException>().With.Message.StartsWith(expected));
    }
}
