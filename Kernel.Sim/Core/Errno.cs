namespace Kernel.Sim.Core;

/// <summary>Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h); kernel APIs return them negated.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int E2BIG = 7;
    public const int ENOMEM = 12;
    public const int EFAULT = 14;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EILSEQ = 84;
    public const int EADDRNOTAVAIL = 99;

    /// <summary>strerror(3) text for the values above, as the shell prints a failed write.</summary>
    public static string Describe(int errno) => Math.Abs(errno) switch
    {
        EPERM => "Operation not permitted",
        ENOENT => "No such file or directory",
        E2BIG => "Argument list too long",
        ENOMEM => "Cannot allocate memory",
        EFAULT => "Bad address",
        EACCES => "Permission denied",
        EBUSY => "Device or resource busy",
        EEXIST => "File exists",
        EISDIR => "Is a directory",
        EINVAL => "Invalid argument",
        ENOSPC => "No space left on device",
        EILSEQ => "Invalid or incomplete multibyte or wide character",
        EADDRNOTAVAIL => "Cannot assign requested address",
        _ => $"Unknown error {Math.Abs(errno)}",
    };
}
