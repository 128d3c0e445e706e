namespace Kernel.Sim.Native;

/// <summary>
/// Pins the calling OS thread to the CPU it is on (sched_setaffinity on tid 0 = the caller) and restores its
/// previous affinity on dispose, so a measurement never migrates between cores mid-run. Failure to pin is not
/// fatal (a container may forbid it); <see cref="Pinned"/> says what happened.
/// </summary>
internal sealed unsafe class ThreadPinning : IDisposable
{
    // glibc's cpu_set_t: 1024 bits.
    private const int CpuSetBytes = 128;
    private readonly byte[] _previous = new byte[CpuSetBytes];
    private readonly bool _restore;

    public ThreadPinning()
    {
        Thread.BeginThreadAffinity();
        Cpu = Libc.SchedGetcpu();
        fixed (byte* previous = _previous)
        {
            if (Cpu < 0 || Libc.SchedGetaffinity(0, CpuSetBytes, previous) != 0)
                return;
            _restore = true;
            var mask = stackalloc byte[CpuSetBytes];
            new Span<byte>(mask, CpuSetBytes).Clear();
            mask[Cpu / 8] = (byte)(1 << (Cpu % 8));
            Pinned = Libc.SchedSetaffinity(0, CpuSetBytes, mask) == 0;
        }
    }

    /// <summary>The CPU the thread runs on.</summary>
    public int Cpu { get; }

    /// <summary>True when the thread is pinned to <see cref="Cpu"/>.</summary>
    public bool Pinned { get; }

    /// <summary>
    /// Moves the calling thread (typically one started while this pinning was in force, which inherited it) onto
    /// the other CPUs of the previous mask; false when there is no other CPU or the kernel refused.
    /// </summary>
    public bool MoveCallerToOtherCpus()
    {
        if (!_restore)
            return false;
        var mask = stackalloc byte[CpuSetBytes];
        var any = false;
        for (var i = 0; i < CpuSetBytes; i++)
        {
            mask[i] = i == Cpu / 8 ? (byte)(_previous[i] & ~(1 << (Cpu % 8))) : _previous[i];
            any |= mask[i] != 0;
        }

        return any && Libc.SchedSetaffinity(0, CpuSetBytes, mask) == 0;
    }

    public void Dispose()
    {
        if (_restore)
        {
            fixed (byte* previous = _previous)
                Libc.SchedSetaffinity(0, CpuSetBytes, previous);
        }

        Thread.EndThreadAffinity();
    }
}
