using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>What the host kernel did with a program of an object: its r0 and BPF_PROG_TEST_RUN's duration, or why it could not run it.</summary>
public sealed record HostRun(bool Ran, uint R0, uint DurationNs, int Runs, string? Note)
{
    public string ToText() => Ran
        ? string.Create(CultureInfo.InvariantCulture, $"host: r0 0x{R0:x}, {DurationNs} ns per run ({Runs} runs, BPF_PROG_TEST_RUN)")
        : "host: not run: " + Note;

    public string ToJson() => Ran
        ? string.Create(CultureInfo.InvariantCulture, $"{{\"r0\": \"0x{R0:x}\", \"ns_per_run\": {DurationNs}, \"runs\": {Runs}}}")
        : $"{{\"error\": \"{Note?.Replace("\"", "'", StringComparison.Ordinal)}\"}}";
}

/// <summary>
/// The object side of the host oracle: every map of the object created with BPF_MAP_CREATE (flags, global data
/// contents written with BPF_MAP_UPDATE_ELEM), the program and every program a prog array of the object holds
/// loaded with BPF_PROG_LOAD (map fds patched in, the object's license), prog arrays filled, then
/// BPF_PROG_TEST_RUN with the packet as data_in and the context as ctx_in. Nothing is attached; every fd is closed.
/// </summary>
public static unsafe partial class HostBpf
{
    private const int BpfMapUpdateElem = 2;
    private const int BpfProgTestRun = 10;
    private const int BpfObjGetInfoByFd = 15;

    /// <summary>Runs <paramref name="program"/> of <paramref name="obj"/> on the host; refusals come back as a note, never an exception.</summary>
    public static HostRun RunObject(BpfObject obj, BpfProgramSpec program, byte[] ctx, byte[] packet, int repeat) =>
        WithObjectLoaded(obj, program, fd => TestRun(fd, ctx, packet, repeat));

    /// <summary>
    /// The tag the host kernel gives <paramref name="program"/> once loaded (BPF_OBJ_GET_INFO_BY_FD's
    /// bpf_prog_info.tag, hex), or null with the reason in <paramref name="note"/>.
    /// </summary>
    public static string? ProgramTag(BpfObject obj, BpfProgramSpec program, out string? note)
    {
        string? tag = null;
        var run = WithObjectLoaded(obj, program, fd =>
        {
            var info = stackalloc byte[256];
            new Span<byte>(info, 256).Clear();
            var attr = stackalloc byte[16];
            *(uint*)attr = (uint)fd;
            *(uint*)(attr + 4) = 256;
            *(ulong*)(attr + 8) = (ulong)info;
            if (Syscall(SysBpf, BpfObjGetInfoByFd, attr, 16) < 0)
                return new HostRun(false, 0, 0, 0, $"BPF_OBJ_GET_INFO_BY_FD failed: errno {Marshal.GetLastPInvokeError()}");
            tag = Convert.ToHexStringLower(new ReadOnlySpan<byte>(info + 8, 8));
            return new HostRun(true, 0, 0, 0, null);
        });
        note = run.Note;
        return tag;
    }

