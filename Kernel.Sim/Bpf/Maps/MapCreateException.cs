namespace Kernel.Sim.Bpf.Maps;

/// <summary>BPF_MAP_CREATE refused: the errno the kernel would return and why.</summary>
public sealed class MapCreateException : Exception
{
    public MapCreateException(int errno, string message)
        : base($"{message} ({(errno == -BpfErrno.EINVAL ? "-EINVAL" : errno.ToString(System.Globalization.CultureInfo.InvariantCulture))})") => Errno = errno;

    public MapCreateException()
    {
    }

    public MapCreateException(string message)
        : base(message)
    {
    }

    public MapCreateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The negative errno (-EINVAL, -E2BIG...).</summary>
    public int Errno { get; }
}
