namespace Kernel.Sim.Tests.Cli;

public sealed class KernelSimCliTests
{
    [Test]
    public void UnknownVerbExitsTwoWithAMessage()
    {
        var result = CliRunner.Run("no-such-verb");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("no-such-verb"));
    }
}
