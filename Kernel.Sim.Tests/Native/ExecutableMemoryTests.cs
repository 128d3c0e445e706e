using System.Globalization;
using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

public sealed class ExecutableMemoryTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void ExecutableViewIsNeverWritableAndNoMappingIsWritableAndExecutable(bool patchable)
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable);
        var maps = ProcMaps.Read();

        var executable = maps.Single(m => m.Start == (ulong)image.Memory.Executable);
        Assert.That(executable.Permissions, Does.StartWith("r-x"));
        Assert.That(maps.Where(m => m.Permissions.Contains('w', StringComparison.Ordinal) && m.Permissions.Contains('x', StringComparison.Ordinal)
                                    && m.Path.Contains(ExecutableMemory.MemfdName, StringComparison.Ordinal)), Is.Empty);
        if (patchable)
        {
            var alias = maps.Single(m => m.Start == (ulong)image.Memory.WritableAlias);
            Assert.That(alias.Permissions, Does.StartWith("rw-"));
            Assert.That(alias.Path, Is.EqualTo(executable.Path), "the RW alias maps the same memfd");
        }
        else
        {
            Assert.That(image.Memory.IsWritable, Is.False, "a sealed region drops its writable alias");
        }
    }

    [Test]
    public void SealedRegionRefusesWrites()
    {
        NativeTestHost.RequireSupported();
        using var memory = ExecutableMemory.Create(100, patchable: false);
        memory.Write(0, [0xC3]);
        memory.Seal(keepWritableAlias: false);
        Assert.That(() => memory.Write(0, [0xC3]), Throws.InvalidOperationException);
    }

    [Test]
    public void WriteOutsideTheRegionIsRejected()
    {
        NativeTestHost.RequireSupported();
        using var memory = ExecutableMemory.Create(100, patchable: false);
        Assert.That(memory.Length, Is.EqualTo(Environment.SystemPageSize));
        Assert.That(() => memory.Write(memory.Length - 1, [0xC3, 0xC3]), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>Lines of /proc/self/maps: start address, permissions, path.</summary>
    private sealed record ProcMaps(ulong Start, string Permissions, string Path)
    {
        public static List<ProcMaps> Read() =>
            [.. File.ReadAllLines("/proc/self/maps").Select(line =>
            {
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                var start = ulong.Parse(fields[0].Split('-')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                return new ProcMaps(start, fields[1], fields.Length > 5 ? fields[5].Trim() : "");
            })];
    }
}