    private static HostRun WithObjectLoaded(BpfObject obj, BpfProgramSpec program, Func<int, HostRun> use)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(program);
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return new HostRun(false, 0, 0, 0, "the host comparison needs Linux on x86-64");
        if (program.LinuxType <= 0)
            return new HostRun(false, 0, 0, 0, $"program type '{program.TypeName}' has no Linux equivalent");
        var fds = new List<int>();
        try
        {
            var mapFds = new int[obj.Maps.Count];
            for (var i = 0; i < obj.Maps.Count; i++)
            {
                var m = obj.Maps[i];
                var max = m.Type == Kernel.Sim.Bpf.Maps.BpfMapType.PerfEventArray && m.MaxEntries == 0 ? (uint)Environment.ProcessorCount : m.MaxEntries;
                var fd = CreateMap((int)m.TypeId, (int)m.KeySize, (int)m.ValueSize, (int)max, m.Flags, out var errno);
                if (fd < 0)
                    return new HostRun(false, 0, 0, 0, $"BPF_MAP_CREATE for map '{m.Name}' failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
                fds.Add(fd);
                mapFds[i] = fd;
                if (m.InitialValue is { } value && UpdateElem(fd, 0, value, out errno) < 0)
                    return new HostRun(false, 0, 0, 0, $"BPF_MAP_UPDATE_ELEM for map '{m.Name}' failed: errno {errno}");
            }

            var progFds = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var name in obj.Maps.SelectMany(m => m.InitialPrograms.Values).Append(program.Name).Distinct())
            {
                var spec = obj.Programs.First(p => p.Name == name);
                var code = spec.Instructions.ToArray();
                foreach (var r in spec.MapReferences)
                    code[r.InsnIndex] = new Instruction(code[r.InsnIndex].Opcode, code[r.InsnIndex].Dst, code[r.InsnIndex].Src, code[r.InsnIndex].Offset, mapFds[r.MapIndex]);
                var fd = LoadForRun(code, spec.LinuxType, obj.License, out var errno, out var log);
                if (fd < 0)
                {
                    var reason = errno is 1 or 38 ? "the host refused to load BPF programs" : "the host verifier rejected it";
                    return new HostRun(false, 0, 0, 0, $"BPF_PROG_LOAD of '{name}' failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}): {reason}{(log.Length > 0 ? ": " + LastLine(log) : "")}");
                }

                fds.Add(fd);
                progFds[name] = fd;
            }

            for (var i = 0; i < obj.Maps.Count; i++)
            {
                foreach (var (slot, name) in obj.Maps[i].InitialPrograms)
                {
                    if (UpdateElem(mapFds[i], (uint)slot, BitConverter.GetBytes(progFds[name]), out var errno) < 0)
                        return new HostRun(false, 0, 0, 0, $"prog array '{obj.Maps[i].Name}' slot {slot}: BPF_MAP_UPDATE_ELEM failed: errno {errno}");
                }
            }

            return use(progFds[program.Name]);
        }
        finally
        {
            foreach (var fd in fds)
                Close(fd);
        }
    }

    private static string LastLine(string log) => log.TrimEnd().Split('\n')[^1];

    private static int CreateMap(int type, int keySize, int valueSize, int maxEntries, uint flags, out int errno)
    {
        var attr = stackalloc byte[128];
        new Span<byte>(attr, 128).Clear();
        ((uint*)attr)[0] = (uint)type;
        ((uint*)attr)[1] = (uint)keySize;
        ((uint*)attr)[2] = (uint)valueSize;
        ((uint*)attr)[3] = (uint)maxEntries;
        ((uint*)attr)[4] = flags;
        var fd = Syscall(SysBpf, BpfMapCreate, attr, 128);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)fd;
    }

    private static long UpdateElem(int mapFd, uint key, byte[] value, out int errno)
    {
        var attr = stackalloc byte[32];
        new Span<byte>(attr, 32).Clear();
        fixed (byte* v = value)
        {
            *(uint*)attr = (uint)mapFd;
            *(ulong*)(attr + 8) = (ulong)&key;
            *(ulong*)(attr + 16) = (ulong)v;
            var rc = Syscall(SysBpf, BpfMapUpdateElem, attr, 32);
            errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
            return rc;
        }
    }

    private static int LoadForRun(Instruction[] program, int progType, string license, out int errno, out string log)
    {
        var code = Instruction.WriteAll(program);
        var lic = Encoding.ASCII.GetBytes(license + "\0");
        var logBuf = new byte[1 << 20];
        fixed (byte* codePtr = code)
        fixed (byte* licensePtr = lic)
        fixed (byte* logPtr = logBuf)
        {
            var attr = stackalloc byte[160];
            new Span<byte>(attr, 160).Clear();
            *(uint*)(attr + 0) = (uint)progType;
            *(uint*)(attr + 4) = (uint)program.Length;
            *(ulong*)(attr + 8) = (ulong)codePtr;
            *(ulong*)(attr + 16) = (ulong)licensePtr;
            *(uint*)(attr + 24) = 1;
            *(uint*)(attr + 28) = (uint)logBuf.Length;
            *(ulong*)(attr + 32) = (ulong)logPtr;
            var fd = Syscall(SysBpf, BpfProgLoad, attr, 160);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            var len = Array.IndexOf(logBuf, (byte)0);
            log = Encoding.UTF8.GetString(logBuf, 0, len < 0 ? logBuf.Length : len);
            return (int)fd;
        }
    }

    private static HostRun TestRun(int progFd, byte[] ctx, byte[] packet, int repeat)
    {
        var dataOut = new byte[packet.Length + 512];
        fixed (byte* dataIn = packet)
        fixed (byte* ctxIn = ctx)
        fixed (byte* outPtr = dataOut)
        {
            // union bpf_attr, test: prog_fd, retval, data_size_in, data_size_out, data_in, data_out, repeat,
            // duration, ctx_size_in, ctx_size_out, ctx_in, ctx_out, flags, cpu, batch_size.
            var attr = stackalloc byte[80];
            new Span<byte>(attr, 80).Clear();
            *(uint*)(attr + 0) = (uint)progFd;
            *(uint*)(attr + 8) = (uint)packet.Length;
            *(uint*)(attr + 12) = packet.Length == 0 ? 0u : (uint)dataOut.Length;
            *(ulong*)(attr + 16) = packet.Length == 0 ? 0 : (ulong)dataIn;
            *(ulong*)(attr + 24) = packet.Length == 0 ? 0 : (ulong)outPtr;
            *(uint*)(attr + 32) = (uint)repeat;
            *(uint*)(attr + 40) = (uint)ctx.Length;
            *(ulong*)(attr + 48) = ctx.Length == 0 ? 0 : (ulong)ctxIn;
            var rc = Syscall(SysBpf, BpfProgTestRun, attr, 80);
            if (rc < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                var why = errno == 524 ? "the host kernel has no BPF_PROG_TEST_RUN for this program type (ENOTSUPP)" : Marshal.GetPInvokeErrorMessage(errno);
                return new HostRun(false, 0, 0, 0, $"BPF_PROG_TEST_RUN failed: errno {errno} ({why})");
            }

            return new HostRun(true, *(uint*)(attr + 4), *(uint*)(attr + 36), repeat, null);
        }
    }
}
