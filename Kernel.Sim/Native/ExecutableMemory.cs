using Iced.Intel;

namespace Kernel.Sim.Native;

/// <summary>
/// Executable memory that is never writable and executable at once (W^X). The code lives in a memfd mapped
/// twice: a <c>PROT_READ|PROT_EXEC</c> view that runs and a <c>PROT_READ|PROT_WRITE</c> alias that writes, so a
/// live call site can be repatched without ever making a page W+X (the approach of JITs under SELinux's
/// <c>execmem</c> denial). A region that will not be patched again is <see cref="Seal"/>ed: its writable
/// alias is unmapped. Where a memfd cannot be mapped executable (<c>vm.memfd_noexec=2</c>) a non-patchable region
/// falls back to one anonymous mapping written as RW and then flipped to RX with <c>mprotect</c>.
/// </summary>
internal sealed unsafe class ExecutableMemory : IDisposable
{
    /// <summary>Name shown in <c>/proc/self/maps</c> as <c>/memfd:kernelsim-lab (deleted)</c>.</summary>
    public const string MemfdName = "kernelsim-lab";

    private readonly nuint _length;
    private nint _writable;
    private bool _anonymousNotYetExecutable;
    private bool _disposed;

    private ExecutableMemory(nint executable, nint writable, nuint length, bool anonymous)
    {
        Executable = executable;
        _writable = writable;
        _length = length;
        _anonymousNotYetExecutable = anonymous;
    }

    /// <summary>Address of the executable view: where the code runs and where rel32 displacements point.</summary>
    public nint Executable { get; }

    /// <summary>Length in bytes (whole pages).</summary>
    public int Length => (int)_length;

    /// <summary>True while the writable alias exists (the region can be written or patched).</summary>
    public bool IsWritable => _writable != 0;

    /// <summary>Address of the writable alias, or 0 once sealed.</summary>
    internal nint WritableAlias => _anonymousNotYetExecutable ? 0 : _writable;

    /// <summary>Maps <paramref name="length"/> bytes (rounded up to pages); throws <see cref="NativeLabException"/> when the host refuses.</summary>
    public static ExecutableMemory Create(int length, bool patchable)
    {
        var size = (nuint)((length + Environment.SystemPageSize - 1) / Environment.SystemPageSize * Environment.SystemPageSize);
        var fd = Libc.MemfdCreate(MemfdName, Libc.MFD_CLOEXEC);
        if (fd >= 0)
        {
            try
            {
                if (Libc.Ftruncate(fd, (long)size) != 0)
                    throw new NativeLabException($"ftruncate(memfd, {size}) failed: {Libc.LastError()}");
                var rw = Libc.Mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
                if (rw == Libc.MapFailed)
                    throw new NativeLabException($"mmap(memfd, PROT_READ|PROT_WRITE) failed: {Libc.LastError()}");
                var rx = Libc.Mmap(0, size, Libc.PROT_READ | Libc.PROT_EXEC, Libc.MAP_SHARED, fd, 0);
                if (rx != Libc.MapFailed)
                    return new ExecutableMemory(rx, rw, size, anonymous: false);
                var error = Libc.LastError();
                Libc.Munmap(rw, size);
                if (patchable)
                    throw new NativeLabException($"mmap(memfd, PROT_READ|PROT_EXEC) failed: {error}");
            }
            finally
            {
                // The mappings keep the file alive; the descriptor is not needed any more.
                Libc.Close(fd);
            }
        }
        else if (patchable)
        {
            throw new NativeLabException($"memfd_create failed: {Libc.LastError()}");
        }

        var anon = Libc.Mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (anon == Libc.MapFailed)
            throw new NativeLabException($"mmap(anonymous, PROT_READ|PROT_WRITE) failed: {Libc.LastError()}");
        return new ExecutableMemory(anon, anon, size, anonymous: true);
    }

    /// <summary>Copies <paramref name="code"/> to <paramref name="offset"/> through the writable alias.</summary>
    public void Write(int offset, ReadOnlySpan<byte> code)
    {
        if (!IsWritable)
            throw new InvalidOperationException("the region is sealed: its writable alias is gone");
        if (offset < 0 || offset + code.Length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + code.Length}) is outside the {Length}-byte region");
        code.CopyTo(new Span<byte>((byte*)_writable + offset, code.Length));
    }

    /// <summary>Assembles <paramref name="build"/>'s code at <paramref name="offset"/> of the executable view and writes it there.</summary>
    public AssemblerResult Emit(int offset, Action<Assembler> build)
    {
        var a = new Assembler(64);
        build(a);
        var (bytes, result) = CodeBuffer.Assemble(a, (ulong)Executable + (ulong)offset);
        Write(offset, bytes);
        return result;
    }

    /// <summary>
    /// Makes the region executable: an anonymous fallback region is flipped RW→RX with mprotect; a memfd region
    /// loses its writable alias unless <paramref name="keepWritableAlias"/> (a patchable region).
    /// </summary>
    public void Seal(bool keepWritableAlias)
    {
        if (_anonymousNotYetExecutable)
        {
            if (Libc.Mprotect(_writable, _length, Libc.PROT_READ | Libc.PROT_EXEC) != 0)
                throw new NativeLabException($"mprotect(PROT_READ|PROT_EXEC) failed: {Libc.LastError()}");
            _anonymousNotYetExecutable = false;
            _writable = 0;
            return;
        }

        if (!keepWritableAlias && _writable != 0)
        {
            Libc.Munmap(_writable, _length);
            _writable = 0;
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_writable != 0 && _writable != Executable)
            Libc.Munmap(_writable, _length);
        Libc.Munmap(Executable, _length);
        _writable = 0;
    }
}

/// <summary>The host refused something the native lab needs (mapping, protection, affinity, membarrier).</summary>
public sealed class NativeLabException(string message) : Exception(message);
