using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Tests.Bpf.Maps;

namespace Kernel.Sim.Tests.Bpf.Helpers;

public sealed unsafe class ProbeReadHelpersTests
{
    // Fills 16 stack bytes with 0xff, calls HELPER(r10-16, SIZE, SRC), returns r0; the stack bytes go to the input.
    private static string Probe(int helper, int size, string src) => $"""
        r6 = r1
        r1 = -1
        *(u64 *)(r10 - 16) = r1
        *(u64 *)(r10 - 8) = r1
        r1 = r10
        r1 += -16
        r2 = {size}
        {src}
        call {helper}
        r1 = *(u64 *)(r10 - 16)
        *(u64 *)(r6 + 0) = r1
        r1 = *(u64 *)(r10 - 8)
        *(u64 *)(r6 + 8) = r1
        exit
        """;

    private static (long R0, byte[] Copied) RunProbe(MapTestKernel k, int helper, int size, ulong source)
    {
        var program = k.Load(Probe(helper, size, $"r3 = {source} ll"));
        var output = new byte[16];
        var r0 = (long)MapTestKernel.Run(program, output);
        return (r0, output);
    }

    private static ulong RegisterKernelBytes(MapTestKernel k, byte[] bytes, out nint block)
    {
        block = System.Runtime.InteropServices.Marshal.AllocHGlobal(bytes.Length);
        bytes.CopyTo(new Span<byte>((void*)block, bytes.Length));
        k.Bpf.Regions.Add(new MemoryRegion((ulong)block, (ulong)bytes.Length, Writable: false, "kernel data"));
        return (ulong)block;
    }

    [TestCase(4)]
    [TestCase(113)]
    public void Probe_read_copies_registered_kernel_memory(int helper)
    {
        using var k = new MapTestKernel();
        var address = RegisterKernelBytes(k, [1, 2, 3, 4, 5, 6], out var block);
        try
        {
            var (r0, copied) = RunProbe(k, helper, 6, address);
            Assert.That(r0, Is.Zero);
            Assert.That(copied[..8], Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 0xff, 0xff }));
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(block);
        }
    }

    [TestCase(4, 0x10ul)]
    [TestCase(113, 0xdead0000ul)]
    public void Probe_read_of_unmapped_memory_is_efault_with_the_destination_zeroed(int helper, ulong address)
    {
        using var k = new MapTestKernel();
        var (r0, copied) = RunProbe(k, helper, 12, address);
        Assert.That(r0, Is.EqualTo(-BpfErrno.EFAULT));
        Assert.That(copied[..12], Is.All.Zero);
        Assert.That(copied[12..], Is.All.EqualTo(0xff));
    }

    [Test]
    public void Probe_read_straddling_the_end_of_a_region_faults()
    {
        using var k = new MapTestKernel();
        var address = RegisterKernelBytes(k, [1, 2, 3, 4], out var block);
        try
        {
            Assert.That(RunProbe(k, 113, 8, address).R0, Is.EqualTo(-BpfErrno.EFAULT));
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(block);
        }
    }

    [TestCase(45, 16, 6L, new byte[] { 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0, 0xff })]
    [TestCase(115, 4, 4L, new byte[] { 0x68, 0x65, 0x6c, 0, 0xff })]
    [TestCase(115, 0, 0L, new byte[] { 0xff })]
    public void Probe_read_str_copies_up_to_the_nul_or_truncates_with_one(int helper, int size, long expected, byte[] prefix)
    {
        using var k = new MapTestKernel();
        var address = RegisterKernelBytes(k, "hello\0world"u8.ToArray(), out var block);
        try
        {
            var (r0, copied) = RunProbe(k, helper, size, address);
            Assert.That(r0, Is.EqualTo(expected));
            Assert.That(copied[..prefix.Length], Is.EqualTo(prefix));
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(block);
        }
    }

    [Test]
    public void Probe_read_str_of_a_string_running_off_its_region_faults_and_zeroes()
    {
        using var k = new MapTestKernel();
        var address = RegisterKernelBytes(k, "abc"u8.ToArray(), out var block);
        try
        {
            var (r0, copied) = RunProbe(k, 115, 16, address);
            Assert.That(r0, Is.EqualTo(-BpfErrno.EFAULT));
            Assert.That(copied, Is.All.Zero);
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(block);
        }
    }
}
