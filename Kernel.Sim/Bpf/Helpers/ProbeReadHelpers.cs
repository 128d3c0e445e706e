using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// bpf_probe_read (4), bpf_probe_read_str (45), bpf_probe_read_kernel (113), bpf_probe_read_kernel_str (115).
/// The source is checked against the memory the program may reach (its stack, its input, the region table: kernel
/// memory, map values, packets); anything else is a fault the helper absorbs as copy_from_kernel_nofault does:
/// -EFAULT with the destination zeroed. KernelSim has one address space, so bpf_probe_read (the x86 compat helper
/// that tries kernel then user memory) behaves as bpf_probe_read_kernel.
/// </summary>
public static unsafe class ProbeReadHelpers
{
    /// <summary>long bpf_probe_read(void *dst, u32 size, const void *unsafe_ptr).</summary>
    public static ulong ProbeRead(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        ProbeReadKernel(r1, r2, r3, r4, r5, context);

    /// <summary>long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr).</summary>
    public static ulong ProbeReadKernel(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (uint)r2;
        if (!context.CanAccess(r1, size, write: true))
            return MapHelpers.Errno(BpfErrno.EFAULT);
        if (!context.CanAccess(r3, size, write: false))
        {
            new Span<byte>((void*)r1, (int)size).Clear();
            return MapHelpers.Errno(BpfErrno.EFAULT);
        }

        Buffer.MemoryCopy((void*)r3, (void*)r1, size, size);
        return 0;
    }

    /// <summary>long bpf_probe_read_str(void *dst, u32 size, const void *unsafe_ptr).</summary>
    public static ulong ProbeReadStr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        ProbeReadKernelStr(r1, r2, r3, r4, r5, context);

    /// <summary>
    /// long bpf_probe_read_kernel_str(void *dst, u32 size, const void *unsafe_ptr): copies up to size - 1 bytes and
    /// a NUL (strncpy_from_kernel_nofault), returns the length including the NUL; 0 for size 0; -EFAULT with the
    /// destination zeroed when a source byte is unreadable.
    /// </summary>
    public static ulong ProbeReadKernelStr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (uint)r2;
        if (size == 0)
            return 0;
        if (!context.CanAccess(r1, size, write: true))
            return MapHelpers.Errno(BpfErrno.EFAULT);
        var dst = (byte*)r1;
        var src = (byte*)r3;
        for (uint i = 0; i < size - 1; i++)
        {
            // Byte by byte: a string may end just before an unmapped page, which must not fault.
            if (!context.CanAccess(r3 + i, 1, write: false))
            {
                new Span<byte>(dst, (int)size).Clear();
                return MapHelpers.Errno(BpfErrno.EFAULT);
            }

            var b = src[i];
            dst[i] = b;
            if (b == 0)
                return i + 1;
        }

        dst[size - 1] = 0;
        return size;
    }
}
