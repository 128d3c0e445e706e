namespace Kernel.Sim.Bpf.Maps;

/// <summary>The errno values maps and helpers return (negated, as the kernel does), include/uapi/asm-generic/errno*.h.</summary>
public static class BpfErrno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int E2BIG = 7;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EOPNOTSUPP = 95;

    /// <summary>The kernel-internal ENOTSUPP (not EOPNOTSUPP), which some map operations return.</summary>
    public const int ENOTSUPP = 524;
}

/// <summary>Flags of bpf_map_update_elem (include/uapi/linux/bpf.h).</summary>
public static class BpfUpdateFlags
{
    /// <summary>Create a new element or update an existing one.</summary>
    public const ulong BPF_ANY = 0;

    /// <summary>Create a new element only if it did not exist.</summary>
    public const ulong BPF_NOEXIST = 1;

    /// <summary>Update an existing element only.</summary>
    public const ulong BPF_EXIST = 2;

    /// <summary>Update under the value's bpf_spin_lock (KernelSim values carry none: -EINVAL).</summary>
    public const ulong BPF_F_LOCK = 4;

    /// <summary>The check every map type starts with: anything above BPF_EXIST (BPF_F_LOCK aside) is -EINVAL.</summary>
    internal static long Check(ulong flags)
    {
        if ((flags & ~BPF_F_LOCK) > BPF_EXIST)
            return -BpfErrno.EINVAL;
        // BPF_F_LOCK needs a bpf_spin_lock in the value's BTF; KernelSim's maps have no value BTF.
        return (flags & BPF_F_LOCK) != 0 ? -BpfErrno.EINVAL : 0;
    }
}
