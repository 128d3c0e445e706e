using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Tests.Bpf.Elf;

public sealed class SourceAnnotatorTests
{
    [Test]
    public void VerifierLogGetsSourceLinesBeforeTheInstructionsTheyCover()
    {
        var obj = ElfFixtures.Load("socket_filter.o");
        var p = obj.Programs.Single();
        var log = BpfObjectVerifier.Verify(obj, p, ProgramTypeRegistry.CreateDefault(), logLevel: 2).Result!.Log;
        var lines = SourceAnnotator.Annotate(log, p).Split('\n');
        var first = Array.FindIndex(lines, l => l.StartsWith("0: (b7)", StringComparison.Ordinal));
        Assert.That(lines[first - 1], Is.EqualTo("; int trim_socket(struct __sk_buff *skb) @ socket_filter.c:6"));
        Assert.That(lines, Has.Some.EqualTo("; } @ socket_filter.c:11"));
        Assert.That(lines.Count(l => l.StartsWith("; ", StringComparison.Ordinal)), Is.EqualTo(p.LineInfo.Count));
    }

    [Test]
    public void ProgramsWithoutLineInfoKeepTheirLog()
    {
        var obj = ElfFixtures.Load("old_style.o");
        var p = obj.Programs[0] with { LineInfo = [] };
        Assert.That(SourceAnnotator.Annotate("0: (b7) r0 = 2\n1: (95) exit", p), Is.EqualTo("0: (b7) r0 = 2\n1: (95) exit"));
    }
}
